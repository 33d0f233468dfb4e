package pbx

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	r := e.login("alice", "wonderland", "")
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	// The exact shape of the vendor's reply, with the token beside the user.
	m := r.keys(t)
	assert.Len(t, m, 3)
	assert.Equal(t, "success", m["result"])
	tok, ok := m["token"].(map[string]any)
	require.True(t, ok, "token is an object: %s", r.raw)
	assert.ElementsMatch(t, []string{"value", "expires"}, mapKeys(tok))
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
	r := e.doWith(servertest.Client(t, tlsSrv.Client()), req{path: wire.PathLogin, body: loginReq("bob", "builder", "").body, base: tlsSrv.URL})
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

// TestLoginPasswordOver72Bytes: bcrypt reads only 72 bytes, so a longer
// password that starts with the right one must not log in.
func TestLoginPasswordOver72Bytes(t *testing.T) {
	pw := strings.Repeat("p", users.MaxPasswordLen)
	us, err := users.Load(strings.NewReader(`[{"id": 1, "login": "dave", "password": "` + pw + `", "home": "h"}]`))
	require.NoError(t, err)
	e := newEnv(t, func(c *Config) { c.Users = users.NewDirectory(us) })
	r := e.login("dave", pw+"x", "")
	assert.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
	assert.Equal(t, wire.CodeAuthFailed, r.code())
	assert.Empty(t, r.header.Values("Set-Cookie"))
	assert.Zero(t, e.sessions.Len())
	assert.Equal(t, http.StatusOK, e.login("dave", pw, "").status)
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

func TestLoginUnderSubID(t *testing.T) {
	e := newEnv(t, nil)
	r := e.login("alice", "wonderland", "tab1")
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Empty(t, r.header.Values("Set-Cookie"), "a sub-ID's session has no cookie")
	assert.Empty(t, e.cookies())
	require.NotEmpty(t, r.body.User.Session, "the client needs the id to send it back")
	assert.Equal(t, "tab1", e.sessionOf(r).SubID)

	check := e.do(withSession(checkReq("tab1"), r.body.User.Session))
	require.Equal(t, http.StatusOK, check.status, "body %s", check.raw)
	assert.Equal(t, "alice", check.body.User.Login)
	assert.Empty(t, check.body.User.Session, "only the login reply carries the id")
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("tab1")).code(), "without the header there is no session")
}

func TestLoginWithoutSubIDReturnsSession(t *testing.T) {
	e := newEnv(t, nil)
	r := e.login("bob", "builder", "")
	require.Equal(t, http.StatusOK, r.status)
	require.NotEmpty(t, r.body.User.Session)
	check := e.do(withSession(checkReq(""), r.body.User.Session))
	assert.Equal(t, "bob", check.body.User.Login, "the header works without a sub-ID too")
	assert.Empty(t, check.header.Values("Set-Cookie"))
}

func TestLoginReplacesHeaderSession(t *testing.T) {
	e := newEnv(t, nil)
	noSub := e.login("carol", "carolpass", "")
	first := e.login("alice", "wonderland", "tab1")
	second := e.do(withSession(loginReq("bob", "builder", "tab1"), first.body.User.Session))
	require.Equal(t, http.StatusOK, second.status, "body %s", second.raw)
	assert.Empty(t, second.header.Values("Set-Cookie"))
	_, ok := e.sessions.Get(first.body.User.Session)
	assert.False(t, ok, "the session the header carried ends at the next login")
	_, ok = e.sessions.Get(noSub.body.User.Session)
	assert.True(t, ok, "the cookie's session does not belong to the sub-ID and stays")
	assert.Equal(t, 2, e.sessions.Len())
}

func TestLogoutUnderSubID(t *testing.T) {
	e := newEnv(t, nil)
	e.login("alice", "wonderland", "")
	tab2 := e.login("bob", "builder", "tab2")
	r := e.do(withSession(logoutReq("tab2"), tab2.body.User.Session))
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.header.Values("Set-Cookie"), "the cookie is not the sub-ID's")
	_, ok := e.sessions.Get(tab2.body.User.Session)
	assert.False(t, ok)
	assert.Equal(t, "alice", e.do(checkReq("")).body.User.Login, "the login without sub-ID stays")
}

func TestLogoutByHeaderLeavesCookie(t *testing.T) {
	e := newEnv(t, nil)
	viaCookie := e.login("alice", "wonderland", "")
	viaHeader := e.doWith(e.srv.Client(), loginReq("bob", "builder", "")) // another client's login
	require.Equal(t, http.StatusOK, viaHeader.status)
	r := e.do(withSession(logoutReq(""), viaHeader.body.User.Session))
	require.Equal(t, http.StatusOK, r.status)
	assert.Empty(t, r.header.Values("Set-Cookie"), "with a session header, cookies are left alone")
	_, ok := e.sessions.Get(viaHeader.body.User.Session)
	assert.False(t, ok, "the header's session ends")
	_, ok = e.sessions.Get(viaCookie.body.User.Session)
	assert.True(t, ok, "the cookie's session stays")
}

func TestSubIDs(t *testing.T) {
	e := newEnv(t, nil)
	ids := map[string]string{}
	for sub, who := range map[string][2]string{"tabA": {"alice", "wonderland"}, "tabB": {"bob", "builder"}, "": {"carol", "carolpass"}} {
		r := e.login(who[0], who[1], sub)
		require.Equal(t, http.StatusOK, r.status)
		ids[sub] = r.body.User.Session
	}
	for sub, want := range map[string]string{"tabA": "alice", "tabB": "bob"} {
		r := e.do(withSession(checkReq(sub), ids[sub]))
		require.Equal(t, http.StatusOK, r.status, "sub-ID %q: %s", sub, r.raw)
		assert.Equal(t, want, r.body.User.Login, "sub-ID %q", sub)
	}
	assert.Equal(t, "carol", e.do(checkReq("")).body.User.Login, "the cookie carries the login without sub-ID")
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("tabC")).code(), "an unused sub-ID has no login")

	// A second tab of the same browser (same jar) without a sub-ID shares the login.
	other := *e.client
	assert.Equal(t, "carol", e.doWith(&other, checkReq("")).body.User.Login)
}

// TestSessionCredentials: which session a call gets from what it carries.
func TestSessionCredentials(t *testing.T) {
	e := newEnv(t, nil)
	tabA := e.login("alice", "wonderland", "tabA").body.User.Session
	noSub := e.login("carol", "carolpass", "").body.User.Session // also the jar's cookie
	plain := e.srv.Client()                                      // no jar: only what the test sends
	tests := []struct {
		name   string
		client *http.Client
		req    req
		login  string // "": login_required
	}{
		{"header under its sub-ID", plain, withSession(checkReq("tabA"), tabA), "alice"},
		{"header under another sub-ID", plain, withSession(checkReq("tabB"), tabA), ""},
		{"sub-ID's header without sub-ID", plain, withSession(checkReq(""), tabA), ""},
		{"header of no sub-ID under a sub-ID", plain, withSession(checkReq("tabA"), noSub), ""},
		{"cookie under a sub-ID", e.client, checkReq("tabA"), ""},
		{"cookie of a sub-ID's session", plain, func() req {
			r := checkReq("")
			r.header = map[string]string{"Cookie": wire.CookieName + "=" + tabA}
			return r
		}(), ""},
		{"unknown header beats a good cookie", e.client, withSession(checkReq(""), "made-up"), ""},
		{"header without id beats a good cookie", e.client, func() req {
			r := checkReq("")
			r.header = map[string]string{"Authorization": "session"}
			return r
		}(), ""},
		{"good header beats the cookie", e.client, withSession(checkReq("tabA"), tabA), "alice"},
		{"old sub-ID cookie", plain, func() req {
			r := checkReq("tabA")
			r.header = map[string]string{"Cookie": wire.CookieName + "_tabA=" + tabA}
			return r
		}(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doWith(tt.client, tt.req)
			if tt.login == "" {
				assert.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
				assert.Equal(t, wire.CodeLoginRequired, r.code())
				return
			}
			require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
			assert.Equal(t, tt.login, r.body.User.Login)
		})
	}
	assert.Equal(t, 2, e.sessions.Len(), "no call ended a session")
}

// TestTwoAuthorizationHeaders: a call with a key and a session in two
// headers is refused rather than served by whichever comes first.
func TestTwoAuthorizationHeaders(t *testing.T) {
	e := newEnv(t, nil)
	tab := e.login("bob", "builder", "tab1").body.User.Session
	hr, err := http.NewRequest(http.MethodPost, e.srv.URL+wire.PathLogin+"?subid=tab1", strings.NewReader(`{"auth":{"type":"auth"}}`))
	require.NoError(t, err)
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Add("Authorization", "token auth=demo-key-alice-6f1c2a9e")
	hr.Header.Add("Authorization", wire.SessionHeaderPrefix+tab)
	resp, err := e.srv.Client().Do(hr)
	require.NoError(t, err)
	raw, err := readAll(resp)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "body %s", raw)
	assert.Contains(t, string(raw), wire.CodeBadRequest)
}

// TestCookieJarHoldsOneSession: however many sub-IDs a browser logs in
// under, its jar holds one session cookie and no request carries more than
// one session credential. The old scheme (a cookie per sub-ID) sent every
// sub-ID's cookie with every request, until headers grew too large.
func TestCookieJarHoldsOneSession(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var tooMany []string // requests that carried more than one credential
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, ck := range r.Cookies() {
			if strings.HasPrefix(ck.Name, wire.CookieName) {
				n++
			}
		}
		if _, ok := wire.SessionFromHeader(r.Header.Get("Authorization")); ok {
			n++
		}
		if n > 1 {
			mu.Lock()
			tooMany = append(tooMany, fmt.Sprintf("%s?%s carried %d", r.URL.Path, r.URL.RawQuery, n))
			mu.Unlock()
		}
		e.server.ServeHTTP(w, r)
	}))
	t.Cleanup(counted.Close)
	browser := servertest.Client(t, counted.Client())
	// A call with the session header is sent without cookies, as a page's
	// fetch with credentials "omit".
	omit := counted.Client()
	at := func(r req) req { r.base = counted.URL; return r }

	require.Equal(t, http.StatusOK, e.doWith(browser, at(loginReq("carol", "carolpass", ""))).status)
	ids := map[string]string{}
	for i := range 50 {
		sub := fmt.Sprintf("tab-%d", i)
		r := e.doWith(browser, at(loginReq("alice", "wonderland", sub)))
		require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
		ids[sub] = r.body.User.Session
	}
	for sub, id := range ids {
		r := e.doWith(omit, at(withSession(checkReq(sub), id)))
		require.Equal(t, http.StatusOK, r.status, "sub-ID %s: %s", sub, r.raw)
		assert.Equal(t, "alice", r.body.User.Login)
	}
	again := e.doWith(omit, at(withSession(loginReq("bob", "builder", "tab-7"), ids["tab-7"])))
	require.Equal(t, http.StatusOK, again.status)
	r := e.doWith(browser, at(checkReq("")))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "carol", r.body.User.Login)

	u, err := url.Parse(counted.URL)
	require.NoError(t, err)
	var names []string
	for _, ck := range browser.Jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	assert.Equal(t, []string{wire.CookieName}, names)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, tooMany)
	assert.Equal(t, 51, e.sessions.Len(), "one session per sub-ID and one without; the second login in tab-7 replaced the first")
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
		{"key in header and password", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`,
			header: map[string]string{"Authorization": "token auth=" + key}}, 400, wire.CodeBadRequest, ""},
		{"key in body and session header", withSession(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"` + key + `"}}`}, "some-session"),
			400, wire.CodeBadRequest, ""},
		{"key in body and session header without id", req{path: wire.PathCompany, body: `{"auth":{"type":"company","company":"acme","key":"` + key + `"}}`,
			header: map[string]string{"Authorization": "session"}}, 400, wire.CodeBadRequest, ""},
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
	e.clock.Add(store.DefaultIdleTimeout - time.Minute)
	require.Equal(t, http.StatusOK, e.do(checkReq("")).status)
	e.clock.Add(store.DefaultIdleTimeout - time.Minute)
	require.Equal(t, http.StatusOK, e.do(checkReq("")).status, "use keeps a session alive")
	e.clock.Add(store.DefaultIdleTimeout)
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
