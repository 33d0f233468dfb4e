package pbx

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/wire"
	"github.com/pbxauth/pbxauth/web/session"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.login("alice", "wonderland", "")
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	// The exact shape of the vendor's reply.
	m := r.keys(t)
	assert.Len(t, m, 2)
	assert.Equal(t, "success", m["result"])
	user, ok := m["user"].(map[string]any)
	require.True(t, ok, "user is an object: %s", r.raw)
	assert.ElementsMatch(t, []string{"id", "login", "name", "company", "home", "session", "perms"}, mapKeys(user))
	assert.Equal(t, float64(101), user["id"], "id is a JSON number")
	assert.Equal(t, "alice", user["login"])
	assert.Equal(t, "Alice Example", user["name"])
	assert.Equal(t, "default", user["company"])
	assert.Equal(t, "default", user["home"])
	assert.Equal(t, map[string]any{"chat": "yes", "admin": "company"}, user["perms"])

	cookies := r.cookies()
	require.Len(t, cookies, 1)
	ck := cookies[0]
	assert.Equal(t, wire.CookieName, ck.Name)
	assert.Equal(t, user["session"], ck.Value)
	assert.True(t, ck.HttpOnly)
	assert.Equal(t, "/", ck.Path)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.False(t, ck.Secure, "browsers refuse Secure cookies over http")

	ss := e.sessionOf(r)
	assert.Equal(t, int64(101), ss.UserID)
	assert.True(t, ss.ChatOnline)
	assert.NotEmpty(t, ss.PhonePassword)
}

func TestLoginOverTLS(t *testing.T) {
	e := newEnv(t, nil)
	tlsSrv := newTLSServer(t, e)
	r := e.doWith(newClient(t, tlsSrv.Client()), req{path: wire.PathLogin, body: loginReq("bob", "builder", "").body, base: tlsSrv.URL})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	ck := r.cookies()[0]
	assert.True(t, ck.Secure)
	assert.Equal(t, http.SameSiteNoneMode, ck.SameSite, "cross-site pages need SameSite=None")
	assert.True(t, ck.HttpOnly)
}

func TestLoginStartsFreshSession(t *testing.T) {
	e := newEnv(t, nil)
	first := e.login("alice", "wonderland", "")
	second := e.login("bob", "builder", "")
	require.Equal(t, http.StatusOK, second.status)
	assert.NotEqual(t, first.body.User.Session, second.body.User.Session)
	_, ok := e.sessions.Get(first.body.User.Session)
	assert.False(t, ok, "the session the cookie carried ends at the next login")
	assert.Equal(t, 1, e.sessions.Len())
	assert.Equal(t, "bob", e.do(checkReq("")).body.User.Login)
}

func TestCheck(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(checkReq(""))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, wire.CodeLoginRequired, r.code())

	e.login("carol", "carolpass", "")
	r = e.do(checkReq(""))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	user := r.keys(t)["user"].(map[string]any)
	assert.NotContains(t, user, "session", "only the reply that sets the cookie carries the session")
	assert.Equal(t, float64(103), user["id"])
	assert.Equal(t, "acme", user["company"])
	assert.Empty(t, r.cookies(), "a check sets no cookie")
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	login := e.login("alice", "wonderland", "")
	r := e.do(req{path: wire.PathLogout, body: `{"auth":{"type":"auth"}}`})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, map[string]any{"result": "success"}, r.keys(t))
	ck := r.cookies()[0]
	assert.Equal(t, wire.CookieName, ck.Name)
	assert.Negative(t, ck.MaxAge, "the cookie is expired")
	assert.True(t, ck.HttpOnly)

	_, ok := e.sessions.Get(login.body.User.Session)
	assert.False(t, ok)
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code())

	// Once more, with no session at all: still a success.
	r = e.do(req{path: wire.PathLogout, body: `{"auth":{"type":"auth"}}`})
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, wire.ResultSuccess, r.body.Result)
}

func TestLogoutUnderSubID(t *testing.T) {
	e := newEnv(t, nil)
	e.login("alice", "wonderland", "")
	e.login("bob", "builder", "tab2")
	r := e.do(req{path: wire.PathLogout, query: "subid=tab2", body: `{"auth":{"type":"auth"}}`})
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, wire.SessionCookie("tab2"), r.cookies()[0].Name)
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("tab2")).code())
	assert.Equal(t, "alice", e.do(checkReq("")).body.User.Login, "the login without sub-ID stays")
}

func TestSubIDs(t *testing.T) {
	e := newEnv(t, nil)
	require.Equal(t, http.StatusOK, e.login("alice", "wonderland", "tabA").status)
	require.Equal(t, http.StatusOK, e.login("bob", "builder", "tabB").status)
	require.Equal(t, http.StatusOK, e.login("carol", "carolpass", "").status)

	for sub, want := range map[string]string{"tabA": "alice", "tabB": "bob", "": "carol"} {
		r := e.do(checkReq(sub))
		require.Equal(t, http.StatusOK, r.status, "sub-ID %q: %s", sub, r.raw)
		assert.Equal(t, want, r.body.User.Login, "sub-ID %q", sub)
	}
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("tabC")).code(), "an unused sub-ID has no login")

	// A second tab of the same browser (same jar) without a sub-ID shares the login.
	other := *e.client
	assert.Equal(t, "carol", e.doWith(&other, checkReq("")).body.User.Login)

	// One sub-ID's session id sent in another sub-ID's cookie does not count.
	tabA := e.cookieOf("tabA")
	r := e.doWith(e.srv.Client(), req{path: wire.PathLogin, query: "subid=tabB", body: `{"auth":{"type":"auth"}}`,
		header: map[string]string{"Cookie": wire.SessionCookie("tabB") + "=" + tabA}})
	assert.Equal(t, wire.CodeLoginRequired, r.code())
}

func TestAPIKey(t *testing.T) {
	const key = "demo-key-alice-6f1c2a9e"
	tests := []struct {
		name   string
		req    req
		status int
		code   string
		login  string
	}{
		{"key in body", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"` + key + `"}}`}, 200, "", "alice"},
		{"key in header", req{path: wire.PathLogin, body: `{"auth":{"type":"auth"}}`,
			header: map[string]string{"Authorization": "token auth=" + key}}, 200, "", "alice"},
		{"same key in both", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"` + key + `"}}`,
			header: map[string]string{"Authorization": "token auth=" + key}}, 200, "", "alice"},
		{"key with sub-ID", req{path: wire.PathLogin, query: "subid=x", body: `{"auth":{"type":"auth","key":"` + key + `"}}`}, 200, "", "alice"},
		{"company by key", req{path: wire.PathCompany, body: `{"auth":{"type":"company","company":"acme","key":"` + key + `"}}`}, 200, "", "alice"},
		{"forbidden company by key", req{path: wire.PathCompany, body: `{"auth":{"type":"company","company":"other","key":"` + key + `"}}`}, 403, wire.CodeForbidden, ""},
		{"cleanup by key", req{path: wire.PathCleanup, body: `{"auth":{"type":"cleanup","key":"` + key + `"}}`}, 200, "", ""},
		{"unknown key in body", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"nope"}}`}, 401, wire.CodeAuthFailed, ""},
		{"unknown key in header", req{path: wire.PathLogin, body: `{"auth":{"type":"auth"}}`,
			header: map[string]string{"Authorization": "token auth=nope"}}, 401, wire.CodeAuthFailed, ""},
		{"keys differ", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"` + key + `"}}`,
			header: map[string]string{"Authorization": "token auth=other"}}, 400, wire.CodeBadRequest, ""},
		{"key and password", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"` + key + `","username":"alice","password":"wonderland"}}`}, 400, wire.CodeBadRequest, ""},
		{"other authorization scheme", req{path: wire.PathLogin, body: `{"auth":{"type":"auth"}}`,
			header: map[string]string{"Authorization": "Bearer " + key}}, 401, wire.CodeLoginRequired, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.do(tt.req)
			assert.Equal(t, tt.status, r.status, "body %s", r.raw)
			assert.Equal(t, tt.code, r.code())
			assert.Empty(t, r.header.Values("Set-Cookie"), "API keys are stateless")
			assert.Zero(t, e.sessions.Len())
			if tt.login != "" {
				require.NotNil(t, r.body.User)
				assert.Equal(t, tt.login, r.body.User.Login)
				assert.Empty(t, r.body.User.Session)
			}
		})
	}
}

func TestAPIKeyRTCReset(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{path: wire.PathRTCReset, body: `{"auth":{"type":"rtcreset","getnew":true}}`,
		header: map[string]string{"Authorization": "token auth=demo-key-alice-6f1c2a9e"}})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.NotEmpty(t, r.body.Password)
	assert.Empty(t, r.header.Values("Set-Cookie"))
}

func TestAPIKeyDoesNotLogOut(t *testing.T) {
	e := newEnv(t, nil)
	e.login("bob", "builder", "")
	r := e.do(req{path: wire.PathLogout, body: `{"auth":{"type":"auth","key":"demo-key-alice-6f1c2a9e"}}`})
	require.Equal(t, http.StatusOK, r.status)
	assert.Zero(t, e.sessions.Len(), "logout ends the cookie's session whatever the key")
}

func TestCompany(t *testing.T) {
	e := newEnv(t, nil)
	companyReq := func(c string) req {
		return req{path: wire.PathCompany, body: body(wire.Auth{Type: wire.TypeCompany, Company: c})}
	}
	r := e.do(companyReq("acme"))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, wire.CodeLoginRequired, r.code())

	login := e.login("alice", "wonderland", "")
	r = e.do(companyReq("acme"))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	user := r.keys(t)["user"].(map[string]any)
	assert.Equal(t, "acme", user["company"])
	assert.Equal(t, "default", user["home"])
	assert.NotContains(t, user, "session")
	assert.Equal(t, "acme", e.do(checkReq("")).body.User.Company, "the session keeps the company")
	assert.Equal(t, "acme", e.sessionOf(login).Company)

	r = e.do(companyReq("default"))
	assert.Equal(t, http.StatusOK, r.status, "the home company is always allowed")

	r = e.do(companyReq("globex"))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, wire.CodeForbidden, r.code())
	assert.Equal(t, "default", e.do(checkReq("")).body.User.Company, "a refused selection changes nothing")

	r = e.do(companyReq(""))
	assert.Equal(t, http.StatusBadRequest, r.status)

	e.login("bob", "builder", "")
	r = e.do(companyReq("acme"))
	assert.Equal(t, http.StatusForbidden, r.status, "bob may not select acme")
}

func TestCleanup(t *testing.T) {
	e := newEnv(t, nil)
	login := e.login("alice", "wonderland", "")
	r := e.do(req{path: wire.PathCleanup, body: `{"auth":{"type":"cleanup"}}`})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, map[string]any{"result": "success"}, r.keys(t))
	ss := e.sessionOf(login)
	assert.False(t, ss.ChatOnline)
	assert.Empty(t, ss.PhonePassword, "the phone password is released")
	assert.Equal(t, http.StatusOK, e.do(checkReq("")).status, "the session stays")
}

func TestRTCReset(t *testing.T) {
	e := newEnv(t, nil)
	rtc := func(getNew bool) result {
		return e.do(req{path: wire.PathRTCReset, body: body(wire.Auth{Type: wire.TypeRTCReset, GetNew: getNew})})
	}
	r := rtc(true)
	assert.Equal(t, wire.CodeLoginRequired, r.code())

	login := e.login("alice", "wonderland", "")
	before := e.sessionOf(login).PhonePassword

	r = rtc(false)
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, map[string]any{"result": "success"}, r.keys(t), "no password without getnew")
	second := e.sessionOf(login).PhonePassword
	assert.NotEqual(t, before, second)

	r = rtc(true)
	require.Equal(t, http.StatusOK, r.status)
	assert.NotEmpty(t, r.body.Password)
	assert.NotEqual(t, second, r.body.Password)
	assert.Equal(t, e.sessionOf(login).PhonePassword, r.body.Password)

	e.do(req{path: wire.PathCleanup, body: `{"auth":{"type":"cleanup"}}`})
	require.Empty(t, e.sessionOf(login).PhonePassword)
	r = rtc(true)
	assert.NotEmpty(t, r.body.Password, "a released password can be reset")
	assert.Equal(t, e.sessionOf(login).PhonePassword, r.body.Password)
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, nil)
	e.login("alice", "wonderland", "")
	e.clock.Add(session.DefaultIdleTimeout - time.Minute)
	require.Equal(t, http.StatusOK, e.do(checkReq("")).status)
	e.clock.Add(session.DefaultIdleTimeout - time.Minute)
	require.Equal(t, http.StatusOK, e.do(checkReq("")).status, "use keeps a session alive")
	e.clock.Add(session.DefaultIdleTimeout)
	r := e.do(checkReq(""))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, wire.CodeLoginRequired, r.code())
}

func mapKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
