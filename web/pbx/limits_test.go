package pbx

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/feedserver"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/throttle"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/testclock"
)

// waitFor bounds the waits for the server to reach a state (a login queued,
// a line logged); it is no measure of speed.
const waitFor = 10 * time.Second

// fewFailures lets 3 failed logins in a row through, then waits 1 s,
// doubling up to 8 s.
var fewFailures = throttle.Policy{Free: 3, First: time.Second, Max: 8 * time.Second, Forget: time.Hour}

// many is a policy that never slows anyone down in these tests.
var many = throttle.Policy{Free: 1000, First: time.Second, Max: time.Second, Forget: time.Hour}

func withLimits(l Limits) func(*Config) {
	return func(c *Config) { c.Limits = l }
}

// rateLimited checks a 429 or 503 of the IPCortex contract and returns its
// Retry-After.
func wantRateLimited(t *testing.T, r result, status int) string {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r.raw)
	assert.Equal(t, wire.ResultFail, r.body.Result)
	assert.Equal(t, wire.CodeRateLimited, r.code())
	retry := r.header.Get("Retry-After")
	assert.Contains(t, r.body.Error.Message, "wait "+retry+" second", "the message says how long, as Retry-After does")
	assert.Equal(t, "Retry-After", r.header.Get("Access-Control-Expose-Headers"))
	return retry
}

// TestFailedLoginsAreSlowedThenRefused: past the free failures, each
// further one makes the user wait, twice as long each time; a login during
// the wait is refused without its password being checked, a good one too;
// a successful login clears the count.
func TestFailedLoginsAreSlowedThenRefused(t *testing.T) {
	e := newEnv(t, withLimits(Limits{UserFailures: fewFailures, AddrFailures: many}))
	for i := 1; i <= 4; i++ {
		r := e.login("alice", fmt.Sprintf("wrong-%d", i), "")
		require.Equal(t, http.StatusUnauthorized, r.status, "failure %d: %s", i, r.raw)
		assert.Equal(t, wire.CodeAuthFailed, r.code())
	}
	r := e.login("alice", "wonderland", "")
	assert.Equal(t, "1", wantRateLimited(t, r, http.StatusTooManyRequests))
	assert.Equal(t, `too many failed logins as "alice"; wait 1 second, then try again`, r.body.Error.Message)
	assert.Empty(t, r.cookies())
	assert.Zero(t, e.sessions.Len(), "a refused login makes no session, even with the right password")

	assert.Equal(t, http.StatusOK, e.login("bob", "builder", "").status, "other users are not slowed")

	var waits []string
	for range 4 {
		e.clock.Add(time.Minute) // past any wait
		require.Equal(t, http.StatusUnauthorized, e.login("alice", "wrong", "").status)
		waits = append(waits, wantRateLimited(t, e.login("alice", "wrong", ""), http.StatusTooManyRequests))
	}
	assert.Equal(t, []string{"2", "4", "8", "8"}, waits, "the wait doubles up to the maximum")

	e.clock.Add(7 * time.Second)
	wantRateLimited(t, e.login("alice", "wonderland", ""), http.StatusTooManyRequests)
	e.clock.Add(time.Second)
	require.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status, "once the wait is over")
	for i := 1; i <= 4; i++ {
		require.Equal(t, http.StatusUnauthorized, e.login("alice", "wrong", "").status, "the login cleared the count: failure %d is free again", i)
	}

	logged := e.log.String()
	assert.Contains(t, logged, `login as "alice" from 127.0.0.1 failed (1 in a row)`)
	assert.Contains(t, logged, `login as "alice" from 127.0.0.1 failed (4 in a row)`)
	assert.Contains(t, logged, `login as "alice" from 127.0.0.1 refused for 1 second: 4 failed logins in a row`)
	assert.Contains(t, logged, "POST /rest/auth/ 429 ")
	for _, secret := range []string{"wonderland", "wrong-1", "builder"} {
		assert.NotContains(t, logged, secret)
	}
}

// TestUnknownNamesAreThrottledAlike: a login name nobody has is counted as
// a real one, so that the replies do not tell which names exist.
func TestUnknownNamesAreThrottledAlike(t *testing.T) {
	e := newEnv(t, withLimits(Limits{UserFailures: fewFailures, AddrFailures: many}))
	for _, name := range []string{"alice", "nobody"} {
		for range 4 {
			require.Equal(t, http.StatusUnauthorized, e.login(name, "wrong", "").status)
		}
		wantRateLimited(t, e.login(name, "wrong", ""), http.StatusTooManyRequests)
	}
	long := strings.Repeat("é", 500)
	require.Equal(t, http.StatusUnauthorized, e.login(long, "wrong", "").status)
	assert.Contains(t, e.log.String(), `login as "`+strings.Repeat("é", maxLabel)+`"… from`, "a long name is cut in the log")
}

// clientFrom returns a client of the env's server whose connections come
// from the loopback address ip (127.0.0.x).
func clientFrom(t *testing.T, e *env, ip string) *http.Client {
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	t.Cleanup(tr.CloseIdleConnections)
	return servertest.Client(t, &http.Client{Transport: tr, Timeout: waitFor})
}

// TestFailedLoginsPerAddress: one address that fails for many names, and
// with unknown API keys, is slowed down and refused; another address is
// not; a success from it takes back its own attempt only.
func TestFailedLoginsPerAddress(t *testing.T) {
	e := newEnv(t, withLimits(Limits{UserFailures: many, AddrFailures: fewFailures}))
	require.Equal(t, http.StatusUnauthorized, e.login("alice", "wrong", "").status)
	require.Equal(t, http.StatusUnauthorized, e.login("bob", "wrong", "").status)
	require.Equal(t, http.StatusOK, e.login("carol", "carolpass", "").status, "a success")
	r := e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"no-such-key"}}`})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, http.StatusUnauthorized, e.login("nobody", "wrong", "").status, "the fourth failure of the address")

	r = e.login("carol", "carolpass", "")
	assert.Equal(t, `too many failed logins from your address; wait 1 second, then try again`,
		r.body.Error.Message, "a good login from the address waits too")
	wantRateLimited(t, r, http.StatusTooManyRequests)
	r = e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"demo-key-alice-6f1c2a9e"}}`})
	wantRateLimited(t, r, http.StatusTooManyRequests)

	other := clientFrom(t, e, "127.0.0.2")
	assert.Equal(t, http.StatusOK, e.doWith(other, loginReq("carol", "carolpass", "")).status, "another address is not slowed")

	e.clock.Add(time.Second)
	require.Equal(t, http.StatusOK, e.login("carol", "carolpass", "").status)
	require.Equal(t, http.StatusUnauthorized, e.login("alice", "wrong", "").status, "the success took back its attempt only")
	wantRateLimited(t, e.login("alice", "wonderland", ""), http.StatusTooManyRequests)
	assert.Contains(t, e.log.String(), "unknown API key from 127.0.0.1")
}

// TestNoPerAddressThrottle: AddrFailures.Free < 0 turns the per-address
// count off, for a server behind a proxy.
func TestNoPerAddressThrottle(t *testing.T) {
	e := newEnv(t, withLimits(Limits{AddrFailures: throttle.Policy{Free: -1}}))
	for i := range 20 {
		require.Equal(t, http.StatusUnauthorized, e.login(fmt.Sprintf("user%d", i), "wrong", "").status)
	}
	assert.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status)
}

// TestPingAndVodiaLoginsAreThrottled: Ping's login shares the count of the
// user whose extension it names (it is the same password); the Vodia admin
// is counted apart. Their refusals are their own failures, with
// Retry-After.
func TestPingAndVodiaLoginsAreThrottled(t *testing.T) {
	e := newEnv(t, withSystems(t, withLimits(Limits{UserFailures: fewFailures, AddrFailures: many})))
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, e.login("alice", "wrong", "").status)
	}
	for range 2 {
		r := e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wrong")))
		require.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
	}
	r := e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland")))
	require.Equal(t, http.StatusTooManyRequests, r.status, "body %s", r.raw)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, `too many failed logins as "alice"; wait 1 second, then try again`, errorText(t, r))
	wantRateLimited(t, e.login("alice", "wonderland", ""), http.StatusTooManyRequests)

	// The Vodia admin.
	wrongAdmin := vodiaTempReq(`{"name":"3rd","domain":"default"}`)
	wrongAdmin.header = map[string]string{"Authorization": basicAuth("admin:wrong")}
	for range 4 {
		r := e.doWith(plainClient, wrongAdmin)
		require.Equal(t, http.StatusUnauthorized, r.status, "body %s", r.raw)
	}
	r = e.doWith(plainClient, vodiaTempReq(`{"name":"3rd","domain":"default"}`))
	require.Equal(t, http.StatusTooManyRequests, r.status, "body %s", r.raw)
	assert.Equal(t, `too many failed logins as the Vodia admin "admin"; wait 1 second, then try again`, errorText(t, r))
	e.clock.Add(time.Second)
	e.vodiaTemp(`{"name":"3rd","domain":"default"}`)
	assert.Equal(t, http.StatusOK, e.do(pingReq(http.MethodPost, pingserver.PathLogin, basicAuth("40:wonderland"))).status)
	assert.Contains(t, e.log.String(), `login as the Vodia admin "admin" from 127.0.0.1 failed (4 in a row)`)
	assert.Contains(t, e.log.String(), "POST "+vodiaserver.Path+" 429 ")
}

// holdSlots takes every password check slot of the server, as logins
// under way would, until the test releases them.
func holdSlots(t *testing.T, e *env, n int) (release func()) {
	t.Helper()
	var done []func()
	for range n {
		r, err := e.server.guard.gate.enter(context.Background())
		require.NoError(t, err)
		done = append(done, r)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for _, r := range done {
				r()
			}
		})
	}
}

// queued waits until n logins wait for a slot.
func queued(t *testing.T, e *env, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return e.server.guard.gate.waiting.Load() == n }, waitFor, time.Millisecond,
		"want %d logins waiting for a slot", n)
}

// TestPasswordChecksAreBounded: logins past the slots wait in the queue;
// past the queue they are refused at once with 503 and Retry-After, and
// the calls that check no password are not held up.
func TestPasswordChecksAreBounded(t *testing.T) {
	e := newEnv(t, withLimits(Limits{LoginSlots: 2, LoginQueue: 1}))
	release := holdSlots(t, e, 2)
	done := make(chan result, 1)
	go func() { done <- e.doWith(clientFrom(t, e, "127.0.0.2"), loginReq("alice", "wonderland", "")) }()
	queued(t, e, 1)

	r := e.login("bob", "builder", "")
	wantRateLimited(t, r, http.StatusServiceUnavailable)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "the server is busy checking other logins; wait 1 second and try again", r.body.Error.Message)

	// A check, a logout and an API key call need no slot.
	assert.Equal(t, wire.CodeLoginRequired, e.do(checkReq("")).code())
	assert.Equal(t, http.StatusOK, e.do(logoutReq("")).status)
	assert.Equal(t, http.StatusOK, e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"demo-key-alice-6f1c2a9e"}}`}).status)

	release()
	assert.Equal(t, http.StatusOK, (<-done).status, "the queued login goes on once a slot is free")
	assert.Equal(t, 1, e.sessions.Len())
	for range 3 {
		require.Equal(t, http.StatusOK, e.login("bob", "builder", "").status, "a busy refusal counts as no failure")
	}
}

// TestLoginOfAGoneClientLeavesNoSession: a client that closes its
// connection while its login waits for a slot gets no session, and the log
// says the reply was lost, not 200.
func TestLoginOfAGoneClientLeavesNoSession(t *testing.T) {
	e := newEnv(t, withLimits(Limits{LoginSlots: 1}))
	release := holdSlots(t, e, 1)
	defer release()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	require.NoError(t, err)
	body := loginReq("alice", "wonderland", "").body
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		wire.PathLogin, e.srv.Listener.Addr(), len(body), body)
	require.NoError(t, err)
	queued(t, e, 1)
	require.NoError(t, conn.Close())
	queued(t, e, 0) // the login gave up its place when its client left
	release()

	require.Eventually(t, func() bool { return strings.Contains(e.log.String(), "POST /rest/auth/ lost ") }, waitFor, time.Millisecond)
	assert.Contains(t, e.log.String(), "POST /rest/auth/ lost ")
	assert.NotContains(t, e.log.String(), "POST /rest/auth/ 200")
	assert.Zero(t, e.sessions.Len())
	assert.Zero(t, e.tokens.Len())
	for range 4 {
		require.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status, "the lost login counts as no failure")
	}
}

// TestUndeliveredLoginIsUndone: a login whose reply cannot be written (here
// the connection's write deadline has passed, as after the server's write
// timeout) leaves neither its session nor its token, and is logged as lost.
func TestUndeliveredLoginIsUndone(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: e.server, WriteTimeout: time.Nanosecond} // past before any reply
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	body := loginReq("alice", "wonderland", "").body
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		wire.PathLogin, ln.Addr(), len(body), body)
	require.NoError(t, err)
	_, err = http.ReadResponse(bufio.NewReader(conn), nil)
	require.Error(t, err, "the client gets no reply")

	require.Eventually(t, func() bool { return strings.Contains(e.log.String(), "POST /rest/auth/ lost ") }, waitFor, time.Millisecond)
	assert.Contains(t, e.log.String(), `login as "alice" undone: its reply was not delivered`)
	assert.NotContains(t, e.log.String(), "POST /rest/auth/ 200")
	assert.Zero(t, e.sessions.Len(), "no session outlives the lost reply")
	assert.Zero(t, e.tokens.Len(), "nor its token")
}

// TestSessionCapPerUser: a user's sessions past the cap end the oldest
// first, with its token and its feed; other users keep theirs.
func TestSessionCapPerUser(t *testing.T) {
	e := feedEnv(t, withLimits(Limits{SessionsPerUser: 2}))
	bob := e.login("bob", "builder", "")
	var ids []string
	var toks []string
	for i := range 3 {
		r := e.login("alice", "wonderland", fmt.Sprintf("tab%d", i))
		require.Equal(t, http.StatusOK, r.status)
		ids = append(ids, r.body.User.Session)
		toks = append(toks, r.body.Token.Value)
		if i == 0 {
			f := e.dialFeed("subid=tab0", nil)
			send(t, f, authMsg(ids[0]))
			require.Equal(t, "ready", receive(t, f)["type"])
			defer func() {
				code, reason := closeReason(t, f)
				assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), code, "the oldest session's feed hears it ended")
				assert.Equal(t, "logged out", reason)
			}()
		}
	}
	r := e.do(withSession(checkReq("tab0"), ids[0]))
	assert.Equal(t, wire.CodeLoginRequired, r.code(), "the oldest session of alice ended")
	r = e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","token":"` + toks[0] + `"}}`})
	assert.Equal(t, wire.CodeAuthFailed, r.code(), "and its token")
	for i := 1; i < 3; i++ {
		assert.Equal(t, http.StatusOK, e.do(withSession(checkReq(fmt.Sprintf("tab%d", i)), ids[i])).status)
	}
	assert.Equal(t, http.StatusOK, e.do(withSession(checkReq(""), bob.body.User.Session)).status, "bob keeps his")
	assert.Equal(t, 2, e.sessions.Count(101))
}

// TestSessionCapInAll: past the cap of all sessions, the oldest ends,
// whoever's it is.
func TestSessionCapInAll(t *testing.T) {
	e := newEnv(t, withLimits(Limits{Sessions: 2}))
	var ids []string
	for _, u := range [][2]string{{"alice", "wonderland"}, {"bob", "builder"}, {"carol", "carolpass"}} {
		r := e.login(u[0], u[1], "s")
		require.Equal(t, http.StatusOK, r.status)
		ids = append(ids, r.body.User.Session)
	}
	assert.Equal(t, wire.CodeLoginRequired, e.do(withSession(checkReq("s"), ids[0])).code())
	assert.Equal(t, http.StatusOK, e.do(withSession(checkReq("s"), ids[1])).status)
	assert.Equal(t, http.StatusOK, e.do(withSession(checkReq("s"), ids[2])).status)
	assert.Equal(t, 2, e.sessions.Len())
	assert.Equal(t, 2, e.tokens.Len())
}

// TestFeedCapPerUser: a user's feeds past the cap close the oldest with
// 1008 "too many feeds"; its session lives on.
func TestFeedCapPerUser(t *testing.T) {
	e := feedEnv(t, func(c *Config) { c.Feed.MaxPerUser = 2 })
	id := e.login("alice", "wonderland", "").body.User.Session
	var feeds []*websocket.Conn
	for range 3 {
		f := e.dialFeed("", nil)
		send(t, f, authMsg(id))
		require.Equal(t, "ready", receive(t, f)["type"])
		feeds = append(feeds, f)
	}
	code, reason := closeReason(t, feeds[0])
	assert.Equal(t, feedserver.TooMany, code)
	assert.Equal(t, "too many feeds", reason)
	assert.Equal(t, 2, e.server.feeds.Feeds(101))
	for _, f := range feeds[1:] {
		send(t, f, `{"type":"ping"}`)
		assert.Equal(t, "pong", receive(t, f)["type"], "the newer feeds stay")
	}
	assert.Equal(t, http.StatusOK, e.do(checkReq("")).status, "the session lives on")
	assert.Eventually(t, func() bool {
		return strings.Contains(e.log.String(), "feed 1 closed 1008 (too many feeds: user 101 opened more than 2 feeds)")
	}, waitFor, time.Millisecond, "the log says why; its log:\n%s", e.log)
}

// TestNoSessionFixation: a session id planted in the victim's browser
// before the login, made up or the attacker's own, never becomes the
// victim's session: every login gets a new id, and the planted one ends.
func TestNoSessionFixation(t *testing.T) {
	e := newEnv(t, nil)
	attacker := servertest.Client(t, e.srv.Client())
	planted := e.doWith(attacker, loginReq("bob", "builder", "")).body.User.Session
	require.NotEmpty(t, planted)

	for name, id := range map[string]string{"made up": "attacker-chosen-id", "the attacker's": planted} {
		t.Run(name, func(t *testing.T) {
			victim := servertest.Client(t, e.srv.Client())
			u, err := url.Parse(e.srv.URL)
			require.NoError(t, err)
			victim.Jar.SetCookies(u, []*http.Cookie{{Name: wire.CookieName, Value: id, Path: "/"}})
			r := e.doWith(victim, loginReq("alice", "wonderland", ""))
			require.Equal(t, http.StatusOK, r.status)
			assert.NotEqual(t, id, r.body.User.Session)
			assert.Equal(t, r.body.User.Session, r.cookies()[0].Value, "the cookie gets the new id")
			_, ok := e.sessions.Peek(id)
			assert.False(t, ok, "the planted id is no session")
			c := e.doWith(plainClient, withSession(checkReq(""), id))
			assert.Equal(t, wire.CodeLoginRequired, c.code(), "the planted id gives the attacker nothing")

			// Under a sub-ID, with the session header.
			r = e.doWith(plainClient, withSession(loginReq("alice", "wonderland", "tab"), id))
			require.Equal(t, http.StatusOK, r.status)
			assert.NotEqual(t, id, r.body.User.Session)
		})
	}
}

// TestStrictRequestBodies: a body with a key given twice, or with a key
// that differs from a field's name only by case, is refused on every path
// that reads JSON, where encoding/json would take it.
func TestStrictRequestBodies(t *testing.T) {
	e := newEnv(t, withSystems(t, nil))
	for name, tc := range map[string]struct{ body, want string }{
		"upper case":     {`{"AUTH":{"TYPE":"auth","USERNAME":"alice","PASSWORD":"wonderland"}}`, `key "AUTH" in the top-level object: field names are case-sensitive; write "auth"`},
		"nested case":    {`{"auth":{"type":"auth","Username":"alice","password":"wonderland"}}`, `key "Username" in "auth": field names are case-sensitive; write "username"`},
		"duplicate":      {`{"auth":{"type":"auth","username":"bob","username":"alice","password":"wonderland"}}`, `key "username" appears twice in "auth"; give each key once`},
		"duplicate auth": {`{"auth":{"type":"auth"},"auth":{"type":"auth","username":"alice","password":"wonderland"}}`, `key "auth" appears twice`},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(req{path: wire.PathLogin, body: tc.body})
			require.Equal(t, http.StatusBadRequest, r.status, "body %s", r.raw)
			assert.Equal(t, wire.CodeBadRequest, r.code())
			assert.Contains(t, r.body.Error.Message, tc.want)
			assert.Zero(t, e.sessions.Len())
		})
	}
	r := e.do(req{path: PathExternal, body: `{"auth":{"type":"external","name":"a","NAME":"b"}}`})
	assert.Equal(t, http.StatusBadRequest, r.status, "body %s", r.raw)

	v := vodiaTempReq(`{"name":"3rd","domain":"default","Domain":"acme"}`)
	r = e.doWith(plainClient, v)
	assert.Equal(t, http.StatusBadRequest, r.status, "body %s", r.raw)
	assert.Contains(t, errorText(t, r), "case-sensitive")
	r = e.doWith(plainClient, vodiaTempReq(`{"name":"3rd","domain":"acme","domain":"default"}`))
	assert.Equal(t, http.StatusBadRequest, r.status, "body %s", r.raw)
	assert.Contains(t, errorText(t, r), "appears twice")
}

// TestStrictFeedMessages: the feed's auth message with a key given twice,
// or a case variant of "session", is refused (4000), where encoding/json
// would take the last or the folded one.
func TestStrictFeedMessages(t *testing.T) {
	e := feedEnv(t, nil)
	id := e.login("alice", "wonderland", "").body.User.Session
	for _, msg := range []string{
		`{"type":"auth","session":"nope","session":"` + id + `"}`,
		`{"type":"auth","SESSION":"` + id + `"}`,
	} {
		f := e.dialFeed("", nil)
		send(t, f, msg)
		assert.Equal(t, websocket.StatusCode(wire.FeedBadRequest), closeCode(t, f), msg)
	}
	f := e.dialFeed("", nil)
	send(t, f, `{"type":"auth","session":"`+id+`","newField":1}`)
	assert.Equal(t, "ready", receive(t, f)["type"], "an unknown field is still ignored")
}

// TestTestClockBodyIsStrict: the test clock's body too.
func TestTestClockBodyIsStrict(t *testing.T) {
	e := newEnv(t, nil)
	srv := httptest.NewServer(New(Config{Users: servertest.DemoUsers(), TestClock: testclock.New()}))
	t.Cleanup(srv.Close)
	for _, body := range []string{`{"advance":"1h","advance":"25h"}`, `{"ADVANCE":"25h"}`} {
		r := e.doWith(plainClient, req{base: srv.URL, path: "/test/clock", body: body})
		assert.Equal(t, http.StatusBadRequest, r.status, "%s: %s", body, r.raw)
	}
}
