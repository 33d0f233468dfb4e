package vodiaserver

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

func TestMain(m *testing.M) {
	users.HashCost = bcrypt.MinCost // bcrypt is slow under -race
	os.Exit(m.Run())
}

// demo is the demo directory, loaded once for all tests.
var demo = sync.OnceValue(func() *users.Directory { return users.NewDirectory(users.Demo()) })

// clock is a fake time source that tests move by hand.
type clock = testclock.Manual

const adminLogin, adminPassword = "admin", "vodia-test"

// timeout is the deadline of every request of the tests.
const timeout = 10 * time.Second

// plain is a client without cookies, as an integrator's server or a client
// on another site.
var plain = &http.Client{Timeout: timeout}

// env is a running Vodia handler with the demo users, a fake clock and a
// browser-like client with a cookie jar.
type env struct {
	t       *testing.T
	h       *Handler
	srv     *httptest.Server
	client  *http.Client
	clock   *clock
	adminOK string // the Authorization header of the admin
}

func newEnv(t *testing.T) *env {
	t.Helper()
	admin, err := NewAdmin(adminLogin, adminPassword)
	require.NoError(t, err)
	c := testclock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	h := New(Config{Users: demo(), Now: c.Now, Admin: admin})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := *srv.Client()
	client.Jar = jar
	client.Timeout = timeout
	return &env{t: t, h: h, srv: srv, client: &client, clock: c, adminOK: basic(adminLogin, adminPassword)}
}

func basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

// result is a reply.
type result struct {
	status int
	header http.Header
	body   string
}

// errorText is the "error" of a failure.
func (r result) errorText(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &e), "body %s", r.body)
	return e.Error
}

// do sends a request with the env's client; auth is the Authorization
// header ("" for none).
func (e *env) do(method, auth, body string) result {
	return e.doWith(e.client, method, auth, "application/json", body)
}

func (e *env) doWith(c *http.Client, method, auth, contentType, body string) result {
	t := e.t
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+Path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK || len(raw) > 0 {
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "every reply is JSON: %s", raw)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	}
	return result{resp.StatusCode, resp.Header, string(raw)}
}

// temp asks for a temporary id with body, as the integrator's server does
// (no cookies), and returns it.
func (e *env) temp(body string) string {
	e.t.Helper()
	r := e.doWith(plain, http.MethodPost, e.adminOK, "application/json", body)
	require.Equal(e.t, http.StatusOK, r.status, r.body)
	var id string
	require.NoError(e.t, json.Unmarshal([]byte(r.body), &id), "a JSON string: %s", r.body)
	require.NotEmpty(e.t, id)
	return id
}

func exchangeBody(id string) string {
	b, _ := json.Marshal(map[string]string{"name": "session", "value": id})
	return string(b)
}

// exchange turns id into a session with the env's client (the browser).
func (e *env) exchange(id string) result {
	e.t.Helper()
	return e.do(http.MethodPost, "", exchangeBody(id))
}

func TestThirdPartyLogin(t *testing.T) {
	tests := []struct {
		name, ask, want string
	}{
		{"admin", `{"name":"3rd","admin":true,"domain":"default"}`,
			`{"type":"admin","domain":"default","name":"Administrator"}`},
		{"admin without a domain", `{"name":"3rd","admin":true}`,
			`{"type":"admin","domain":"","name":"Administrator"}`},
		{"domain", `{"name":"3rd","domain":"acme"}`,
			`{"type":"domain","domain":"acme","name":"acme"}`},
		{"domain with admin false and a null username, as PHP sends it", `{"name":"3rd","admin":false,"domain":"acme","username":null}`,
			`{"type":"domain","domain":"acme","name":"acme"}`},
		{"domain with an empty username", `{"name":"3rd","domain":"acme","username":""}`,
			`{"type":"domain","domain":"acme","name":"acme"}`},
		{"user", `{"name":"3rd","username":"40","domain":"default"}`,
			`{"type":"user","domain":"default","username":"40","name":"Alice Example"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.temp(tt.ask)
			r := e.exchange(id)
			require.Equal(t, http.StatusOK, r.status, r.body)
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.body), &got))
			sid, _ := got["session"].(string)
			require.NotEmpty(t, sid)
			delete(got, "session")
			want := map[string]any{}
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			assert.Equal(t, want, got)

			cookies := (&http.Response{Header: r.header}).Cookies()
			require.Len(t, cookies, 1)
			ck := cookies[0]
			assert.Equal(t, CookieName, ck.Name)
			assert.Equal(t, sid, ck.Value)
			assert.True(t, ck.HttpOnly)
			assert.Equal(t, "/", ck.Path)
			assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
			assert.False(t, ck.Secure, "over http")

			// GET with the cookie, and with the header from a client without it.
			got2 := e.do(http.MethodGet, "", "")
			require.Equal(t, http.StatusOK, got2.status, got2.body)
			assert.JSONEq(t, tt.want, got2.body, "the same object, without the session")
			byHeader := e.doWith(plain, http.MethodGet, "session "+sid, "", "")
			require.Equal(t, http.StatusOK, byHeader.status)
			assert.JSONEq(t, tt.want, byHeader.body)
		})
	}
}

func TestCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	tls := httptest.NewTLSServer(e.h)
	t.Cleanup(tls.Close)
	id := e.temp(`{"name":"3rd","domain":"acme"}`)
	tc := tls.Client()
	tc.Timeout = timeout
	resp, err := tc.Post(tls.URL+Path, "application/json", strings.NewReader(exchangeBody(id)))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	ck := resp.Cookies()[0]
	assert.True(t, ck.Secure)
	assert.Equal(t, http.SameSiteNoneMode, ck.SameSite, "pages of other sites send it over https")
}

// TestTempLife: a temporary id is dead 10 seconds after it was made, on the
// handler's clock.
func TestTempLife(t *testing.T) {
	e := newEnv(t)
	ask := `{"name":"3rd","username":"41","domain":"default"}`

	id := e.temp(ask)
	e.clock.Add(TempLife - time.Millisecond)
	assert.Equal(t, http.StatusOK, e.exchange(id).status, "alive just before 10 s")

	id = e.temp(ask)
	e.clock.Add(11 * time.Second)
	r := e.exchange(id)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "the temporary session id has expired: use it within 10 seconds", r.errorText(t))
	assert.Empty(t, r.header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusUnauthorized, e.exchange(id).status, "and it stays dead")

	id = e.temp(ask)
	e.clock.Add(TempLife)
	assert.Equal(t, http.StatusUnauthorized, e.exchange(id).status, "dead at 10 s")
}

func TestTempSingleUse(t *testing.T) {
	e := newEnv(t)
	id := e.temp(`{"name":"3rd","username":"40","domain":"default"}`)
	first := e.exchange(id)
	require.Equal(t, http.StatusOK, first.status)
	second := e.doWith(plain, http.MethodPost, "", "application/json", exchangeBody(id))
	assert.Equal(t, http.StatusUnauthorized, second.status)
	assert.Equal(t, "unknown or already used temporary session id", second.errorText(t))
	assert.Empty(t, second.header.Values("Set-Cookie"))

	unknown := e.exchange("never-given")
	assert.Equal(t, http.StatusUnauthorized, unknown.status)
	assert.Equal(t, "unknown or already used temporary session id", unknown.errorText(t))

	late := e.temp(`{"name":"3rd","domain":"default"}`)
	e.clock.Add(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, e.exchange(late).status)
	temps, _ := e.h.Len()
	assert.Zero(t, temps, "a late id is dropped when it is tried")
}

func TestAdminCredentials(t *testing.T) {
	e := newEnv(t)
	ask := `{"name":"3rd","domain":"default"}`
	tests := []struct {
		name, auth, want string
	}{
		{"wrong password", basic(adminLogin, "wrong"), "wrong admin name or password"},
		{"wrong login", basic("root", adminPassword), "wrong admin name or password"},
		{"a user's credentials", basic("alice", "wonderland"), "wrong admin name or password"},
		{"password over 72 bytes", basic(adminLogin, adminPassword+strings.Repeat("x", 72)), "wrong admin name or password"},
		{"none", "", "send the admin credentials as Authorization: Basic base64(ADMIN:PASSWORD)"},
		{"not Basic", "session abc", "send the admin credentials as Authorization: Basic base64(ADMIN:PASSWORD)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(plain, http.MethodPost, tt.auth, "application/json", ask)
			assert.Equal(t, http.StatusUnauthorized, r.status)
			assert.Equal(t, tt.want, r.errorText(t))
			assert.Empty(t, r.header.Get("WWW-Authenticate"), "no browser dialog")
			temps, _ := e.h.Len()
			assert.Zero(t, temps)
		})
	}

	t.Run("no admin configured", func(t *testing.T) {
		h := New(Config{Users: demo()})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(ask))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", basic(adminLogin, adminPassword))
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	})
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, ask, want string
	}{
		{"unknown domain", `{"name":"3rd","domain":"nowhere"}`, "no such domain"},
		{"admin of an unknown domain", `{"name":"3rd","admin":true,"domain":"nowhere"}`, "no such domain"},
		{"unknown user", `{"name":"3rd","username":"99","domain":"default"}`, "no such user in this domain"},
		{"a user of another domain", `{"name":"3rd","username":"42","domain":"default"}`, "no such user in this domain"},
		{"a login instead of an extension", `{"name":"3rd","username":"alice","domain":"default"}`, "no such user in this domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(plain, http.MethodPost, e.adminOK, "application/json", tt.ask)
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Equal(t, tt.want, r.errorText(t))
		})
	}
	t.Run("only for the admin", func(t *testing.T) {
		r := e.doWith(plain, http.MethodPost, basic(adminLogin, "x"), "application/json", `{"name":"3rd","domain":"nowhere"}`)
		assert.Equal(t, http.StatusUnauthorized, r.status, "nobody else learns which domains exist")
	})
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"not JSON", "application/json", `name=3rd`, http.StatusBadRequest},
		{"empty", "application/json", ``, http.StatusBadRequest},
		{"an array", "application/json", `["3rd"]`, http.StatusBadRequest},
		{"unknown field", "application/json", `{"name":"3rd","domain":"default","account":"40"}`, http.StatusBadRequest},
		{"another name", "application/json", `{"name":"login","domain":"default"}`, http.StatusBadRequest},
		{"no name", "application/json", `{"domain":"default"}`, http.StatusBadRequest},
		{"no domain", "application/json", `{"name":"3rd","username":"40"}`, http.StatusBadRequest},
		{"admin and username", "application/json", `{"name":"3rd","admin":true,"username":"40","domain":"default"}`, http.StatusBadRequest},
		{"a username that is a number", "application/json", `{"name":"3rd","username":40,"domain":"default"}`, http.StatusBadRequest},
		{"value in a 3rd", "application/json", `{"name":"3rd","domain":"default","value":"x"}`, http.StatusBadRequest},
		{"a session without value", "application/json", `{"name":"session"}`, http.StatusBadRequest},
		{"a session with a domain", "application/json", `{"name":"session","value":"x","domain":"default"}`, http.StatusBadRequest},
		{"data after the object", "application/json", `{"name":"3rd","domain":"default"} {}`, http.StatusBadRequest},
		{"a form", "application/x-www-form-urlencoded", `name=3rd&domain=default`, http.StatusUnsupportedMediaType},
		{"no content type", "", `{"name":"3rd","domain":"default"}`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"name":"3rd","domain":"` + strings.Repeat("d", maxBody) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(plain, http.MethodPost, e.adminOK, tt.contentType, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.NotEmpty(t, r.errorText(t))
		})
	}
}

func TestMethods(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPut, "", `{}`)
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "GET, POST, DELETE, OPTIONS", r.header.Get("Allow"))
	assert.NotEmpty(t, r.errorText(t))
}

func TestGetAndDelete(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status, "no session yet")
	assert.Equal(t, "no session: log in first", r.errorText(t))

	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","username":"41","domain":"default"}`)).status)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "", "").status)

	// A header replaces the cookie: a bad one finds nothing, cookie or not.
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "session nope", "").status)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "Bearer x", "").status)

	d := e.do(http.MethodDelete, "", "")
	assert.Equal(t, http.StatusOK, d.status)
	assert.JSONEq(t, `{}`, d.body)
	cookies := (&http.Response{Header: d.header}).Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, -1, cookies[0].MaxAge, "the cookie is expired")
	_, sessions := e.h.Len()
	assert.Zero(t, sessions)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").status)

	again := e.do(http.MethodDelete, "", "")
	assert.Equal(t, http.StatusOK, again.status, "DELETE never fails")
	assert.Equal(t, http.StatusOK, e.do(http.MethodDelete, "session unknown", "").status)

	// DELETE with the header ends that session, and leaves cookies alone.
	other := e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`))
	var info Info
	require.NoError(t, json.Unmarshal([]byte(other.body), &info))
	h := e.doWith(plain, http.MethodDelete, "session "+info.Session, "", "")
	assert.Equal(t, http.StatusOK, h.status)
	assert.Empty(t, h.header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusUnauthorized, e.doWith(plain, http.MethodGet, "session "+info.Session, "", "").status)
}

// TestExchangeReplaces: an exchange ends the session the browser had.
func TestExchangeReplaces(t *testing.T) {
	e := newEnv(t)
	first := e.exchange(e.temp(`{"name":"3rd","username":"40","domain":"default"}`))
	var old Info
	require.NoError(t, json.Unmarshal([]byte(first.body), &old))
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).status)
	assert.Equal(t, http.StatusUnauthorized, e.doWith(plain, http.MethodGet, "session "+old.Session, "", "").status)
	r := e.do(http.MethodGet, "", "")
	assert.JSONEq(t, `{"type":"domain","domain":"acme","name":"acme"}`, r.body)
}

// TestSessionLifetimes: 8 hours idle or 24 in all, on the handler's clock.
func TestSessionLifetimes(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).status)
	for range 3 {
		e.clock.Add(7 * time.Hour)
		require.Equal(t, http.StatusOK, e.do(http.MethodGet, "", "").status, "a use keeps it alive")
	}
	e.clock.Add(3 * time.Hour) // 24 h in all
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").status)

	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).status)
	e.clock.Add(8 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").status, "8 hours idle")
}

func TestSweep(t *testing.T) {
	e := newEnv(t)
	e.temp(`{"name":"3rd","domain":"acme"}`)
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).status)
	temps, sessions := e.h.Sweep()
	assert.Zero(t, temps+sessions)
	e.clock.Add(TempLife)
	temps, sessions = e.h.Sweep()
	assert.Equal(t, 1, temps)
	assert.Zero(t, sessions)
	e.clock.Add(session8h)
	temps, sessions = e.h.Sweep()
	assert.Zero(t, temps)
	assert.Equal(t, 1, sessions)
	temps, sessions = e.h.Len()
	assert.Zero(t, temps+sessions)
}

const session8h = 8 * time.Hour

func TestOtherPath(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path+"/x", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
}

func TestParseAdmin(t *testing.T) {
	a, err := ParseAdmin("root:pa:ss")
	require.NoError(t, err)
	assert.True(t, a.Check("root", "pa:ss"), "the password may hold colons")
	assert.False(t, a.Check("root", "pa"))
	assert.False(t, a.Check("Root", "pa:ss"))
	assert.False(t, a.Check("", ""))
	assert.False(t, (*Admin)(nil).Check("root", "pa:ss"))

	demoAdmin, err := ParseAdmin(DemoAdmin)
	require.NoError(t, err)
	assert.True(t, demoAdmin.Check("admin", "vodia-demo"))

	for _, bad := range []string{"", "admin", ":pw", "admin:", "admin:" + strings.Repeat("p", 73)} {
		_, err := ParseAdmin(bad)
		assert.Error(t, err, "%q", bad)
	}
	_, err = NewAdmin("ad:min", "pw")
	assert.Error(t, err)
}

// TestAdminPasswordNotKept walks the Admin's fields: none holds the password.
func TestAdminPasswordNotKept(t *testing.T) {
	const secret = "very-secret-admin-pw"
	a, err := NewAdmin("admin", secret)
	require.NoError(t, err)
	v := reflect.ValueOf(*a)
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			assert.NotContains(t, f.String(), secret)
		case reflect.Slice:
			assert.NotContains(t, string(f.Bytes()), secret)
		}
	}
}
