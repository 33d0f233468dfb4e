package pbx

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/testclock"
)

const vodiaAdmin = "admin:vodia-test"

// plainClient is a client without cookies, as an integrator's server or a
// client on another site, with a deadline.
var plainClient = &http.Client{Timeout: 10 * time.Second}

// pingKey is the key the systems tests sign Ping tokens with.
var pingKey = []byte(strings.Repeat("k", pingserver.KeySize))

// withSystems gives the server a Vodia admin and a known Ping key.
func withSystems(t *testing.T, more func(*Config)) func(*Config) {
	admin, err := vodiaserver.ParseAdmin(vodiaAdmin)
	require.NoError(t, err)
	return func(c *Config) {
		c.VodiaAdmin = admin
		c.PingKey = pingKey
		if more != nil {
			more(c)
		}
	}
}

func basicAuth(userPassword string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPassword))
}

// errorText is the "error" of a Vodia or Ping failure.
func errorText(t *testing.T, r result) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.raw, &e), "body %s", r.raw)
	return e.Error
}

func vodiaTempReq(body string) req {
	return req{path: vodiaserver.Path, body: body, other: true, header: map[string]string{"Authorization": basicAuth(vodiaAdmin)}}
}

func vodiaExchangeReq(id string) req {
	b, _ := json.Marshal(map[string]string{"name": "session", "value": id})
	return req{path: vodiaserver.Path, body: string(b), other: true}
}

// vodiaTemp asks for a temporary id, as an integrator's server does.
func (e *env) vodiaTemp(body string) string {
	e.t.Helper()
	r := e.doWith(plainClient, vodiaTempReq(body))
	require.Equal(e.t, http.StatusOK, r.status, "body %s", r.raw)
	var id string
	require.NoError(e.t, json.Unmarshal(r.raw, &id))
	return id
}

func pingReq(method, path, auth string) req {
	r := req{method: method, path: path, contentType: "-", other: true}
	if auth != "" {
		r.header = map[string]string{"Authorization": auth}
	}
	return r
}

// TestOneUserThreeSystems: a user's one password logs in on all three
// systems of the server.
func TestOneUserThreeSystems(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	require.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status)

	r := e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland")))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	me := e.do(pingReq(http.MethodGet, pingserver.PathExtensions+"me", ""))
	require.Equal(t, http.StatusOK, me.status, "body %s", me.raw)
	assert.Equal(t, "Alice Example", me.keys(t)["name"])
	assert.Equal(t, "default", me.keys(t)["domain"])

	u, ok := servertest.DemoUsers().ByLogin("alice")
	require.True(t, ok)
	tok, err := pingserver.Mint(pingKey, u, e.clock.Now(), time.Hour)
	require.NoError(t, err)
	list := e.doWith(plainClient, pingReq(http.MethodGet, pingserver.PathExtensions, "Bearer "+tok))
	require.Equal(t, http.StatusOK, list.status, "body %s", list.raw)
	assert.Contains(t, string(list.raw), `"extension":"41"`)

	x := e.do(vodiaExchangeReq(e.vodiaTemp(`{"name":"3rd","username":"40","domain":"default"}`)))
	require.Equal(t, http.StatusOK, x.status, "body %s", x.raw)
	got := e.do(req{method: http.MethodGet, path: vodiaserver.Path, contentType: "-", other: true})
	require.Equal(t, http.StatusOK, got.status)
	assert.JSONEq(t, `{"type":"user","domain":"default","username":"40","name":"Alice Example"}`, string(got.raw))

	names := map[string]bool{}
	for _, ck := range e.cookies() {
		names[ck.Name] = true
	}
	assert.Equal(t, map[string]bool{wire.CookieName: true, pingserver.CookieName: true, vodiaserver.CookieName: true}, names,
		"one cookie per system, side by side")
}

// TestOtherSystemsHosts: the Host check guards Vodia's and Ping's paths
// too, and answers in their format.
func TestOtherSystemsHosts(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	u, err := url.Parse(e.srv.URL)
	require.NoError(t, err)
	evil := "evil.example:" + u.Port()
	for name, r := range map[string]req{
		"vodia temp":   vodiaTempReq(`{"name":"3rd","domain":"default"}`),
		"ping login":   pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland")),
		"ping me":      pingReq(http.MethodGet, pingserver.PathExtensions+"me", ""),
		"ping logout":  pingReq(http.MethodPost, pingserver.PathLogout, ""),
		"ping unknown": pingReq(http.MethodGet, "/auth/other", ""),
	} {
		t.Run(name, func(t *testing.T) {
			r.host = evil
			r.header = map[string]string{"Origin": "http://" + evil}
			got := e.do(r)
			assert.Equal(t, http.StatusMisdirectedRequest, got.status, "body %s", got.raw)
			assert.Equal(t, "application/json", got.header.Get("Content-Type"))
			assert.Contains(t, errorText(t, got), "-hosts")
			assert.Empty(t, got.header.Values("Set-Cookie"))
		})
	}
	temps, sessions := e.server.vodia.Len()
	assert.Zero(t, temps+sessions+e.server.ping.Sessions())
}

// TestOtherSystemsOrigins: the origin check of the REST calls, with the
// methods each system takes in preflights.
func TestOtherSystemsOrigins(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	with := func(r req, origin string) req {
		h := map[string]string{"Origin": origin}
		for k, v := range r.header {
			h[k] = v
		}
		r.header = h
		return r
	}

	t.Run("untrusted", func(t *testing.T) {
		for _, r := range []req{
			vodiaTempReq(`{"name":"3rd","domain":"default"}`),
			vodiaExchangeReq("x"),
			pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland")),
			pingReq(http.MethodGet, pingserver.PathExtensions, ""),
		} {
			got := e.do(with(r, "https://evil.example"))
			assert.Equal(t, http.StatusForbidden, got.status, "%s: %s", r.path, got.raw)
			assert.Contains(t, errorText(t, got), "does not trust pages from https://evil.example")
			assert.Empty(t, got.header.Get("Access-Control-Allow-Origin"))
			assert.Empty(t, got.header.Values("Set-Cookie"))
		}
		assert.Zero(t, e.server.ping.Sessions())
	})
	t.Run("trusted", func(t *testing.T) {
		got := e.do(with(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland")), "http://localhost:3000"))
		require.Equal(t, http.StatusOK, got.status, "body %s", got.raw)
		assert.Equal(t, "http://localhost:3000", got.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", got.header.Get("Access-Control-Allow-Credentials"))
		got = e.do(with(pingReq(http.MethodGet, pingserver.PathExtensions+"99", ""), "http://localhost:3000"))
		assert.Equal(t, http.StatusNotFound, got.status)
		assert.Equal(t, "http://localhost:3000", got.header.Get("Access-Control-Allow-Origin"), "failures too, or the page cannot read why")
	})
	t.Run("preflights", func(t *testing.T) {
		for path, methods := range map[string]string{
			vodiaserver.Path:                 "GET, POST, DELETE",
			pingserver.PathLogin:             "GET, POST",
			pingserver.PathExtensions + "me": "GET, POST",
			wire.PathLogin:                   "POST",
		} {
			got := e.do(req{method: http.MethodOptions, path: path, contentType: "-", other: true, header: map[string]string{
				"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "GET",
				"Access-Control-Request-Headers": "authorization",
			}})
			assert.Equal(t, http.StatusNoContent, got.status, path)
			assert.Equal(t, methods, got.header.Get("Access-Control-Allow-Methods"), path)
			assert.Equal(t, "Content-Type, Authorization", got.header.Get("Access-Control-Allow-Headers"), path)
		}
	})
	t.Run("the module stays public", func(t *testing.T) {
		got := e.do(with(req{method: http.MethodGet, path: "/api/api.js"}, "https://evil.example"))
		assert.NotEqual(t, http.StatusForbidden, got.status)
		assert.Equal(t, "*", got.header.Get("Access-Control-Allow-Origin"))
	})
}

// TestOtherSystemsClock: Vodia's temporary ids and Ping's tokens and
// sessions run on the server's clock.
func TestOtherSystemsClock(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	id := e.vodiaTemp(`{"name":"3rd","domain":"acme"}`)
	e.clock.Add(11 * time.Second)
	r := e.do(vodiaExchangeReq(id))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Contains(t, errorText(t, r), "expired")

	u, _ := servertest.DemoUsers().ByLogin("carol")
	tok, err := pingserver.Mint(pingKey, u, e.clock.Now(), time.Hour)
	require.NoError(t, err)
	me := pingReq(http.MethodGet, pingserver.PathExtensions+"me", "Bearer "+tok)
	require.Equal(t, http.StatusOK, e.do(me).status)
	e.clock.Add(time.Hour)
	assert.Equal(t, http.StatusUnauthorized, e.do(me).status)
}

// TestOtherSystemsTestClock: POST /test/clock moves Vodia's clock too, so
// that a browser test can see a temporary id die.
func TestOtherSystemsTestClock(t *testing.T) {
	e := newEnv(t, withSystems(t, func(c *Config) { c.Now = nil; c.TestClock = testclock.New() }))
	id := e.vodiaTemp(`{"name":"3rd","domain":"acme"}`)
	require.Equal(t, http.StatusOK, e.do(req{path: testclock.Path, body: `{"advance":"11s"}`}).status)
	assert.Equal(t, http.StatusUnauthorized, e.do(vodiaExchangeReq(id)).status)
}

func TestOtherSystemsSweep(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	e.vodiaTemp(`{"name":"3rd","domain":"acme"}`)
	require.Equal(t, http.StatusOK, e.do(vodiaExchangeReq(e.vodiaTemp(`{"name":"3rd","domain":"acme"}`))).status)
	require.Equal(t, http.StatusOK, e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("41:builder"))).status)
	e.clock.Add(8 * time.Hour)
	e.server.Sweep()
	temps, sessions := e.server.vodia.Len()
	assert.Zero(t, temps)
	assert.Zero(t, sessions)
	assert.Zero(t, e.server.ping.Sessions())
}

// TestOtherSystemsNoAdmin: a server without a Vodia admin gives no
// temporary ids, and one without a Ping key takes no token made elsewhere.
func TestOtherSystemsDefaults(t *testing.T) {
	e := newEnv(t, nil)
	r := e.doWith(plainClient, vodiaTempReq(`{"name":"3rd","domain":"acme"}`))
	assert.Equal(t, http.StatusUnauthorized, r.status)
	u, _ := servertest.DemoUsers().ByLogin("carol")
	tok, err := pingserver.Mint(pingKey, u, e.clock.Now(), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, e.do(pingReq(http.MethodGet, pingserver.PathExtensions+"me", "Bearer "+tok)).status)
}

func TestOtherSystemsLogHasNoSecrets(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	temp := e.vodiaTemp(`{"name":"3rd","username":"41","domain":"default"}`)
	x := e.do(vodiaExchangeReq(temp))
	var info vodiaserver.Info
	require.NoError(t, json.Unmarshal(x.raw, &info))
	login := e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("41:builder")))
	var ps struct{ Session string }
	require.NoError(t, json.Unmarshal(login.raw, &ps))
	u, _ := servertest.DemoUsers().ByLogin("bob")
	tok, err := pingserver.Mint(pingKey, u, e.clock.Now(), time.Hour)
	require.NoError(t, err)
	e.do(pingReq(http.MethodGet, pingserver.PathExtensions+"me", "Bearer "+tok))
	e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("41:wrong-password")))

	logged := e.log.String()
	assert.Contains(t, logged, "POST /rest/system/session 200 ")
	assert.Contains(t, logged, "POST /auth/login 401 ")
	for _, secret := range []string{"vodia-test", basicAuth(vodiaAdmin), temp, info.Session, ps.Session, tok, "builder", "wrong-password", basicAuth("41:builder")} {
		assert.NotContains(t, logged, secret)
	}
}

// TestRefuseFormats: the server's own refusals (a fault, a check) take the
// format of the path's system.
func TestRefuseFormats(t *testing.T) {
	e := newEnv(t, nil)
	for path, want := range map[string]string{
		vodiaserver.Path:                 `{"error":"the server failed; its log says why"}`,
		pingserver.PathLogin:             `{"error":"the server failed; its log says why"}`,
		pingserver.PathExtensions + "me": `{"error":"the server failed; its log says why"}`,
		wire.PathLogin:                   `{"result":"fail","error":{"code":"internal","message":"the server failed; its log says why"}}`,
		"/api/extensionsX":               `{"result":"fail","error":{"code":"internal","message":"the server failed; its log says why"}}`,
		strings.TrimSuffix(pingserver.PathExtensions, "/"): `{"result":"fail","error":{"code":"internal","message":"the server failed; its log says why"}}`,
	} {
		rec := httptest.NewRecorder()
		e.server.refuse(rec, httptest.NewRequest(http.MethodGet, path, nil), errors.New("boom"))
		assert.Equal(t, http.StatusInternalServerError, rec.Code, path)
		assert.JSONEq(t, want, rec.Body.String(), path)
	}
	assert.Contains(t, e.log.String(), "internal error: boom")
}

// TestSweepEvery: the server's periodic sweep drops what has expired,
// everywhere, and stops with its context.
func TestSweepEvery(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	require.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status)
	require.Equal(t, http.StatusOK, e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("41:builder"))).status)
	e.clock.Add(25 * time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		e.server.SweepEvery(ctx, time.Millisecond)
		close(done)
	}()
	assert.Eventually(t, func() bool { return e.server.sessions.Len() == 0 && e.server.ping.Sessions() == 0 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("SweepEvery did not stop when its context ended")
	}
}
