package vodiaserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/testclock"
)

func TestMain(m *testing.M) {
	servertest.LowerHashCost()
	m.Run()
}

const adminLogin, adminPassword = "admin", "vodia-test"

// plain is a client without cookies, as an integrator's server or a client
// on another site.
var plain = servertest.Plain

// env is a running Vodia handler with the demo users, a fake clock and a
// browser-like client with a cookie jar.
type env struct {
	t       *testing.T
	h       *Handler
	srv     *httptest.Server
	client  *http.Client
	clock   *testclock.Manual // moved by hand
	adminOK string            // the Authorization header of the admin
}

func newEnv(t *testing.T) *env {
	t.Helper()
	admin, err := NewAdmin(adminLogin, adminPassword)
	require.NoError(t, err)
	c := servertest.NewClock()
	h := New(Config{Users: servertest.DemoUsers(), Now: c.Now, Admin: admin})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, h: h, srv: srv, client: servertest.Client(t, srv.Client()), clock: c, adminOK: servertest.Basic(adminLogin, adminPassword)}
}

// result is a reply.
type result = servertest.Reply

// do sends a request with the env's client; auth is the Authorization
// header ("" for none).
func (e *env) do(method, auth, body string) result {
	return e.doWith(e.client, method, auth, "application/json", body)
}

func (e *env) doWith(c *http.Client, method, auth, contentType, body string) result {
	t := e.t
	t.Helper()
	r := servertest.Do(t, c, method, e.srv.URL+Path, body, "Content-Type", contentType, "Authorization", auth)
	if r.Status != http.StatusOK || len(r.Body) > 0 {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "every reply is JSON: %s", r.Body)
		assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	}
	return r
}

// temp asks for a temporary id with body, as the integrator's server does
// (no cookies), and returns it.
func (e *env) temp(body string) string {
	e.t.Helper()
	r := e.doWith(plain, http.MethodPost, e.adminOK, "application/json", body)
	require.Equal(e.t, http.StatusOK, r.Status, r.Text())
	var id string
	require.NoError(e.t, json.Unmarshal([]byte(r.Text()), &id), "a JSON string: %s", r.Text())
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
			require.Equal(t, http.StatusOK, r.Status, r.Text())
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.Text()), &got))
			sid, _ := got["session"].(string)
			require.NotEmpty(t, sid)
			delete(got, "session")
			want := map[string]any{}
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			assert.Equal(t, want, got)

			cookies := (&http.Response{Header: r.Header}).Cookies()
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
			require.Equal(t, http.StatusOK, got2.Status, got2.Text())
			assert.JSONEq(t, tt.want, got2.Text(), "the same object, without the session")
			byHeader := e.doWith(plain, http.MethodGet, "session "+sid, "", "")
			require.Equal(t, http.StatusOK, byHeader.Status)
			assert.JSONEq(t, tt.want, byHeader.Text())
		})
	}
}

func TestCookieOverTLS(t *testing.T) {
	e := newEnv(t)
	tls := httptest.NewTLSServer(e.h)
	t.Cleanup(tls.Close)
	id := e.temp(`{"name":"3rd","domain":"acme"}`)
	tc := tls.Client()
	tc.Timeout = servertest.Timeout
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
	assert.Equal(t, http.StatusOK, e.exchange(id).Status, "alive just before 10 s")

	id = e.temp(ask)
	e.clock.Add(11 * time.Second)
	r := e.exchange(id)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "the temporary session id has expired: use it within 10 seconds", r.ErrorText(t))
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusUnauthorized, e.exchange(id).Status, "and it stays dead")

	id = e.temp(ask)
	e.clock.Add(TempLife)
	assert.Equal(t, http.StatusUnauthorized, e.exchange(id).Status, "dead at 10 s")
}

func TestTempSingleUse(t *testing.T) {
	e := newEnv(t)
	id := e.temp(`{"name":"3rd","username":"40","domain":"default"}`)
	first := e.exchange(id)
	require.Equal(t, http.StatusOK, first.Status)
	second := e.doWith(plain, http.MethodPost, "", "application/json", exchangeBody(id))
	assert.Equal(t, http.StatusUnauthorized, second.Status)
	assert.Equal(t, "unknown or already used temporary session id", second.ErrorText(t))
	assert.Empty(t, second.Header.Values("Set-Cookie"))

	unknown := e.exchange("never-given")
	assert.Equal(t, http.StatusUnauthorized, unknown.Status)
	assert.Equal(t, "unknown or already used temporary session id", unknown.ErrorText(t))

	late := e.temp(`{"name":"3rd","domain":"default"}`)
	e.clock.Add(time.Minute)
	assert.Equal(t, http.StatusUnauthorized, e.exchange(late).Status)
	temps, _ := e.h.Len()
	assert.Zero(t, temps, "a late id is dropped when it is tried")
}

func TestAdminCredentials(t *testing.T) {
	e := newEnv(t)
	ask := `{"name":"3rd","domain":"default"}`
	tests := []struct {
		name, auth, want string
	}{
		{"wrong password", servertest.Basic(adminLogin, "wrong"), "wrong admin name or password"},
		{"wrong login", servertest.Basic("root", adminPassword), "wrong admin name or password"},
		{"a user's credentials", servertest.Basic("alice", "wonderland"), "wrong admin name or password"},
		{"password over 72 bytes", servertest.Basic(adminLogin, adminPassword+strings.Repeat("x", 72)), "wrong admin name or password"},
		{"none", "", "send the admin credentials as Authorization: Basic base64(ADMIN:PASSWORD)"},
		{"not Basic", "session abc", "send the admin credentials as Authorization: Basic base64(ADMIN:PASSWORD)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(plain, http.MethodPost, tt.auth, "application/json", ask)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, tt.want, r.ErrorText(t))
			assert.Empty(t, r.Header.Get("WWW-Authenticate"), "no browser dialog")
			temps, _ := e.h.Len()
			assert.Zero(t, temps)
		})
	}

	t.Run("no admin configured", func(t *testing.T) {
		h := New(Config{Users: servertest.DemoUsers()})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(ask))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", servertest.Basic(adminLogin, adminPassword))
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
			assert.Equal(t, http.StatusNotFound, r.Status)
			assert.Equal(t, tt.want, r.ErrorText(t))
		})
	}
	t.Run("only for the admin", func(t *testing.T) {
		r := e.doWith(plain, http.MethodPost, servertest.Basic(adminLogin, "x"), "application/json", `{"name":"3rd","domain":"nowhere"}`)
		assert.Equal(t, http.StatusUnauthorized, r.Status, "nobody else learns which domains exist")
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
			assert.Equal(t, tt.status, r.Status, r.Text())
			assert.NotEmpty(t, r.ErrorText(t))
		})
	}
}

func TestMethods(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPut, "", `{}`)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
	assert.Equal(t, "GET, POST, DELETE, OPTIONS", r.Header.Get("Allow"))
	assert.NotEmpty(t, r.ErrorText(t))
}

func TestGetAndDelete(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodGet, "", "")
	assert.Equal(t, http.StatusUnauthorized, r.Status, "no session yet")
	assert.Equal(t, "no session: log in first", r.ErrorText(t))

	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","username":"41","domain":"default"}`)).Status)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "", "").Status)

	// A header replaces the cookie: a bad one finds nothing, cookie or not.
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "session nope", "").Status)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "Bearer x", "").Status)

	d := e.do(http.MethodDelete, "", "")
	assert.Equal(t, http.StatusOK, d.Status)
	assert.JSONEq(t, `{}`, d.Text())
	cookies := (&http.Response{Header: d.Header}).Cookies()
	require.Len(t, cookies, 1)
	assert.Equal(t, -1, cookies[0].MaxAge, "the cookie is expired")
	_, sessions := e.h.Len()
	assert.Zero(t, sessions)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").Status)

	again := e.do(http.MethodDelete, "", "")
	assert.Equal(t, http.StatusOK, again.Status, "DELETE never fails")
	assert.Equal(t, http.StatusOK, e.do(http.MethodDelete, "session unknown", "").Status)

	// DELETE with the header ends that session, and leaves cookies alone.
	other := e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`))
	var info Info
	require.NoError(t, json.Unmarshal([]byte(other.Text()), &info))
	h := e.doWith(plain, http.MethodDelete, "session "+info.Session, "", "")
	assert.Equal(t, http.StatusOK, h.Status)
	assert.Empty(t, h.Header.Values("Set-Cookie"))
	assert.Equal(t, http.StatusUnauthorized, e.doWith(plain, http.MethodGet, "session "+info.Session, "", "").Status)
}

// TestExchangeReplaces: an exchange ends the session the browser had.
func TestExchangeReplaces(t *testing.T) {
	e := newEnv(t)
	first := e.exchange(e.temp(`{"name":"3rd","username":"40","domain":"default"}`))
	var old Info
	require.NoError(t, json.Unmarshal([]byte(first.Text()), &old))
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).Status)
	assert.Equal(t, http.StatusUnauthorized, e.doWith(plain, http.MethodGet, "session "+old.Session, "", "").Status)
	r := e.do(http.MethodGet, "", "")
	assert.JSONEq(t, `{"type":"domain","domain":"acme","name":"acme"}`, r.Text())
}

// TestSessionLifetimes: 8 hours idle or 24 in all, on the handler's clock.
func TestSessionLifetimes(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).Status)
	for range 3 {
		e.clock.Add(7 * time.Hour)
		require.Equal(t, http.StatusOK, e.do(http.MethodGet, "", "").Status, "a use keeps it alive")
	}
	e.clock.Add(3 * time.Hour) // 24 h in all
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").Status)

	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).Status)
	e.clock.Add(8 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "", "").Status, "8 hours idle")
}

func TestSweep(t *testing.T) {
	e := newEnv(t)
	e.temp(`{"name":"3rd","domain":"acme"}`)
	require.Equal(t, http.StatusOK, e.exchange(e.temp(`{"name":"3rd","domain":"acme"}`)).Status)
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
