package pbx

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/store"
)

const day = 24 * time.Hour

// appLoginReq is a password login that names a token class.
func appLoginReq(user, password, application string) req {
	return req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Username: user, Password: password, Application: application})}
}

func tokenLoginReq(tok, subID string) req {
	return req{path: wire.PathLogin, query: subQuery(subID), body: body(wire.Auth{Type: wire.TypeAuth, Token: tok})}
}

// from sets the request's Origin header.
func from(r req, origin string) req {
	h := map[string]string{"Origin": origin}
	for k, v := range r.header {
		if k != "Origin" {
			h[k] = v
		}
	}
	r.header = h
	return r
}

// naming sets the "origin" field of a login's body.
func naming(r req, a wire.Auth, origin string) req {
	a.Origin = origin
	r.body = body(a)
	return r
}

// fresh is a client with a jar of its own: another browser.
func (e *env) fresh() *http.Client {
	return servertest.Client(e.t, e.srv.Client())
}

// tokenOf returns the token a reply carries, failing the test without one.
func (e *env) tokenOf(r result) wire.Token {
	e.t.Helper()
	require.Equal(e.t, http.StatusOK, r.status, "body %s", r.raw)
	require.NotNil(e.t, r.body.Token, "no token in %s", r.raw)
	return *r.body.Token
}

func TestLoginMakesToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.login("alice", "wonderland", "")
	tok := e.tokenOf(r)
	raw, err := base64.RawURLEncoding.DecodeString(tok.Value)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
	assert.Equal(t, e.clock.Now().Add(day).UnixMilli(), tok.Expires, "the default class: 24 hours")
	assert.NotEqual(t, tok.Value, r.body.User.Session, "the token is not the session")
	assert.Equal(t, tok.Value, e.sessionOf(r).Token, "the session is made from the token")

	stored, ok := e.tokens.Get(tok.Value)
	require.True(t, ok)
	assert.Equal(t, int64(101), stored.UserID)
	assert.Empty(t, stored.Class)
	assert.Empty(t, stored.Origin, "a request without Origin (curl, the Go client) binds to \"\"")

	check := e.do(checkReq(""))
	assert.NotContains(t, check.keys(t), "token", "only logins answer the token")
}

func TestLoginNoToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":"bob","password":"builder","notoken":true}}`})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.NotContains(t, r.keys(t), "token")
	assert.Zero(t, e.tokens.Len())
	ss := e.sessionOf(r)
	assert.Empty(t, ss.Token)

	// Without a token, today's limits: 8 hours idle, 24 in all.
	for range 3 {
		e.clock.Add(7 * time.Hour)
		require.Equal(t, http.StatusOK, e.do(checkReq("")).status)
	}
	e.clock.Add(3 * time.Hour)
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code())
}

func TestApplication(t *testing.T) {
	tests := []struct {
		application string
		class       string
		expires     time.Duration
	}{
		{"", "", store.FixedLife},
		{wire.TokenRefreshable, wire.TokenRefreshable, store.RefreshableIdle},
		{wire.TokenLongLogin, wire.TokenLongLogin, store.LongLoginIdle},
	}
	for _, tt := range tests {
		t.Run(tt.application, func(t *testing.T) {
			e := newEnv(t, nil)
			tok := e.tokenOf(e.do(appLoginReq("alice", "wonderland", tt.application)))
			assert.Equal(t, e.clock.Now().Add(tt.expires).UnixMilli(), tok.Expires)
			stored, _ := e.tokens.Get(tok.Value)
			assert.Equal(t, tt.class, stored.Class)
		})
	}
	for _, bad := range []string{"forever", "longlogin", "Refreshable", " refreshable"} {
		t.Run(bad, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.do(appLoginReq("alice", "wonderland", bad))
			assert.Equal(t, http.StatusBadRequest, r.status, "body %s", r.raw)
			assert.Equal(t, wire.CodeBadRequest, r.code())
			assert.Contains(t, r.body.Error.Message, `"application" must be`)
			assert.Zero(t, e.sessions.Len())
			assert.Zero(t, e.tokens.Len())
		})
	}
}

func TestTokenLogin(t *testing.T) {
	e := newEnv(t, nil)
	first := e.login("alice", "wonderland", "")
	tok := e.tokenOf(first)
	e.clock.Add(time.Hour)

	// Another browser, without a sub-ID: a new session in the cookie.
	other := e.fresh()
	r := e.doWith(other, tokenLoginReq(tok.Value, ""))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	m := r.keys(t)
	assert.ElementsMatch(t, []string{"result", "user", "token"}, mapKeys(m))
	assert.Equal(t, "alice", r.body.User.Login)
	require.NotEmpty(t, r.body.User.Session)
	assert.NotEqual(t, first.body.User.Session, r.body.User.Session, "a new session")
	assert.Equal(t, tok, *r.body.Token, "the same token; the default class counts from its creation")
	ck := r.cookies()
	require.Len(t, ck, 1)
	assert.Equal(t, r.body.User.Session, ck[0].Value)
	assert.Equal(t, "alice", e.doWith(other, checkReq("")).body.User.Login)
	assert.Equal(t, tok.Value, e.sessionOf(r).Token)
	assert.Equal(t, "alice", e.do(checkReq("")).body.User.Login, "the first session stays")

	// Under a sub-ID: no cookie, the session in the reply.
	sub := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab1"))
	require.Equal(t, http.StatusOK, sub.status, "body %s", sub.raw)
	assert.Empty(t, sub.header.Values("Set-Cookie"))
	assert.Equal(t, "tab1", e.sessionOf(sub).SubID)
	assert.Equal(t, "alice", e.doWith(e.srv.Client(), withSession(checkReq("tab1"), sub.body.User.Session)).body.User.Login)
	assert.Equal(t, 3, e.sessions.Len())
	assert.Equal(t, 1, e.tokens.Len())
}

// TestTokenLoginReplacesSession: like a password login, a token login ends
// the session the call carried.
func TestTokenLoginReplacesSession(t *testing.T) {
	e := newEnv(t, nil)
	bob := e.login("bob", "builder", "")
	alice := e.tokenOf(e.doWith(e.srv.Client(), loginReq("alice", "wonderland", "")))
	r := e.do(tokenLoginReq(alice.Value, ""))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	_, ok := e.sessions.Get(bob.body.User.Session)
	assert.False(t, ok)
	assert.Equal(t, "alice", e.do(checkReq("")).body.User.Login)
	assert.True(t, e.tokens.Alive(bob.body.Token.Value), "bob's token is not the session's to end")
}

func TestTokenLoginErrors(t *testing.T) {
	const key = "demo-key-alice-6f1c2a9e"
	e := newEnv(t, nil)
	tok := e.tokenOf(e.doWith(e.srv.Client(), loginReq("bob", "builder", ""))).Value
	tests := []struct {
		name    string
		req     req
		status  int
		code    string
		message string
	}{
		{"with username", req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok, Username: "bob", Password: "builder"})},
			400, wire.CodeBadRequest, `send a "token", or "username" and "password", not both`},
		{"with password", req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok, Password: "builder"})},
			400, wire.CodeBadRequest, "not both"},
		{"with a key", req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok, Key: key})},
			400, wire.CodeBadRequest, `send a "token" or an API key, not both`},
		{"with a key header", req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok}),
			header: map[string]string{"Authorization": "token auth=" + key}}, 400, wire.CodeBadRequest, "API key"},
		{"bad application", req{path: wire.PathLogin, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok, Application: "forever"})},
			400, wire.CodeBadRequest, `"application"`},
		{"token a number", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","token":5}}`},
			400, wire.CodeBadRequest, `field "auth.token": want a string`},
		{"unknown token", tokenLoginReq("made-up", ""), 401, wire.CodeAuthFailed, "unknown, has expired or was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(e.srv.Client(), tt.req)
			assert.Equal(t, tt.status, r.status, "body %s", r.raw)
			assert.Equal(t, tt.code, r.code())
			assert.Contains(t, r.body.Error.Message, tt.message)
			assert.Empty(t, r.header.Values("Set-Cookie"))
		})
	}
	assert.Equal(t, 1, e.sessions.Len(), "no call made a session")
}

// TestTokenExpiry walks each class through token logins on the fake clock:
// each step moves the clock and then logs in with the token (a use).
func TestTokenExpiry(t *testing.T) {
	tests := []struct {
		name        string
		application string
		steps       []time.Duration
		live        bool
	}{
		{"default: alive after 23 hours", "", []time.Duration{23 * time.Hour}, true},
		{"default: dead after 24 hours although used", "", []time.Duration{23 * time.Hour, time.Hour}, false},
		{"refreshable: dead after a day unused", wire.TokenRefreshable, []time.Duration{day}, false},
		{"a used refreshable token does not expire", wire.TokenRefreshable,
			[]time.Duration{23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour}, true},
		{"refreshable: dead a day after its last use", wire.TokenRefreshable, []time.Duration{23 * time.Hour, day}, false},
		{"longLogin: alive after six days unused", wire.TokenLongLogin, []time.Duration{6 * day}, true},
		{"longLogin: dead after a week unused", wire.TokenLongLogin, []time.Duration{7 * day}, false},
		{"a used longLogin token does not expire", wire.TokenLongLogin, []time.Duration{6 * day, 6 * day, 6 * day}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tok := e.tokenOf(e.do(appLoginReq("bob", "builder", tt.application)))
			var r result
			for _, d := range tt.steps {
				e.clock.Add(d)
				r = e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab"))
			}
			if !tt.live {
				assert.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
				assert.Equal(t, wire.CodeAuthFailed, r.code())
				assert.Zero(t, e.tokens.Len(), "a dead token is dropped")
				assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code(), "the session made with the token died with it")
				return
			}
			require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
			assert.Equal(t, "bob", r.body.User.Login)
			if tt.application != "" {
				idle := map[string]time.Duration{wire.TokenRefreshable: store.RefreshableIdle, wire.TokenLongLogin: store.LongLoginIdle}[tt.application]
				assert.Equal(t, e.clock.Now().Add(idle).UnixMilli(), r.body.Token.Expires, "the reply carries the expiry after this use")
			}
		})
	}
}

// TestSessionUseKeepsTokenAlive: each call of a session made from a
// refreshable token is a use of the token.
func TestSessionUseKeepsTokenAlive(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokenOf(e.do(appLoginReq("alice", "wonderland", wire.TokenRefreshable)))
	for range 3 {
		e.clock.Add(7 * time.Hour)
		require.Equal(t, http.StatusOK, e.do(checkReq("")).status)
	}
	e.clock.Add(23 * time.Hour) // 44 hours from creation, 23 from the last call
	r := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab"))
	assert.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
}

// TestSessionDiesWithToken: a session made from a token ends when its token
// does, though its own limits would let it live on.
func TestSessionDiesWithToken(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokenOf(e.doWith(e.srv.Client(), loginReq("alice", "wonderland", "")))
	e.clock.Add(20 * time.Hour)
	r := e.do(tokenLoginReq(tok.Value, "")) // a session that could live until 44 hours
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	e.clock.Add(3 * time.Hour)
	require.Equal(t, http.StatusOK, e.do(checkReq("")).status)
	e.clock.Add(time.Hour)
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code(), "the token is 24 hours old")
	e.server.Sweep()
	assert.Zero(t, e.sessions.Len(), "nor does the password login's session live on")
}

func TestTokenOriginBinding(t *testing.T) {
	e := newEnv(t, nil)
	const app = "http://localhost:3000"
	tok := e.tokenOf(e.do(from(loginReq("alice", "wonderland", ""), app)))
	stored, _ := e.tokens.Get(tok.Value)
	assert.Equal(t, app, stored.Origin, "bound to the request's Origin")

	for _, other := range []string{"http://localhost:3001", "https://localhost:3000", ""} {
		t.Run("from "+other, func(t *testing.T) {
			r := tokenLoginReq(tok.Value, "tab")
			if other != "" {
				r = from(r, other)
			}
			got := e.doWith(e.srv.Client(), r)
			assert.Equal(t, http.StatusUnauthorized, got.status, "body %s", got.raw)
			assert.Equal(t, wire.CodeAuthFailed, got.code())
			assert.Contains(t, got.body.Error.Message, "belongs to another origin")
		})
	}
	assert.Equal(t, 1, e.sessions.Len(), "no refused login made a session")
	got := e.doWith(e.srv.Client(), from(tokenLoginReq(tok.Value, "tab"), app))
	assert.Equal(t, http.StatusOK, got.status, "body %s", got.raw)
	assert.True(t, e.tokens.Alive(tok.Value), "a refusal does not revoke the token")
}

// TestOriginField: who may name the origin a token is bound to, and which.
func TestOriginField(t *testing.T) {
	e := newEnv(t, nil)
	own := e.srv.URL
	login := wire.Auth{Type: wire.TypeAuth, Username: "bob", Password: "builder"}
	base := req{path: wire.PathLogin}
	tests := []struct {
		name, header, field string
		want                string // the token's origin; "" with code set
		code                string
	}{
		{"overlay for a trusted page", own, "http://localhost:3000", "http://localhost:3000", ""},
		{"overlay for the server's own page", own, own, own, ""},
		{"trusted page for another trusted one", "http://localhost:3000", "http://127.0.0.1:5173", "http://127.0.0.1:5173", ""},
		{"no field: the header", "http://localhost:3000", "", "http://localhost:3000", ""},
		{"overlay for an untrusted page", own, "https://evil.example", "", wire.CodeOriginNotAllowed},
		{"no Origin header", "", "http://localhost:3000", "", wire.CodeOriginNotAllowed},
		{"a pattern", own, "http://localhost:*", "", wire.CodeOriginNotAllowed},
		{"null", own, "null", "", wire.CodeOriginNotAllowed},
		{"with a path", own, "http://localhost:3000/", "", wire.CodeOriginNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := naming(base, login, tt.field)
			if tt.header != "" {
				r = from(r, tt.header)
			}
			before := e.sessions.Len()
			got := e.doWith(e.srv.Client(), r)
			if tt.code != "" {
				assert.Equal(t, http.StatusForbidden, got.status, "body %s", got.raw)
				assert.Equal(t, tt.code, got.code())
				assert.Contains(t, got.body.Error.Message, `"origin"`)
				assert.Equal(t, before, e.sessions.Len(), "no session")
				return
			}
			stored, ok := e.tokens.Get(e.tokenOf(got).Value)
			require.True(t, ok)
			assert.Equal(t, tt.want, stored.Origin)
		})
	}
	t.Run("notoken checks it too", func(t *testing.T) {
		a := login
		a.NoToken = true
		got := e.doWith(e.srv.Client(), naming(base, a, "https://evil.example"))
		assert.Equal(t, http.StatusForbidden, got.status)
	})

	// A token the overlay made for a page: the page uses it with its own
	// Origin, the overlay by naming the page.
	tok := e.tokenOf(e.doWith(e.srv.Client(), from(naming(base, login, "http://localhost:3000"), own)))
	page := e.doWith(e.srv.Client(), from(tokenLoginReq(tok.Value, "a"), "http://localhost:3000"))
	assert.Equal(t, http.StatusOK, page.status, "body %s", page.raw)
	overlay := e.doWith(e.srv.Client(), from(naming(tokenLoginReq(tok.Value, "b"), wire.Auth{Type: wire.TypeAuth, Token: tok.Value}, "http://localhost:3000"), own))
	assert.Equal(t, http.StatusOK, overlay.status, "body %s", overlay.raw)
	curl := e.doWith(e.srv.Client(), naming(tokenLoginReq(tok.Value, "c"), wire.Auth{Type: wire.TypeAuth, Token: tok.Value}, "http://localhost:3000"))
	assert.Equal(t, http.StatusForbidden, curl.status, "a request without Origin may not name one")
}

func TestTokenClassesByOrigin(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Origins = []string{"https://app.example", "http://localhost:*", "http://127.0.0.1:*"}
		c.TokenClasses = map[string]string{
			"https://app.example":   wire.TokenLongLogin,
			"http://localhost:*":    wire.TokenRefreshable,
			"http://localhost:3000": wire.TokenLongLogin,
			"http://127.0.0.1:9":    "forever", // not a class: the default
		}
	})
	tests := []struct {
		origin, application, class string
	}{
		{"https://app.example", "", wire.TokenLongLogin},
		{"http://localhost:4000", "", wire.TokenRefreshable},
		{"http://localhost", "", wire.TokenRefreshable},
		{"http://localhost:3000", "", wire.TokenLongLogin}, // the exact entry before the pattern
		{"http://127.0.0.1:5000", "", ""},
		{"http://127.0.0.1:9", "", ""},
		{"", "", ""},
		{"https://app.example", wire.TokenRefreshable, wire.TokenRefreshable}, // the login's choice wins
	}
	for _, tt := range tests {
		t.Run(tt.origin+" "+tt.application, func(t *testing.T) {
			r := appLoginReq("carol", "carolpass", tt.application)
			if tt.origin != "" {
				r = from(r, tt.origin)
			}
			stored, ok := e.tokens.Get(e.tokenOf(e.doWith(e.srv.Client(), r)).Value)
			require.True(t, ok)
			assert.Equal(t, tt.class, stored.Class)
		})
	}
}

func TestParseTokenClasses(t *testing.T) {
	got, err := ParseTokenClasses(" https://App.Example=longLogin, http://localhost:*=refreshable ,,http://10.0.0.1:8080/ = refreshable")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"https://app.example":  wire.TokenLongLogin,
		"http://localhost:*":   wire.TokenRefreshable,
		"http://10.0.0.1:8080": wire.TokenRefreshable,
	}, got)

	for bad, want := range map[string]string{
		"":                              "is empty",
		" , ":                           "is empty",
		"https://app.example":           "lacks a class",
		"app.example=longLogin":         `"app.example" is not an origin`,
		"https://app.example=forever":   "must be refreshable or longLogin",
		"https://app.example=":          "must be refreshable or longLogin",
		"https://app.example=longlogin": "must be refreshable or longLogin",
		"https://a.example=longLogin,https://A.example=refreshable": "given twice",
	} {
		_, err := ParseTokenClasses(bad)
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), want, "%q", bad)
		assert.Contains(t, err.Error(), "token classes: ")
	}
}

// TestLogoutRevokesToken: logout ends the token of the call's session and
// every session made from it, in every browser and sub-ID.
func TestLogoutRevokesToken(t *testing.T) {
	e := newEnv(t, nil)
	first := e.login("alice", "wonderland", "")
	tok := e.tokenOf(first)
	other := e.fresh()
	second := e.doWith(other, tokenLoginReq(tok.Value, ""))
	require.Equal(t, http.StatusOK, second.status)
	third := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab"))
	require.Equal(t, http.StatusOK, third.status)
	unrelated := e.doWith(e.fresh(), loginReq("bob", "builder", ""))
	require.Equal(t, 4, e.sessions.Len())

	r := e.doWith(other, logoutReq(""))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.False(t, e.tokens.Alive(tok.Value))
	for _, s := range []result{first, second, third} {
		_, ok := e.sessions.Get(s.body.User.Session)
		assert.False(t, ok, "every session of the token ends")
	}
	_, ok := e.sessions.Get(unrelated.body.User.Session)
	assert.True(t, ok, "another token's session stays")
	assert.Equal(t, wire.CodeAuthFailed, e.doWith(other, tokenLoginReq(tok.Value, "")).code())
}

// TestLogoutWithToken: a page whose session has expired still revokes its
// token by naming it.
func TestLogoutWithToken(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokenOf(e.do(appLoginReq("alice", "wonderland", wire.TokenLongLogin)))
	elsewhere := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab"))
	require.Equal(t, http.StatusOK, elsewhere.status)
	e.clock.Add(store.DefaultIdleTimeout)
	require.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code(), "the page's session has expired")
	require.True(t, e.tokens.Alive(tok.Value))

	r := e.doWith(e.srv.Client(), req{path: wire.PathLogout, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok.Value})})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, map[string]any{"result": "success"}, r.keys(t))
	assert.False(t, e.tokens.Alive(tok.Value))
	assert.Zero(t, e.sessions.Len())

	r = e.do(req{path: wire.PathLogout, body: body(wire.Auth{Type: wire.TypeAuth, Token: "made-up"})})
	assert.Equal(t, http.StatusOK, r.status, "logout never fails")
}

// TestLogoutWithoutToken: a session made with notoken ends alone.
func TestLogoutWithoutToken(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.tokenOf(e.doWith(e.srv.Client(), loginReq("alice", "wonderland", "")))
	e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":"alice","password":"wonderland","notoken":true}}`})
	require.Equal(t, http.StatusOK, e.do(logoutReq("")).status)
	assert.True(t, e.tokens.Alive(tok.Value), "the other login's token stays")
	assert.Equal(t, 1, e.sessions.Len())
}

func TestSweep(t *testing.T) {
	e := newEnv(t, nil)
	e.login("alice", "wonderland", "")
	e.doWith(e.srv.Client(), appLoginReq("bob", "builder", wire.TokenLongLogin))
	e.doWith(e.srv.Client(), req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":"carol","password":"carolpass","notoken":true}}`})
	require.Equal(t, 3, e.sessions.Len())
	require.Equal(t, 2, e.tokens.Len())
	e.clock.Add(day)
	e.server.Sweep()
	assert.Zero(t, e.sessions.Len())
	assert.Equal(t, 1, e.tokens.Len(), "the longLogin token outlives its session")
}
