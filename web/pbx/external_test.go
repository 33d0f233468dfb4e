package pbx

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

const adminKey = "demo-key-alice-6f1c2a9e" // alice has "admin": "company"

func externalReq(authBody string) req {
	return req{path: PathExternal, body: authBody, header: map[string]string{"Authorization": "token auth=" + adminKey}}
}

// createExternal makes an external user with alice's key and returns its login.
func (e *env) createExternal(name string, autodelete bool) wire.User {
	e.t.Helper()
	ad := "false"
	if autodelete {
		ad = "true"
	}
	r := e.doWith(e.srv.Client(), externalReq(`{"auth":{"type":"external","name":"`+name+`","autodelete":`+ad+`}}`))
	require.Equal(e.t, http.StatusOK, r.status, "body %s", r.raw)
	return *r.body.User
}

func TestCreateExternal(t *testing.T) {
	e := newEnv(t, nil)
	r := e.doWith(e.srv.Client(), externalReq(`{"auth":{"type":"external","name":"  Guest Name  "}}`))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	m := r.keys(t)
	assert.ElementsMatch(t, []string{"result", "user"}, mapKeys(m))
	user := m["user"].(map[string]any)
	assert.ElementsMatch(t, []string{"id", "login", "name", "company", "home", "perms"}, mapKeys(user), "no session: nobody logged in")
	assert.Regexp(t, `^ext-[0-9a-f]{32}$`, user["login"])
	assert.Equal(t, "Guest Name", user["name"])
	assert.Equal(t, "default", user["company"], "the creator's company")
	assert.Equal(t, "default", user["home"])
	assert.Equal(t, map[string]any{"chat": "yes"}, user["perms"])
	assert.Greater(t, user["id"], float64(103), "above the directory's ids")
	assert.Empty(t, r.header.Values("Set-Cookie"))
	assert.Zero(t, e.sessions.Len())
	assert.Equal(t, 1, e.externals.Len())

	// The key in the body works too, and a sub-ID is ignored as for every key call.
	r = e.doWith(e.srv.Client(), req{path: PathExternal, query: "subid=x", body: `{"auth":{"type":"external","name":"Other","key":"` + adminKey + `"}}`})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.NotEqual(t, user["login"], r.body.User.Login)
}

func TestCreateExternalErrors(t *testing.T) {
	us, err := users.Load(strings.NewReader(`[
		{"id": 1, "login": "admin", "password": "pw", "home": "h", "perms": {"admin": "yes"}, "keys": ["admin-key"]},
		{"id": 2, "login": "plain", "password": "pw", "home": "h", "perms": {"chat": "yes"}, "keys": ["plain-key"]}]`))
	require.NoError(t, err)
	e := newEnv(t, func(c *Config) { c.Users = users.NewDirectory(us) })
	plainKey := map[string]string{"Authorization": "token auth=plain-key"}
	adminHeader := map[string]string{"Authorization": "token auth=admin-key"}
	tests := []struct {
		name    string
		req     req
		status  int
		code    string
		message string
	}{
		{"no key", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G"}}`}, 401, wire.CodeLoginRequired, "API key"},
		{"unknown key", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G","key":"nope"}}`}, 401, wire.CodeAuthFailed, "unknown API key"},
		{"not an admin", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G"}}`, header: plainKey}, 403, wire.CodeForbidden, `"admin" permission`},
		{"no name", req{path: PathExternal, body: `{"auth":{"type":"external"}}`, header: adminHeader}, 400, wire.CodeBadRequest, `"name"`},
		{"blank name", req{path: PathExternal, body: `{"auth":{"type":"external","name":" \t"}}`, header: adminHeader}, 400, wire.CodeBadRequest, `"name"`},
		{"long name", req{path: PathExternal, body: `{"auth":{"type":"external","name":"` + strings.Repeat("é", maxExternalName+1) + `"}}`, header: adminHeader},
			400, wire.CodeBadRequest, "at most 100"},
		{"wrong type", req{path: PathExternal, body: `{"auth":{"type":"auth","name":"G"}}`, header: adminHeader}, 400, wire.CodeBadRequest, `"type": "external"`},
		{"unknown field", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G","password":"x"}}`, header: adminHeader},
			400, wire.CodeBadRequest, `unknown field "password"`},
		{"autodelete a string", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G","autodelete":"yes"}}`, header: adminHeader},
			400, wire.CodeBadRequest, `field "auth.autodelete": want true or false`},
		{"GET", req{method: http.MethodGet, path: PathExternal, header: adminHeader}, 405, wire.CodeMethodNotAllowed, ""},
		{"two keys", req{path: PathExternal, body: `{"auth":{"type":"external","name":"G","key":"plain-key"}}`, header: adminHeader},
			400, wire.CodeBadRequest, "differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(e.srv.Client(), tt.req)
			assert.Equal(t, tt.status, r.status, "body %s", r.raw)
			assert.Equal(t, tt.code, r.code())
			assert.Contains(t, r.body.Error.Message, tt.message)
		})
	}
	t.Run("a session is not enough", func(t *testing.T) {
		require.Equal(t, http.StatusOK, e.login("admin", "pw", "").status)
		r := e.do(req{path: PathExternal, body: `{"auth":{"type":"external","name":"G"}}`})
		assert.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
	})
	assert.Zero(t, e.externals.Len())
}

// TestExternalLife: an external user logs in with any non-blank password,
// may use chat-related calls but not select a company, logs out, can never
// log in again, and is deleted a minute later.
func TestExternalLife(t *testing.T) {
	e := newEnv(t, nil)
	ext := e.createExternal("Visitor", true)

	r := e.login(ext.Login, " ", "")
	assert.Equal(t, http.StatusBadRequest, r.status, "blank passwords are refused for everyone")
	r = e.login(ext.Login, "dummy", "")
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, ext.ID, r.body.User.ID)
	assert.Equal(t, "Visitor", r.body.User.Name)
	assert.Equal(t, map[string]string{"chat": "yes"}, r.body.User.Perms)
	tok := e.tokenOf(r)

	assert.Equal(t, ext.Login, e.do(checkReq("")).body.User.Login)
	assert.Equal(t, http.StatusOK, e.do(req{path: wire.PathCleanup, body: `{"auth":{"type":"cleanup"}}`}).status)
	assert.Equal(t, http.StatusOK, e.do(req{path: wire.PathRTCReset, body: `{"auth":{"type":"rtcreset","getnew":true}}`}).status)
	co := e.do(req{path: wire.PathCompany, body: `{"auth":{"type":"company","company":"default"}}`})
	assert.Equal(t, http.StatusForbidden, co.status, "body %s", co.raw)
	assert.Equal(t, wire.CodeForbidden, co.code())
	assert.Equal(t, "external users may only use chat, AV and file calls", co.body.Error.Message)

	require.Equal(t, http.StatusOK, e.do(logoutReq("")).status)
	again := e.login(ext.Login, "dummy", "")
	assert.Equal(t, http.StatusUnauthorized, again.status)
	assert.Equal(t, wire.CodeAuthFailed, again.code())
	assert.Contains(t, again.body.Error.Message, "used up")
	assert.Equal(t, wire.CodeAuthFailed, e.do(tokenLoginReq(tok.Value, "")).code(), "the token went at logout")

	e.clock.Add(users.ExternalAfterEnd)
	gone := e.login(ext.Login, "dummy", "")
	assert.Equal(t, http.StatusUnauthorized, gone.status)
	assert.Equal(t, "wrong username or password", gone.body.Error.Message, "deleted a minute after logout")
	assert.Zero(t, e.externals.Len())
}

func TestExternalUnusedFor15Minutes(t *testing.T) {
	e := newEnv(t, nil)
	late := e.createExternal("Late", true)
	e.clock.Add(5 * time.Minute)
	early := e.createExternal("Early", true)
	e.clock.Add(users.ExternalUnusedLife - 5*time.Minute)

	r := e.login(late.Login, "dummy", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "wrong username or password", r.body.Error.Message)
	r = e.doWith(e.srv.Client(), loginReq(early.Login, "dummy", ""))
	require.Equal(t, http.StatusOK, r.status, "10 minutes old: alive")
	e.clock.Add(time.Hour)
	e.server.Sweep()
	assert.Equal(t, 1, e.externals.Len(), "a user in a session is kept")
}

// TestExternalSingleUse: a session of an external user that ends any way,
// not only by logout, uses it up; while a session lasts, a token login from
// another tab still works.
func TestExternalSingleUse(t *testing.T) {
	t.Run("idle timeout", func(t *testing.T) {
		e := newEnv(t, nil)
		ext := e.createExternal("Idle", false)
		require.Equal(t, http.StatusOK, e.login(ext.Login, "dummy", "").status)
		e.clock.Add(store.DefaultIdleTimeout)
		require.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code())
		r := e.login(ext.Login, "dummy", "")
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Contains(t, r.body.Error.Message, "used up")
		e.clock.Add(day)
		r = e.login(ext.Login, "dummy", "")
		assert.Contains(t, r.body.Error.Message, "used up", "without autodelete it stays, used up")
	})
	t.Run("token death", func(t *testing.T) {
		e := newEnv(t, nil)
		ext := e.createExternal("Token", true)
		tok := e.tokenOf(e.login(ext.Login, "dummy", ""))
		e.tokens.Revoke(tok.Value) // as its expiry would
		require.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code())
		assert.Contains(t, e.login(ext.Login, "dummy", "").body.Error.Message, "used up")
	})
	t.Run("swept", func(t *testing.T) {
		e := newEnv(t, nil)
		ext := e.createExternal("Swept", true)
		require.Equal(t, http.StatusOK, e.login(ext.Login, "dummy", "").status)
		e.clock.Add(store.DefaultIdleTimeout)
		e.server.Sweep()
		e.clock.Add(users.ExternalAfterEnd)
		e.server.Sweep()
		assert.Zero(t, e.externals.Len(), "ended by the sweep, deleted a minute later")
	})
	t.Run("second tab while the first lasts", func(t *testing.T) {
		e := newEnv(t, nil)
		ext := e.createExternal("Tabs", true)
		tok := e.tokenOf(e.login(ext.Login, "dummy", ""))
		r := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab2"))
		require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
		assert.Equal(t, ext.Login, r.body.User.Login)
	})
	t.Run("user deleted under its token", func(t *testing.T) {
		e := newEnv(t, nil)
		ext := e.createExternal("Deleted", true)
		tok := e.tokenOf(e.login(ext.Login, "dummy", ""))
		// A second login without a token, which ends alone at its logout.
		other := e.doWith(e.srv.Client(), req{path: wire.PathLogin, query: "subid=tab2",
			body: body(wire.Auth{Type: wire.TypeAuth, Username: ext.Login, Password: "dummy", NoToken: true})})
		require.Equal(t, http.StatusOK, other.status, "body %s", other.raw)
		require.Equal(t, http.StatusOK, e.doWith(e.srv.Client(), withSession(logoutReq("tab2"), other.body.User.Session)).status)
		require.True(t, e.tokens.Alive(tok.Value))
		e.clock.Add(users.ExternalAfterEnd)

		r := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab3"))
		assert.Equal(t, wire.CodeAuthFailed, r.code())
		assert.Contains(t, r.body.Error.Message, "no longer exists")
		assert.False(t, e.tokens.Alive(tok.Value), "the token of a deleted user is revoked")
		assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code(), "its sessions are gone")
	})
}

func TestTestClock(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		e := newEnv(t, nil)
		r := e.do(req{path: testclock.Path, body: `{"advance":"25h"}`})
		assert.Equal(t, http.StatusNotFound, r.status)
	})
	t.Run("on", func(t *testing.T) {
		clk := testclock.New()
		e := newEnv(t, func(c *Config) {
			c.Now = nil
			c.TestClock = clk
		})
		tok := e.tokenOf(e.login("alice", "wonderland", ""))
		require.Equal(t, http.StatusOK, e.do(checkReq("")).status)

		before := clk.Now()
		r := e.do(req{path: testclock.Path, body: `{"advance":"25h"}`})
		require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
		now := int64(r.keys(t)["now"].(float64))
		assert.GreaterOrEqual(t, now, before.Add(25*time.Hour).UnixMilli())

		assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code(), "the session runs on the test clock")
		assert.Equal(t, wire.CodeAuthFailed, e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "")).code(), "so does the token")

		ext := e.createExternal("Guest", true)
		e.do(req{path: testclock.Path, body: `{"advance":"15m"}`})
		assert.Equal(t, http.StatusUnauthorized, e.login(ext.Login, "dummy", "").status, "and the external users")

		bad := e.do(req{path: testclock.Path, body: `{"advance":"-1h"}`})
		assert.Equal(t, http.StatusBadRequest, bad.status)
		untrusted := e.do(from(req{path: testclock.Path, body: `{}`}, "https://evil.example"))
		assert.Equal(t, http.StatusForbidden, untrusted.status)
		trusted := e.do(from(req{path: testclock.Path, body: `{}`}, "http://localhost:3000"))
		assert.Equal(t, http.StatusOK, trusted.status)
		assert.Equal(t, "http://localhost:3000", trusted.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, http.StatusMisdirectedRequest, e.do(req{path: testclock.Path, host: "evil.example", body: `{}`}).status)
	})
}
