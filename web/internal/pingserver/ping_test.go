package pingserver

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

func TestMain(m *testing.M) {
	servertest.LowerHashCost()
	m.Run()
}

var start = servertest.Start

// plain is a client without cookies, as a client on another site.
var plain = servertest.Plain

// env is a running Ping handler with the demo users and presence, a fake
// clock, a known key and a browser-like client with a cookie jar.
type env struct {
	t      *testing.T
	h      *Handler
	srv    *httptest.Server
	client *http.Client
	clock  *testclock.Manual // moved by hand
	key    []byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := servertest.NewClock()
	key := make([]byte, KeySize)
	rand.Read(key)
	h := New(Config{Users: servertest.DemoUsers(), Now: c.Now, Key: key, Presence: DemoPresence(start)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, srv: srv, client: servertest.Client(t, srv.Client()), clock: c, key: key}
}

// result is a reply.
type result = servertest.Reply

// do sends a request; headers are name, value pairs ("Authorization" may
// come twice).
func (e *env) do(c *http.Client, method, path string, headers ...string) result {
	t := e.t
	t.Helper()
	r := servertest.Do(t, c, method, e.srv.URL+path, "", headers...)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "every reply is JSON: %s", r.Body)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	return r
}

// login logs in with the env's client (which keeps the cookie) and returns
// the session id.
func (e *env) login(ext, password string) string {
	e.t.Helper()
	r := e.do(e.client, http.MethodPost, PathLogin, "Authorization", servertest.Basic(ext, password))
	require.Equal(e.t, http.StatusOK, r.Status, r.Text())
	var got map[string]string
	require.NoError(e.t, json.Unmarshal([]byte(r.Text()), &got))
	require.Len(e.t, got, 1, "only the session: %s", r.Text())
	require.NotEmpty(e.t, got["session"])
	return got["session"]
}

// token signs claims with method and key.
func (e *env) token(method jwt.SigningMethod, key any, claims jwt.Claims) string {
	e.t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(e.t, err)
	return s
}

func claims(ext, domain string, exp time.Time) Claims {
	return Claims{Domain: domain, RegisteredClaims: jwt.RegisteredClaims{
		Subject: ext, IssuedAt: jwt.NewNumericDate(start), ExpiresAt: jwt.NewNumericDate(exp),
	}}
}

const (
	aliceJSON = `{"name":"Alice Example","email":"alice@example.com","extension":"40","profile":null,"available":true,
		"until":"0000-00-00 00:00:00","message":"","calls":[],"keyWords":[],"domain":"default"}`
	carolJSON = `{"name":"Carol Acme","email":"","extension":"42","profile":null,"available":true,
		"until":"0000-00-00 00:00:00","message":"","calls":[],"keyWords":[],"domain":"acme"}`
)

func bobJSON() string {
	return `{"name":"Bob Builder","email":"","extension":"41","profile":"At lunch","available":false,
		"until":"` + start.Add(time.Hour).Truncate(time.Minute).In(time.Local).Format("2006-01-02 15:04:05") + `",
		"message":"Back after lunch; for building work call alice on 40",
		"calls":[{"callerid":"+46812345678","linestatus":"up","direction":"in"}],
		"keyWords":["building","repairs"],"domain":"default"}`
}

func TestBasicLogin(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.client, http.MethodPost, PathLogin, "Authorization", servertest.Basic("41", "builder"))
	require.Equal(t, http.StatusOK, r.Status, r.Text())
	var got struct{ Session string }
	require.NoError(t, json.Unmarshal([]byte(r.Text()), &got))
	cookies := (&http.Response{Header: r.Header}).Cookies()
	require.Len(t, cookies, 1)
	ck := cookies[0]
	assert.Equal(t, CookieName, ck.Name)
	assert.Equal(t, got.Session, ck.Value)
	assert.True(t, ck.HttpOnly)
	assert.Equal(t, "/", ck.Path)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	assert.False(t, ck.Secure)

	me := e.do(e.client, http.MethodGet, PathExtensions+"me")
	require.Equal(t, http.StatusOK, me.Status, me.Text())
	assert.JSONEq(t, bobJSON(), me.Text(), "by the cookie")

	byHeader := e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "session "+got.Session)
	require.Equal(t, http.StatusOK, byHeader.Status, byHeader.Text())
	assert.JSONEq(t, bobJSON(), byHeader.Text(), "by the session header, from a client without the cookie")
}

func TestLoginOverTLS(t *testing.T) {
	e := newEnv(t)
	tls := httptest.NewTLSServer(e.h)
	t.Cleanup(tls.Close)
	req, err := http.NewRequest(http.MethodPost, tls.URL+PathLogin, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", servertest.Basic("40", "wonderland"))
	tc := tls.Client()
	tc.Timeout = servertest.Timeout
	resp, err := tc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	ck := resp.Cookies()[0]
	assert.True(t, ck.Secure)
	assert.Equal(t, http.SameSiteNoneMode, ck.SameSite)
}

func TestWrongBasicCredentials(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, auth, want string
	}{
		{"wrong password", servertest.Basic("41", "wonderland"), "wrong username or password"},
		{"unknown extension", servertest.Basic("99", "builder"), "wrong username or password"},
		{"the login instead of the extension", servertest.Basic("bob", "builder"), "wrong username or password"},
		{"a password over 72 bytes", servertest.Basic("41", "builder"+strings.Repeat("x", 72)), "wrong username or password"},
		{"no header", "", "log in with Authorization: Basic base64(EXTENSION:PASSWORD)"},
		{"a bearer token", "Bearer x", "log in with Authorization: Basic base64(EXTENSION:PASSWORD)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hs []string
			if tt.auth != "" {
				hs = []string{"Authorization", tt.auth}
			}
			r := e.do(e.client, http.MethodPost, PathLogin, hs...)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, tt.want, r.ErrorText(t))
			assert.Empty(t, r.Header.Values("Set-Cookie"))
			assert.Empty(t, r.Header.Get("WWW-Authenticate"), "no browser dialog")
		})
	}
	t.Run("two headers", func(t *testing.T) {
		r := e.do(e.client, http.MethodPost, PathLogin, "Authorization", servertest.Basic("41", "builder"), "Authorization", servertest.Basic("40", "wonderland"))
		assert.Equal(t, http.StatusUnauthorized, r.Status)
	})
	assert.Zero(t, e.h.Sessions())
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	sid := e.login("40", "wonderland")
	other := &http.Client{Timeout: servertest.Timeout}

	r := e.do(e.client, http.MethodPost, PathLogout)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.JSONEq(t, `{}`, r.Text())
	cookies := (&http.Response{Header: r.Header}).Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, -1, cookies[0].MaxAge, "the cookie is expired")

	// The cookie after logout: a client that kept it anyway.
	stale := e.do(other, http.MethodGet, PathExtensions+"me", "Cookie", CookieName+"="+sid)
	assert.Equal(t, http.StatusUnauthorized, stale.Status)
	assert.Equal(t, "the session has ended or never was; log in again", stale.ErrorText(t))
	// The session header after logout.
	assert.Equal(t, http.StatusUnauthorized, e.do(other, http.MethodGet, PathExtensions+"me", "Authorization", "session "+sid).Status)
	assert.Equal(t, http.StatusUnauthorized, e.do(e.client, http.MethodGet, PathExtensions+"me").Status)

	// Logout by the session header ends that session and sets no cookie.
	sid = e.login("40", "wonderland")
	r = e.do(other, http.MethodPost, PathLogout, "Authorization", "session "+sid)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusUnauthorized, e.do(other, http.MethodGet, PathExtensions+"me", "Authorization", "session "+sid).Status)
	assert.Equal(t, http.StatusUnauthorized, e.do(e.client, http.MethodGet, PathExtensions+"me").Status, "and its cookie")

	// It never fails.
	assert.Equal(t, http.StatusOK, e.do(other, http.MethodPost, PathLogout).Status)
	assert.Equal(t, http.StatusOK, e.do(other, http.MethodPost, PathLogout, "Authorization", "session nope").Status)
	assert.Equal(t, http.StatusOK, e.do(other, http.MethodPost, PathLogout, "Authorization", "Bearer nope").Status)
	assert.Zero(t, e.h.Sessions())
}

// TestLoginReplaces: a new login ends the session of the browser's cookie.
func TestLoginReplaces(t *testing.T) {
	e := newEnv(t)
	first := e.login("40", "wonderland")
	second := e.login("41", "builder")
	assert.NotEqual(t, first, second)
	assert.Equal(t, http.StatusUnauthorized, e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "session "+first).Status)
	assert.Equal(t, 1, e.h.Sessions())
}

func TestSessionLifetimes(t *testing.T) {
	e := newEnv(t)
	e.login("42", "carolpass")
	e.clock.Add(8*time.Hour - time.Second)
	require.Equal(t, http.StatusOK, e.do(e.client, http.MethodGet, PathExtensions+"me").Status)
	e.clock.Add(8 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, e.do(e.client, http.MethodGet, PathExtensions+"me").Status, "8 hours idle")
	assert.Zero(t, e.h.Sweep(), "already dropped when looked up")

	e.login("42", "carolpass")
	e.clock.Add(8 * time.Hour)
	assert.Equal(t, 1, e.h.Sweep())
	assert.Zero(t, e.h.Sessions())
}

func TestExtensions(t *testing.T) {
	e := newEnv(t)
	alice := e.token(jwt.SigningMethodHS256, e.key, claims("40", "default", start.Add(time.Hour)))
	carol := e.token(jwt.SigningMethodHS256, e.key, claims("42", "acme", start.Add(time.Hour)))

	list := e.do(plain, http.MethodGet, PathExtensions, "Authorization", "Bearer "+alice)
	require.Equal(t, http.StatusOK, list.Status, list.Text())
	assert.JSONEq(t, `[`+aliceJSON+`,`+bobJSON()+`]`, list.Text(), "the caller's domain, in the order of the extensions")

	list = e.do(plain, http.MethodGet, PathExtensions, "Authorization", "Bearer "+carol)
	assert.JSONEq(t, `[`+carolJSON+`]`, list.Text())

	one := e.do(plain, http.MethodGet, PathExtensions+"41", "Authorization", "Bearer "+alice)
	require.Equal(t, http.StatusOK, one.Status)
	assert.JSONEq(t, bobJSON(), one.Text())

	for _, ext := range []string{"42", "99", "bob", "041"} {
		r := e.do(plain, http.MethodGet, PathExtensions+ext, "Authorization", "Bearer "+alice)
		assert.Equal(t, http.StatusNotFound, r.Status, ext)
		assert.Equal(t, "no such extension", r.ErrorText(t), "another domain's extension is not found either")
	}

	me := e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "Bearer "+carol)
	assert.JSONEq(t, carolJSON, me.Text())
	me = e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "bearer "+alice)
	assert.JSONEq(t, aliceJSON, me.Text(), "the scheme is case-insensitive")

	assert.Equal(t, http.StatusNotFound, e.do(plain, http.MethodGet, PathExtensions+"40/calls", "Authorization", "Bearer "+alice).Status)
	assert.Equal(t, http.StatusNotFound, e.do(plain, http.MethodGet, "/auth/other").Status)
}

func TestMethods(t *testing.T) {
	e := newEnv(t)
	r := e.do(plain, http.MethodGet, PathLogin, "Authorization", servertest.Basic("41", "builder"))
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "POST, OPTIONS", r.Header.Get("Allow"))
	r = e.do(plain, http.MethodGet, PathLogout)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	r = e.do(plain, http.MethodPost, PathExtensions+"me")
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "GET, OPTIONS", r.Header.Get("Allow"))
	assert.Equal(t, http.StatusMethodNotAllowed, e.do(plain, http.MethodDelete, PathExtensions).Status)
}

// TestCredentials: an API call carries one credential; the Authorization
// header, when there is one, is the credential and the cookie is ignored.
func TestCredentials(t *testing.T) {
	e := newEnv(t)
	e.login("41", "builder")
	me := PathExtensions + "me"
	tests := []struct {
		name    string
		headers []string
		want    string
	}{
		{"none", nil, "log in first: send Authorization: Bearer JWT, Authorization: session ID, or the ping_session cookie"},
		{"basic", []string{"Authorization", servertest.Basic("41", "builder")}, `use "Authorization: Bearer JWT" or "Authorization: session ID" (Basic only at /auth/login)`},
		{"empty bearer", []string{"Authorization", "Bearer"}, "the token is not a JWT"},
		{"empty session", []string{"Authorization", "session"}, "the session has ended or never was; log in again"},
		{"two headers", []string{"Authorization", "session a", "Authorization", "session b"}, "send one Authorization header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(plain, http.MethodGet, me, tt.headers...)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, tt.want, r.ErrorText(t))
		})
	}
	t.Run("a bad header beside a good cookie", func(t *testing.T) {
		r := e.do(e.client, http.MethodGet, me, "Authorization", "Bearer not.a.token")
		assert.Equal(t, http.StatusUnauthorized, r.Status, "the header is the credential")
		require.Equal(t, http.StatusOK, e.do(e.client, http.MethodGet, me).Status, "the cookie alone works")
	})
}

// TestRefusedTokens: every JWT the server must refuse, with the reason it
// gives.
func TestRefusedTokens(t *testing.T) {
	e := newEnv(t)
	valid := claims("40", "default", start.Add(time.Hour))
	otherKey := make([]byte, KeySize)
	rand.Read(otherKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, valid).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	good := e.token(jwt.SigningMethodHS256, e.key, valid)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"domain":"acme","sub":"42","exp":9999999999}`)) + "." + parts[2]

	noExp := valid
	noExp.ExpiresAt = nil

	signature := "the token's signature is not valid: this server takes only HS256 tokens signed with its key"
	tests := []struct {
		name, token, want string
	}{
		{"forged signature (another key)", e.token(jwt.SigningMethodHS256, otherKey, valid), signature},
		{"claims changed after signing", tampered, signature},
		{"alg none", none, signature},
		{"HS512 with the right key", e.token(jwt.SigningMethodHS512, e.key, valid), signature},
		{"HS384 with the right key", e.token(jwt.SigningMethodHS384, e.key, valid), signature},
		{"RS256", e.token(jwt.SigningMethodRS256, rsaKey, valid), signature},
		{"expired", e.token(jwt.SigningMethodHS256, e.key, claims("40", "default", start.Add(-time.Second))), "the token has expired; make a new one"},
		{"expires now", e.token(jwt.SigningMethodHS256, e.key, claims("40", "default", start)), "the token has expired; make a new one"},
		{"without exp", e.token(jwt.SigningMethodHS256, e.key, noExp), `the token is not valid: it needs "sub", "domain" and "exp"`},
		{"another domain's token", e.token(jwt.SigningMethodHS256, e.key, claims("40", "acme", start.Add(time.Hour))), "the token is for another domain"},
		{"no domain", e.token(jwt.SigningMethodHS256, e.key, claims("40", "", start.Add(time.Hour))), "the token is for another domain"},
		{"unknown extension", e.token(jwt.SigningMethodHS256, e.key, claims("99", "default", start.Add(time.Hour))), "the token's extension is unknown"},
		{"a login as subject", e.token(jwt.SigningMethodHS256, e.key, claims("alice", "default", start.Add(time.Hour))), "the token's extension is unknown"},
		{"not a JWT", "hello", "the token is not a JWT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "Bearer "+tt.token)
			assert.Equal(t, http.StatusUnauthorized, r.Status, r.Text())
			assert.Equal(t, tt.want, r.ErrorText(t))
		})
	}
	r := e.do(plain, http.MethodGet, PathExtensions+"me", "Authorization", "Bearer "+good)
	assert.Equal(t, http.StatusOK, r.Status, "the valid token works")
}

// TestTokenExpiresOnTheClock: expiry is judged on the handler's clock.
func TestTokenExpiresOnTheClock(t *testing.T) {
	e := newEnv(t)
	tok, err := Mint(e.key, mustUser(t, "bob"), start, 24*time.Hour)
	require.NoError(t, err)
	me := PathExtensions + "me"
	e.clock.Add(24*time.Hour - time.Second)
	require.Equal(t, http.StatusOK, e.do(plain, http.MethodGet, me, "Authorization", "Bearer "+tok).Status)
	e.clock.Add(time.Second)
	r := e.do(plain, http.MethodGet, me, "Authorization", "Bearer "+tok)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "the token has expired; make a new one", r.ErrorText(t))
}

func mustUser(t *testing.T, login string) *users.User {
	t.Helper()
	u, ok := servertest.DemoUsers().ByLogin(login)
	require.True(t, ok)
	return u
}

func TestMint(t *testing.T) {
	key := make([]byte, KeySize)
	rand.Read(key)
	tok, err := Mint(key, mustUser(t, "carol"), start, time.Hour)
	require.NoError(t, err)
	var c Claims
	parsed, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithTimeFunc(func() time.Time { return start }))
	require.NoError(t, err)
	assert.Equal(t, "HS256", parsed.Method.Alg())
	assert.Equal(t, "42", c.Subject)
	assert.Equal(t, "acme", c.Domain)
	assert.True(t, start.Equal(c.IssuedAt.Time))
	assert.True(t, start.Add(time.Hour).Equal(c.ExpiresAt.Time))

	_, err = Mint(key[:16], mustUser(t, "carol"), start, time.Hour)
	assert.ErrorContains(t, err, "the key is 16 bytes")
	_, err = Mint(key, &users.User{Login: "x"}, start, time.Hour)
	assert.ErrorContains(t, err, `user "x" has no extension`)
	_, err = Mint(key, mustUser(t, "carol"), start, 0)
	assert.ErrorContains(t, err, "not positive")
}

func TestNewKey(t *testing.T) {
	assert.Panics(t, func() { New(Config{Key: make([]byte, 16)}) })
	h := New(Config{Users: servertest.DemoUsers()}) // a random key: no token made elsewhere works
	tok, err := Mint(make([]byte, KeySize), mustUser(t, "alice"), time.Now(), time.Hour)
	require.NoError(t, err)
	_, err = h.verify(tok)
	assert.Error(t, err)
}

// TestDemoPresence: only bob has a profile; the others are available.
func TestDemoPresence(t *testing.T) {
	p := DemoPresence(time.Date(2026, 1, 2, 11, 59, 30, 0, time.UTC))
	require.Len(t, p, 1)
	bob := p["bob"]
	assert.Equal(t, "At lunch", bob.Profile)
	assert.True(t, bob.Away)
	assert.Equal(t, time.Date(2026, 1, 2, 12, 59, 0, 0, time.UTC), bob.Until.UTC(), "an hour on, to the minute")
	assert.Len(t, bob.Calls, 1)
	assert.Equal(t, NoUntil, "0000-00-00 00:00:00")
}

// TestUndeliveredLoginIsUndone: a login whose reply cannot be written (the
// connection's write deadline has passed, as after a server's write
// timeout) leaves no session that nobody could end.
func TestUndeliveredLoginIsUndone(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: e.h, WriteTimeout: time.Nanosecond} // past before any reply
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: 0\r\n\r\n", PathLogin, ln.Addr(), servertest.Basic("41", "builder"))
	require.NoError(t, err)
	_, err = http.ReadResponse(bufio.NewReader(conn), nil)
	require.Error(t, err, "the client gets no reply")
	require.Eventually(t, func() bool { return e.h.Sessions() == 0 }, servertest.Timeout, time.Millisecond, "no session outlives the lost reply")

	r := e.do(e.client, http.MethodPost, PathLogin, "Authorization", servertest.Basic("41", "builder"))
	require.Equal(t, http.StatusOK, r.Status, "a login whose reply arrives keeps its session: %s", r.Text())
	assert.Equal(t, 1, e.h.Sessions())
}
