package pbx

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/feedserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

// step bounds every network step of these tests; closeWait bounds the wait
// for a close that the server sends after an event (at most a check, a
// second, after it). Neither is measured: they only keep a broken test from
// hanging.
const (
	step      = 10 * time.Second
	closeWait = 30 * time.Second
)

const testVersion = "9.9.9-test"

// feedEnv is newEnv with a version the tests know.
func feedEnv(t *testing.T, change func(*Config)) *env {
	return newEnv(t, func(cfg *Config) {
		cfg.Feed.Version = testVersion
		if change != nil {
			change(cfg)
		}
	})
}

// dialFeed opens a feed of the env's server; header may carry a Cookie or
// an Origin.
func (e *env) dialFeed(query string, header http.Header) *websocket.Conn {
	e.t.Helper()
	c, resp, err := dial(e.srv.URL, query, header)
	require.NoError(e.t, err, "dial: %v", resp)
	e.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func dial(base, query string, header http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	return websocket.Dial(ctx, servertest.FeedURL(base, query), &websocket.DialOptions{HTTPHeader: header})
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// receive reads one message and decodes it generically.
func receive(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), step)
	defer cancel()
	typ, data, err := c.Read(ctx)
	require.NoError(t, err)
	require.Equal(t, websocket.MessageText, typ)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), "message %s", data)
	return m
}

// closeCode waits for the server to close the feed and returns its code;
// any message before the close fails the test.
func closeCode(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	return servertest.CloseCode(t, c, closeWait)
}

// closeReason is closeCode that also returns the close reason.
func closeReason(t *testing.T, c *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	return servertest.CloseReason(t, c, closeWait)
}

func authMsg(sessionID string) string {
	return `{"type":"auth","session":"` + sessionID + `","pingtime":60}`
}

// openFeed opens a feed under subID with the session id and waits for ready.
func (e *env) openFeed(subID, sessionID string) *websocket.Conn {
	e.t.Helper()
	c := e.dialFeed(subQuery(subID), nil)
	send(e.t, c, authMsg(sessionID))
	m := receive(e.t, c)
	require.Equal(e.t, wire.FeedReady, m["type"], "%v", m)
	return c
}

// waitFeeds waits until the server holds n feeds; it lets go of a feed
// after it has logged its close.
func (e *env) waitFeeds(n int) {
	e.t.Helper()
	require.Eventually(e.t, func() bool { return e.server.feeds.Len() == n }, closeWait, time.Millisecond)
}

// pingPong checks that the feed is open: a ping is answered.
func pingPong(t *testing.T, c *websocket.Conn) {
	t.Helper()
	send(t, c, `{"type":"ping"}`)
	assert.Equal(t, map[string]any{"type": wire.FeedPong}, receive(t, c))
}

// loginID logs in under subID with a client of its own and returns the
// session id, which the reply carries.
func (e *env) loginID(user, password, subID string) string {
	e.t.Helper()
	r := e.doWith(e.srv.Client(), loginReq(user, password, subID))
	require.Equal(e.t, http.StatusOK, r.status, "body %s", r.raw)
	return r.body.User.Session
}

func TestFeedReady(t *testing.T) {
	e := feedEnv(t, nil)
	id := e.loginID("alice", "wonderland", "tab1")
	c := e.dialFeed("subid=tab1", nil)
	send(t, c, authMsg(id))
	m := receive(t, c)
	assert.Equal(t, map[string]any{
		"type":    "ready",
		"version": testVersion,
		"user": map[string]any{
			"id": 101.0, "login": "alice", "name": "Alice Example", "company": "default", "home": "default",
			"perms": map[string]any{"chat": "yes", "admin": "company"},
		},
	}, m, "the REST reply's user, without the session")

	pingPong(t, c)
	send(t, c, `{"type":"news","whatever":[1,2,3]}`) // unknown types are ignored
	send(t, c, `{"type":"auth","session":"other"}`)  // so is a second auth
	pingPong(t, c)

	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	e.waitFeeds(0)
	log := e.log.String()
	assert.Contains(t, log, "feed 1 open: user 101, pingtime 60s")
	assert.Contains(t, log, "feed 1 closed 1000 by the client")
	assert.Contains(t, log, "GET "+wire.FeedPath+" 101 ")
	assert.NotContains(t, log, id, "never the session id")
	assert.NotContains(t, log, "tab1", "never the sub-ID")
}

func TestFeedCookie(t *testing.T) {
	e := feedEnv(t, nil)
	r := e.login("bob", "builder", "")
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	cookie := http.Header{"Cookie": {wire.CookieName + "=" + r.body.User.Session}}

	c := e.dialFeed("", cookie)
	send(t, c, `{"type":"auth"}`) // no session, no pingtime (540)
	m := receive(t, c)
	assert.Equal(t, "ready", m["type"])
	assert.Equal(t, "bob", m["user"].(map[string]any)["login"])
	pingPong(t, c)

	c = e.dialFeed("", cookie)
	send(t, c, `{"type":"auth","session":""}`)
	assert.Equal(t, "ready", receive(t, c)["type"], "an empty session is an absent one")

	c = e.dialFeed("subid=tab1", cookie)
	send(t, c, `{"type":"auth"}`)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c), "a sub-ID's feed takes no cookie")
}

func TestFeedRefused(t *testing.T) {
	e := feedEnv(t, nil)
	tab1 := e.loginID("alice", "wonderland", "tab1")
	plain := e.loginID("bob", "builder", "")
	tests := []struct {
		name, query, msg string
	}{
		{"unknown session", "subid=tab1", authMsg("no-such-session")},
		{"another sub-ID's session", "subid=tab2", authMsg(tab1)},
		{"a sub-ID's session without one", "", authMsg(tab1)},
		{"the session without a sub-ID under one", "subid=tab1", authMsg(plain)},
		{"no session and no cookie", "", `{"type":"auth","pingtime":60}`},
		{"no session under a sub-ID", "subid=tab1", `{"type":"auth"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dialFeed(tt.query, nil)
			send(t, c, tt.msg)
			code, reason := closeReason(t, c)
			assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), code)
			assert.Equal(t, "logged out", reason)
		})
	}
	_, ok := e.sessions.Peek(tab1)
	assert.True(t, ok, "a refused feed ends no session")
}

func TestFeedBadRequest(t *testing.T) {
	e := feedEnv(t, nil)
	id := e.loginID("alice", "wonderland", "tab1")
	tests := []struct {
		name, query, msg string
		binary           bool
	}{
		{"not JSON", "subid=tab1", `hello`, false},
		{"JSON but no object", "subid=tab1", `["auth"]`, false},
		{"null", "subid=tab1", `null`, false},
		{"a ping first", "subid=tab1", `{"type":"ping"}`, false},
		{"no type", "subid=tab1", `{"session":"` + id + `"}`, false},
		{"session not a string", "subid=tab1", `{"type":"auth","session":5}`, false},
		{"pingtime too small", "subid=tab1", `{"type":"auth","session":"` + id + `","pingtime":9}`, false},
		{"pingtime too large", "subid=tab1", `{"type":"auth","session":"` + id + `","pingtime":1000}`, false},
		{"pingtime not a number", "subid=tab1", `{"type":"auth","session":"` + id + `","pingtime":"60"}`, false},
		{"pingtime not whole", "subid=tab1", `{"type":"auth","session":"` + id + `","pingtime":60.5}`, false},
		{"binary", "subid=tab1", authMsg(id), true},
		{"bad sub-ID", "subid=a%20b", authMsg(id), false},
		{"two sub-IDs", "subid=tab1&subid=tab1", authMsg(id), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dialFeed(tt.query, nil)
			typ := websocket.MessageText
			if tt.binary {
				typ = websocket.MessageBinary
			}
			ctx, cancel := context.WithTimeout(context.Background(), step)
			defer cancel()
			_ = c.Write(ctx, typ, []byte(tt.msg)) // a bad sub-ID may have closed the feed already
			code, reason := closeReason(t, c)
			assert.Equal(t, websocket.StatusCode(wire.FeedBadRequest), code)
			assert.Equal(t, "bad request", reason)
		})
	}

	t.Run("too big", func(t *testing.T) {
		c := e.dialFeed("subid=tab1", nil)
		send(t, c, `{"type":"auth","session":"`+id+`","pad":"`+strings.Repeat("x", 4<<10)+`"}`)
		assert.Equal(t, websocket.StatusMessageTooBig, closeCode(t, c))
	})
	t.Run("not JSON after ready", func(t *testing.T) {
		c := e.openFeed("tab1", id)
		send(t, c, `{"type":"ping"`)
		assert.Equal(t, websocket.StatusCode(wire.FeedBadRequest), closeCode(t, c))
	})
	_, ok := e.sessions.Peek(id)
	assert.True(t, ok, "a bad feed ends no session")
}

// TestFeedLate: a feed that sends no auth message in time is closed with
// 4000, and so is one that falls silent after it.
func TestFeedLate(t *testing.T) {
	e := feedEnv(t, func(cfg *Config) { cfg.Feed.FirstMessage = time.Millisecond })
	c := e.dialFeed("", nil)
	assert.Equal(t, websocket.StatusCode(wire.FeedBadRequest), closeCode(t, c), "no auth message")

	e = feedEnv(t, func(cfg *Config) {
		cfg.Feed.Silence = func(pingtime time.Duration) time.Duration {
			assert.Equal(t, 60*time.Second, pingtime, "the auth message's")
			return time.Millisecond
		}
	})
	id := e.loginID("alice", "wonderland", "")
	c = e.openFeed("", id)
	assert.Equal(t, websocket.StatusCode(wire.FeedBadRequest), closeCode(t, c), "silent after ready")
	e.waitFeeds(0)
	assert.Contains(t, e.log.String(), "feed 1 closed 4000 (bad request: no message within 1ms) after ")
}

// TestFeedLogout: a logout closes every feed of its session at once, and
// no other feed.
func TestFeedLogout(t *testing.T) {
	e := feedEnv(t, func(cfg *Config) {
		cfg.Feed.CheckEvery = time.Hour // only the end-of-session hook can close them
	})
	alice := e.loginID("alice", "wonderland", "tab1")
	bob := e.loginID("bob", "builder", "tab1")
	feeds := []*websocket.Conn{e.openFeed("tab1", alice), e.openFeed("tab1", alice), e.openFeed("tab1", alice)}
	other := e.openFeed("tab1", bob)

	r := e.doWith(e.srv.Client(), withSession(logoutReq("tab1"), alice))
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	for _, c := range feeds {
		code, reason := closeReason(t, c)
		assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), code)
		assert.Equal(t, "logged out", reason)
	}
	pingPong(t, other)
	e.waitFeeds(1)
	assert.Equal(t, 3, strings.Count(e.log.String(), "closed 4001 (logged out: its session ended)"))
}

// TestFeedExpiry: a session that expires on the server's clock, which no call
// notices, closes its feeds at the next check.
func TestFeedExpiry(t *testing.T) {
	e := feedEnv(t, nil) // the check runs every second
	id := e.loginID("alice", "wonderland", "")
	other := e.loginID("bob", "builder", "")
	c := e.openFeed("", id)
	e.clock.Add(store.DefaultIdleTimeout - time.Second)
	e.do(withSession(checkReq(""), other)) // bob's session is used, alice's is not
	e.clock.Add(time.Second)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c))
	_, ok := e.sessions.Peek(other)
	assert.True(t, ok)
}

// TestFeedCheckIsNoUse: the feed's checks and pings do not keep a session
// alive; only calls do.
func TestFeedCheckIsNoUse(t *testing.T) {
	e := feedEnv(t, func(cfg *Config) { cfg.Feed.CheckEvery = time.Millisecond })
	id := e.loginID("alice", "wonderland", "")
	c := e.openFeed("", id)
	opened, ok := e.sessions.Peek(id)
	require.True(t, ok)
	e.clock.Add(time.Hour)
	for range 3 {
		pingPong(t, c)
	}
	ss, ok := e.sessions.Peek(id)
	require.True(t, ok)
	assert.Equal(t, opened.LastUsed, ss.LastUsed, "opening the feed was the last use")
}

// TestFeedTokenRevoked: a logout that names a token ends the sessions made
// from it, whoever holds them, and so their feeds.
func TestFeedTokenRevoked(t *testing.T) {
	e := feedEnv(t, func(cfg *Config) { cfg.Feed.CheckEvery = time.Hour })
	first := e.doWith(e.srv.Client(), loginReq("alice", "wonderland", "tab1"))
	require.Equal(t, http.StatusOK, first.status, "body %s", first.raw)
	tok := e.tokenOf(first)
	second := e.doWith(e.srv.Client(), tokenLoginReq(tok.Value, "tab2"))
	require.Equal(t, http.StatusOK, second.status, "body %s", second.raw)
	c1 := e.openFeed("tab1", first.body.User.Session)
	c2 := e.openFeed("tab2", second.body.User.Session)

	r := e.doWith(e.srv.Client(), req{path: wire.PathLogout, body: body(wire.Auth{Type: wire.TypeAuth, Token: tok.Value})})
	require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c1))
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c2))
}

// TestFeedTokenDied: a session lives no longer than its token; a token that
// dies by time closes the feed at the next check.
func TestFeedTokenDied(t *testing.T) {
	e := feedEnv(t, nil)
	first := e.doWith(e.srv.Client(), loginReq("alice", "wonderland", "tab1"))
	require.Equal(t, http.StatusOK, first.status, "body %s", first.raw)
	e.clock.Add(20 * time.Hour)
	// A session made from the token 20 hours on: its own limits are far,
	// its token (24 hours, whatever its use) dies in 4 hours.
	second := e.doWith(e.srv.Client(), tokenLoginReq(e.tokenOf(first).Value, "tab2"))
	require.Equal(t, http.StatusOK, second.status, "body %s", second.raw)
	c := e.openFeed("tab2", second.body.User.Session)
	e.clock.Add(4 * time.Hour)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c))
}

// TestFeedExternalDeleted: the feed of an external user's session closes
// when the user is deleted, which happens by time passing.
func TestFeedExternalDeleted(t *testing.T) {
	e := feedEnv(t, nil)
	ext := e.createExternal("Guest", true)
	loginNoToken := func(subID string) string {
		r := e.doWith(e.srv.Client(), req{path: wire.PathLogin, query: subQuery(subID),
			body: body(wire.Auth{Type: wire.TypeAuth, Username: ext.Login, Password: "dummy", NoToken: true})})
		require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
		return r.body.User.Session
	}
	first, second := loginNoToken("tab1"), loginNoToken("tab2")
	c := e.openFeed("tab2", second)
	require.Equal(t, http.StatusOK, e.doWith(e.srv.Client(), withSession(logoutReq("tab1"), first)).status)
	pingPong(t, c) // the user is used up, not yet deleted
	e.clock.Add(users.ExternalAfterEnd)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), closeCode(t, c))
	_, ok := e.sessions.Peek(second)
	assert.False(t, ok, "the session of a deleted user ends")
}

// TestFeedOrigin: the handshake passes the REST calls' origin rules.
func TestFeedOrigin(t *testing.T) {
	e := feedEnv(t, nil)
	id := e.loginID("alice", "wonderland", "")
	for _, origin := range []string{"", e.srv.URL, "http://localhost:3000"} {
		var header http.Header
		if origin != "" {
			header = http.Header{"Origin": {origin}}
		}
		c := e.dialFeed("", header)
		send(t, c, authMsg(id))
		assert.Equal(t, "ready", receive(t, c)["type"], "origin %q", origin)
	}
	for _, origin := range []string{"http://evil.example", "null", "http://localhost.evil.example"} {
		_, resp, err := dial(e.srv.URL, "", http.Header{"Origin": {origin}})
		require.Error(t, err, origin)
		require.NotNil(t, resp, origin)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, origin)
	}
	assert.Contains(t, e.log.String(), "GET "+wire.FeedPath+" 403 ")

	// A foreign Host is refused before anything else, as for every path.
	hr, err := http.NewRequest(http.MethodGet, e.srv.URL+wire.FeedPath, nil)
	require.NoError(t, err)
	hr.Host = "evil.example"
	hr.Header.Set("Connection", "Upgrade")
	hr.Header.Set("Upgrade", "websocket")
	resp, err := e.srv.Client().Do(hr)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
}

// TestFeedServerTimeouts: the http.Server's read and write timeouts, which
// stay on a hijacked connection, do not cut a feed. Timeouts of a nanosecond
// have passed before the handler runs: any read or write on the connection
// would fail unless the feed clears them.
func TestFeedServerTimeouts(t *testing.T) {
	e := feedEnv(t, nil)
	srv := httptest.NewUnstartedServer(e.server)
	srv.Config.ReadHeaderTimeout = step
	srv.Config.ReadTimeout = time.Nanosecond
	srv.Config.WriteTimeout = time.Nanosecond
	srv.Start()
	t.Cleanup(srv.Close)

	id := e.loginID("alice", "wonderland", "")
	c, resp, err := dial(srv.URL, "", nil)
	require.NoError(t, err, "dial: %v", resp)
	t.Cleanup(func() { _ = c.CloseNow() })
	send(t, c, authMsg(id))
	assert.Equal(t, "ready", receive(t, c)["type"])
	pingPong(t, c)
}

// TestFeedShutdown: Shutdown closes every feed with 1012, those before
// their auth too, and the feeds that come later get the same.
func TestFeedShutdown(t *testing.T) {
	e := feedEnv(t, nil)
	id := e.loginID("alice", "wonderland", "")
	ready := e.openFeed("", id)
	early := e.dialFeed("", nil)
	e.waitFeeds(2)

	codes := make(chan websocket.StatusCode, 2)
	for _, c := range []*websocket.Conn{ready, early} {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), closeWait)
			defer cancel()
			_, _, err := c.Read(ctx)
			codes <- websocket.CloseStatus(err)
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	require.NoError(t, e.server.Shutdown(ctx))
	assert.Equal(t, websocket.StatusCode(wire.FeedRestart), <-codes)
	assert.Equal(t, websocket.StatusCode(wire.FeedRestart), <-codes)
	assert.Zero(t, e.server.feeds.Len())

	late := e.dialFeed("", nil)
	code, reason := closeReason(t, late)
	assert.Equal(t, websocket.StatusCode(wire.FeedRestart), code)
	assert.Equal(t, "restart", reason)
}

// TestFeedNotWebSocket: a plain GET of the path is no handshake.
func TestFeedNotWebSocket(t *testing.T) {
	e := feedEnv(t, nil)
	r := e.do(req{method: http.MethodGet, path: wire.FeedPath, contentType: "-"})
	assert.Equal(t, http.StatusUpgradeRequired, r.status, "body %s", r.raw)
}

func TestBuildVersion(t *testing.T) {
	assert.NotEmpty(t, feedserver.BuildVersion())
	e := newEnv(t, nil)
	id := e.loginID("alice", "wonderland", "")
	c := e.dialFeed("", nil)
	send(t, c, authMsg(id))
	assert.Equal(t, feedserver.BuildVersion(), receive(t, c)["version"], "the default")
}
