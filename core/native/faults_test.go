//go:build !js

package native_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
	"github.com/pbxauth/pbxauth/core/feed"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// The Go client against the local PBX server in its fault mode (web/fault):
// each fault ends every call with the code that says what happened, within
// the call's deadline, and once the fault stops the same client logs in
// again. Nothing here is timed: hangBound only turns a hang into a failure.

// hangBound is how long a test waits for a call to settle before it calls
// it hung: far beyond every deadline the calls have.
const hangBound = 2 * time.Minute

// faultClient is a Go client of s whose exchanges have the deadline timeout,
// as native.NewClient makes one (same transport, feed and backends).
func faultClient(t *testing.T, s *pbxtest.Server, timeout time.Duration) *auth.Client {
	t.Helper()
	tr := native.NewTransport()
	c, err := auth.New(auth.Config{Transport: tr, Dialer: &native.WebSockets{HTTP: tr.HTTP}, Host: s.URL,
		Random: native.Random, Timeout: timeout, Backends: []backend.Backend{ipcortex.New(), vodia.New(), ping.New()}})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangBound)
		defer cancel()
		_ = c.StopFeed(ctx)
		c.Close()
	})
	return c
}

// settle runs call and returns its error, failing the test at once if it
// does not return within hangBound.
func settle(t *testing.T, what string, call func(context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangBound):
		t.Fatalf("%s did not settle within %s: it hangs", what, hangBound)
		return nil
	}
}

// moduleCall is one of the calls a page makes that talk to the PBX.
type moduleCall struct {
	name string
	do   func(context.Context, *auth.Client) error
}

var moduleCalls = []moduleCall{
	{"login with password", func(ctx context.Context, c *auth.Client) error {
		return c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	}},
	{"login checkonly", func(ctx context.Context, c *auth.Client) error {
		return c.Login(ctx, auth.Options{CheckOnly: true})
	}},
	{"setCompany", func(ctx context.Context, c *auth.Client) error { return c.SetCompany(ctx, "acme") }},
	{"logout", func(ctx context.Context, c *auth.Client) error { return c.Logout(ctx) }},
}

func loginAlice(t *testing.T, c *auth.Client) {
	t.Helper()
	err := settle(t, "login", func(ctx context.Context) error {
		return c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	})
	require.NoError(t, err, "login as alice with no fault")
	require.Equal(t, int64(101), c.User().ID)
}

// wantAlice checks that c is logged in as alice.
func wantAlice(t *testing.T, c *auth.Client, when string) {
	t.Helper()
	if u := c.User(); assert.NotNil(t, u, "%s: logged out", when) {
		assert.Equal(t, int64(101), u.ID, when)
	}
}

// TestFaultsEachCallEndsWithItsCode: under each fault of the REST calls,
// login with a password, login({checkonly: true}), setCompany and logout
// each end with the fault's code; the user's properties stay (a failure
// that says nothing of the login does not log out); and once the fault
// stops, the login is still there on the server (a faulted request never
// reached it) and a new login works, with the same client.
func TestFaultsEachCallEndsWithItsCode(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	for _, f := range []struct {
		mode fault.Mode
		code auth.Code
		msg  string // in every call's message
	}{
		{fault.Status500, auth.CodeServer, "HTTP 500"},
		{fault.Reset, auth.CodeNetwork, "cannot reach"},
		{fault.Truncate, auth.CodeNetwork, "broke before its reply ended"},
		{fault.NotJSON, auth.CodeServer, "not the documented JSON"},
		{fault.Oversized, auth.CodeServer, "oversized"},
	} {
		t.Run(f.mode.String(), func(t *testing.T) {
			c := faultClient(t, s, auth.DefaultTimeout)
			loginAlice(t, c)

			s.Faults().Set(f.mode)
			t.Cleanup(func() { s.Faults().Set(fault.Off) })
			before := s.Faults().Faulted()
			for _, call := range moduleCalls {
				err := settle(t, call.name, func(ctx context.Context) error { return call.do(ctx, c) })
				t.Logf("%s: %v", call.name, err)
				if assert.Error(t, err, call.name) {
					assert.Equal(t, f.code, auth.CodeOf(err), "%s: %v", call.name, err)
					assert.Contains(t, err.Error(), f.msg, call.name)
				}
				wantAlice(t, c, "after "+call.name+" failed")
			}
			assert.Equal(t, int64(len(moduleCalls)), s.Faults().Faulted()-before, "every call met the fault")

			s.Faults().Set(fault.Off)
			require.NoError(t, settle(t, "check after the fault", func(ctx context.Context) error {
				return c.Login(ctx, auth.Options{CheckOnly: true})
			}), "the login made before the fault is still there")
			wantAlice(t, c, "after the fault")
			for _, call := range moduleCalls {
				assert.NoError(t, settle(t, call.name, func(ctx context.Context) error { return call.do(ctx, c) }), call.name+" after the fault")
			}
			loginAlice(t, c)
		})
	}
}

// TestFaultLatencyShorterThanTheDeadline: a slow PBX that answers within
// the deadline is only slow: every call succeeds.
func TestFaultLatencyShorterThanTheDeadline(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	c := faultClient(t, s, auth.DefaultTimeout)
	s.Faults().Set(fault.Latency(50 * time.Millisecond))
	before := s.Faults().Faulted()
	for _, call := range moduleCalls {
		require.NoError(t, settle(t, call.name, func(ctx context.Context) error { return call.do(ctx, c) }), call.name)
	}
	assert.Equal(t, int64(len(moduleCalls)), s.Faults().Faulted()-before, "every call was delayed")
}

// TestFaultLatencyLongerThanTheDeadline: a PBX that answers after the
// deadline gets every call ended with the timeout code; the calls that timed
// out never reached it (the logout did not log out), and once it is fast
// again, the same clients log in. Each call runs in a client of its own, so
// that the four deadlines run out together instead of one after another.
func TestFaultLatencyLongerThanTheDeadline(t *testing.T) {
	// A deadline far beyond what a login on loopback takes, even on a busy
	// machine, and far below the latency.
	const deadline = 5 * time.Second
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	clients := make([]*auth.Client, len(moduleCalls))
	for i := range clients {
		clients[i] = faultClient(t, s, deadline)
		loginAlice(t, clients[i])
	}
	s.Faults().Set(fault.Latency(time.Hour))
	t.Cleanup(func() { s.Faults().Set(fault.Off) })
	errs := make(chan error, len(moduleCalls))
	for i, call := range moduleCalls {
		go func() { errs <- call.do(context.Background(), clients[i]) }()
	}
	for range moduleCalls {
		select {
		case err := <-errs:
			assert.Equal(t, auth.CodeTimeout, auth.CodeOf(err), "%v", err)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		case <-time.After(hangBound):
			t.Fatalf("a call did not settle within %s under a latency of an hour: it hangs", hangBound)
		}
	}
	for i, c := range clients {
		wantAlice(t, c, moduleCalls[i].name+" timed out")
	}

	s.Faults().Set(fault.Off)
	for i, c := range clients {
		require.NoError(t, settle(t, "check", func(ctx context.Context) error {
			return c.Login(ctx, auth.Options{CheckOnly: true})
		}), "client of %s: the login is still there after the fault", moduleCalls[i].name)
		wantAlice(t, c, "after the fault")
		assert.Equal(t, "default", c.User().Company, "client of %s: the company did not change (the setCompany that timed out never reached the PBX)", moduleCalls[i].name)
		loginAlice(t, c)
	}
}

// TestFaultsOfTheOtherSystems: Vodia's and Ping's logins (with a temporary
// id, with a JWT) end with the same codes under the same faults, and work
// again after them.
func TestFaultsOfTheOtherSystems(t *testing.T) {
	const deadline = 5 * time.Second // a latency of an hour must end in it
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	token := map[string]func() (string, error){
		"vodia": func() (string, error) { return s.VodiaTemporaryID("acme", "42") },
		"ping":  func() (string, error) { return s.PingToken("carol", time.Hour) },
	}
	for _, f := range []struct {
		mode fault.Mode
		code auth.Code
	}{
		{fault.Status500, auth.CodeServer},
		{fault.Reset, auth.CodeNetwork},
		{fault.Truncate, auth.CodeNetwork},
		{fault.NotJSON, auth.CodeServer},
		{fault.Oversized, auth.CodeServer},
		{fault.Latency(time.Hour), auth.CodeTimeout},
	} {
		for _, system := range []string{"vodia", "ping"} {
			t.Run(f.mode.String()+"/"+system, func(t *testing.T) {
				c := faultClient(t, s, deadline)
				require.NoError(t, c.SetHostFor(s.URL, system))
				login := func(tok string) error {
					return settle(t, "login", func(ctx context.Context) error {
						return c.Login(ctx, auth.Options{Tokens: []string{tok}})
					})
				}
				tok, err := token[system]() // before the fault, which would fault this too
				require.NoError(t, err)
				s.Faults().Set(f.mode)
				t.Cleanup(func() { s.Faults().Set(fault.Off) })
				err = login(tok)
				assert.Equal(t, f.code, auth.CodeOf(err), "%v", err)
				assert.Nil(t, c.User())
				s.Faults().Set(fault.Off)
				tok, err = token[system]()
				require.NoError(t, err)
				require.NoError(t, login(tok), "after the fault")
				assert.Equal(t, int64(42), c.User().ID)
			})
		}
	}
}

// feedEvents records what a feed tells its page.
type feedEvents struct {
	ups    chan struct{}
	errnos chan int
}

func newFeedEvents() *feedEvents {
	return &feedEvents{ups: make(chan struct{}, 64), errnos: make(chan int, 64)}
}

func (e *feedEvents) callbacks() auth.FeedCallbacks {
	return auth.FeedCallbacks{
		OnUp:    func() { e.ups <- struct{}{} },
		OnError: func(errno int, _ string) { e.errnos <- errno },
	}
}

func (e *feedEvents) nextErrno(t *testing.T, what string) int {
	t.Helper()
	select {
	case n := <-e.errnos:
		return n
	case <-time.After(hangBound):
		t.Fatalf("%s: no error callback within %s", what, hangBound)
		return 0
	}
}

func (e *feedEvents) nextUp(t *testing.T, what string) {
	t.Helper()
	select {
	case <-e.ups:
	case <-time.After(hangBound):
		t.Fatalf("%s: the feed did not come up within %s", what, hangBound)
	}
}

func errnoOf(err error) int {
	var fe *feed.Error
	if errors.As(err, &fe) {
		return fe.Errno
	}
	return 0
}

// TestFaultDropFeed: when the feed drops, the running feed reports errno 92
// and keeps trying; a feed started while it cannot open fails with errno 91
// (and keeps trying, unless told not to); the REST calls are not affected;
// once the fault stops, the feed comes back by itself, with the same client.
func TestFaultDropFeed(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	c := faultClient(t, s, auth.DefaultTimeout)
	loginAlice(t, c)
	ev := newFeedEvents()
	require.NoError(t, settle(t, "startFeed", func(ctx context.Context) error {
		return c.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, ev.callbacks())
	}))
	ev.nextUp(t, "startFeed")

	s.Faults().Set(fault.DropFeed)
	t.Cleanup(func() { s.Faults().Set(fault.Off) })
	assert.Equal(t, feed.ErrRunning, ev.nextErrno(t, "the feed dropped"), "the running feed dropped")
	assert.NoError(t, settle(t, "check", func(ctx context.Context) error {
		return c.Login(ctx, auth.Options{CheckOnly: true})
	}), "the REST calls work while the feed drops")
	wantAlice(t, c, "while the feed drops")

	require.NoError(t, settle(t, "stopFeed", c.StopFeed))
	ev = newFeedEvents()
	err := settle(t, "startFeed under the fault", func(ctx context.Context) error {
		return c.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, ev.callbacks())
	})
	assert.Equal(t, feed.ErrOpen, errnoOf(err), "startFeed while the feed cannot open: %v", err)
	assert.Equal(t, feed.ErrOpen, ev.nextErrno(t, "startFeed under the fault"))

	s.Faults().Set(fault.Off)
	ev.nextUp(t, "the feed after the fault")
	wantAlice(t, c, "after the fault")

	// A feed told never to retry gives up at once.
	require.NoError(t, settle(t, "stopFeed", c.StopFeed))
	s.Faults().Set(fault.DropFeed)
	err = settle(t, "startFeed without retries", func(ctx context.Context) error {
		return c.StartFeed(ctx, feed.Options{MaxRetry: 0}, newFeedEvents().callbacks())
	})
	assert.Equal(t, feed.ErrOpen, errnoOf(err), "startFeed({maxWSRetryTime: 0}) while the feed cannot open: %v", err)
	s.Faults().Set(fault.Off)
	ev = newFeedEvents()
	require.NoError(t, settle(t, "startFeed after the fault", func(ctx context.Context) error {
		return c.StartFeed(ctx, feed.Options{MaxRetry: 0}, ev.callbacks())
	}))
}

// TestFaultSwitchOverHTTP: a test that runs the server in another process
// switches the fault with POST /test/fault, and the Go client sees it.
func TestFaultSwitchOverHTTP(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	c := faultClient(t, s, auth.DefaultTimeout)
	post := func(mode string) {
		t.Helper()
		resp, err := http.Post(s.URL+fault.Path, "application/json", strings.NewReader(`{"mode":"`+mode+`"}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	post("500")
	err := settle(t, "login", func(ctx context.Context) error {
		return c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	})
	assert.Equal(t, auth.CodeServer, auth.CodeOf(err), "%v", err)
	post("off")
	loginAlice(t, c)
}
