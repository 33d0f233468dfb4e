package pbx

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

func TestMain(m *testing.M) {
	servertest.LowerHashCost()
	m.Run()
}

// env is a running server with the demo users, a fake clock, a captured log
// and a client with a cookie jar, like one browser.
type env struct {
	t         *testing.T
	server    *Server
	srv       *httptest.Server
	client    *http.Client
	sessions  *store.Sessions
	tokens    *store.Tokens
	externals *users.Externals
	clock     *testclock.Manual // moved by hand
	log       *servertest.LogBuffer
}

// newEnv starts a server; change adjusts its config (nil: the defaults).
func newEnv(t *testing.T, change func(*Config)) *env {
	t.Helper()
	e := &env{t: t, log: &servertest.LogBuffer{}, clock: servertest.NewClock()}
	cfg := Config{Users: servertest.DemoUsers(), Now: e.clock.Now, Logger: e.log.Logger()}
	if change != nil {
		change(&cfg)
	}
	e.server = New(cfg)
	e.sessions, e.tokens, e.externals = e.server.sessions, e.server.tokens, e.server.externals
	e.srv = httptest.NewServer(e.server)
	t.Cleanup(e.srv.Close)
	e.client = servertest.Client(t, e.srv.Client())
	return e
}

// result is a reply: its status, headers, raw body and decoded body.
type result struct {
	status int
	header http.Header
	raw    []byte
	body   wire.Response
}

// code is the error code of a failure, "" for a success.
func (r result) code() string {
	if r.body.Error == nil {
		return ""
	}
	return r.body.Error.Code
}

// cookies are the cookies the reply sets.
func (r result) cookies() []*http.Cookie {
	return (&http.Response{Header: r.header}).Cookies()
}

// keys decodes the raw body generically, to see exactly which JSON keys it has.
func (r result) keys(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.raw, &m), "body %s", r.raw)
	return m
}

// req describes a request; the zero values are the usual ones.
type req struct {
	method      string // "" is POST
	base        string // "" is the env's server
	host        string // the Host header; "" is the base's
	path        string
	query       string // "subid=x", without "?"
	contentType string // "" is application/json; "-" sends none
	body        string
	header      map[string]string
	// other is set for the paths of Vodia and Ping, whose replies are not
	// the IPCortex reply: the body is not decoded.
	other bool
}

// do sends r with the env's client.
func (e *env) do(r req) result {
	return e.doWith(e.client, r)
}

func (e *env) doWith(c *http.Client, r req) result {
	t := e.t
	t.Helper()
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	base := r.base
	if base == "" {
		base = e.srv.URL
	}
	u := base + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	headers := []string{"Content-Type", r.contentType, "Host", r.host}
	switch r.contentType {
	case "":
		headers[1] = "application/json"
	case "-":
		headers[1] = ""
	}
	for k, v := range r.header {
		headers = append(headers, k, v)
	}
	reply := servertest.Do(t, c, method, u, r.body, headers...)
	res := result{status: reply.Status, header: reply.Header, raw: reply.Body}
	if strings.HasPrefix(reply.Header.Get("Content-Type"), "application/json") && !r.other {
		require.NoError(t, json.Unmarshal(reply.Body, &res.body), "body %s", reply.Body)
	}
	return res
}

// login logs in under subID with the env's client and returns the reply.
func (e *env) login(user, password, subID string) result {
	e.t.Helper()
	return e.do(loginReq(user, password, subID))
}

func loginReq(user, password, subID string) req {
	return req{path: wire.PathLogin, query: subQuery(subID), body: body(wire.Auth{Type: wire.TypeAuth, Username: user, Password: password})}
}

func checkReq(subID string) req {
	return req{path: wire.PathLogin, query: subQuery(subID), body: `{"auth":{"type":"auth"}}`}
}

func logoutReq(subID string) req {
	return req{path: wire.PathLogout, query: subQuery(subID), body: `{"auth":{"type":"auth"}}`}
}

func subQuery(subID string) string {
	if subID == "" {
		return ""
	}
	return wire.SubIDParam + "=" + subID
}

// body encodes a request body.
func body(a wire.Auth) string {
	b, err := json.Marshal(wire.Request{Auth: a})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// newTLSServer serves the env's server over https too.
func newTLSServer(t *testing.T, e *env) *httptest.Server {
	srv := httptest.NewTLSServer(e.server)
	t.Cleanup(srv.Close)
	return srv
}

// cookies returns the cookies the env's jar holds for its server.
func (e *env) cookies() []*http.Cookie {
	e.t.Helper()
	u, err := url.Parse(e.srv.URL)
	require.NoError(e.t, err)
	return e.client.Jar.Cookies(u)
}

// withSession adds the header "Authorization: session ID" to r, as a client
// does for a session under a sub-ID.
func withSession(r req, id string) req {
	h := map[string]string{"Authorization": wire.SessionHeaderPrefix + id}
	for k, v := range r.header {
		if k != "Authorization" {
			h[k] = v
		}
	}
	r.header = h
	return r
}

// sessionOf returns the session that a login reply started.
func (e *env) sessionOf(login result) store.Session {
	e.t.Helper()
	require.NotNil(e.t, login.body.User, "login reply %s", login.raw)
	ss, ok := e.sessions.Get(login.body.User.Session)
	require.True(e.t, ok, "the login's session is not in the store")
	return ss
}

// readAll reads and closes a reply's body.
func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
