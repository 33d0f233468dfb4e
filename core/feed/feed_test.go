package feed_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
)

// The tests run in a synctest bubble: its clock is fake and moves only when
// every goroutine of the bubble is blocked, so time.Sleep in a test is
// "advance the clock", and synctest.Wait lets the feed run until it waits
// for something (a message, a timer) again. The test plays the server
// through fake sockets, and every call the feed makes to its owner, its
// dialer and its callbacks is written to one log, in order.

// harness is a Feed with a fake server, an owner and callbacks that log.
type harness struct {
	t *testing.T
	f *feed.Feed

	mu       sync.Mutex
	events   []string // what happened since the last take
	texts    []string // the texts of the errors, in order
	conns    []*fakeConn
	refuse   int // the next dials to refuse; -1: all of them
	loggedIn bool
	relogin  []bool // Relogin's answers, in order; false once used up
	panicIn  string // "Connect", "Reconnected", "OnError": that call panics
}

func newHarness(t *testing.T, jitter ...float64) *harness {
	h := &harness{t: t, loggedIn: true}
	draws := 0
	cfg := feed.Config{
		Dialer: h,
		Owner:  h,
		OnUp:   func() { h.log("up") },
		OnError: func(errno int, text string) {
			h.mu.Lock()
			h.events = append(h.events, "error "+strconv.Itoa(errno))
			h.texts = append(h.texts, text)
			p := h.panicIn == "OnError"
			h.mu.Unlock()
			if p {
				panic("the page's error callback failed")
			}
		},
	}
	if len(jitter) > 0 {
		cfg.Jitter = func() float64 { // the draws in turn, the last one again
			r := jitter[min(draws, len(jitter)-1)]
			draws++
			return r
		}
	}
	h.f = feed.New(cfg)
	t.Cleanup(h.f.Stop)
	return h
}

func (h *harness) log(e string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

// take lets the feed run until it waits, and returns what happened since
// the last take.
func (h *harness) take() []string {
	synctest.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.events
	h.events = nil
	if e == nil {
		e = []string{}
	}
	return e
}

// lastText returns the text of the last error.
func (h *harness) lastText() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.texts) == 0 {
		return ""
	}
	return h.texts[len(h.texts)-1]
}

// conn returns the socket dialed last.
func (h *harness) conn() *fakeConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	require.NotEmpty(h.t, h.conns, "no socket was dialed")
	return h.conns[len(h.conns)-1]
}

func (h *harness) set(f func(h *harness)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

// start runs Start in its own goroutine; the channel gets its result.
func (h *harness) start(o feed.Options) <-chan error {
	done := make(chan error, 1)
	go func() { done <- h.f.Start(context.Background(), o) }()
	return done
}

// up starts the feed and brings it up with version.
func (h *harness) up(o feed.Options, version string) {
	h.t.Helper()
	done := h.start(o)
	require.Equal(h.t, []string{"connect", "dial"}, h.take())
	h.conn().ready(version)
	require.Equal(h.t, []string{"up"}, h.take())
	require.NoError(h.t, <-done)
}

// after checks that nothing happens just short of d, and returns what
// happens at d: the waits of the backoff are checked to the nanosecond.
func (h *harness) after(d time.Duration) []string {
	h.t.Helper()
	time.Sleep(d - time.Nanosecond)
	require.Equal(h.t, []string{}, h.take(), "something happened before %s", d)
	time.Sleep(time.Nanosecond)
	return h.take()
}

// errnoOf returns the errno of a *feed.Error, or -1.
func errnoOf(err error) int {
	var fe *feed.Error
	if errors.As(err, &fe) {
		return fe.Errno
	}
	return -1
}

// The owner.

const hello = `{"type":"auth","session":"S1","pingtime":540}`

func (h *harness) Connect(time.Duration) (string, []byte, error) {
	h.mu.Lock()
	loggedIn, p := h.loggedIn, h.panicIn == "Connect"
	h.events = append(h.events, "connect")
	h.mu.Unlock()
	if p {
		panic("the owner failed")
	}
	if !loggedIn {
		return "", nil, &feed.Error{Errno: feed.ErrNotReady, Text: "not logged in"}
	}
	return "wss://pbx.test" + wire.FeedPath, []byte(hello), nil
}

func (h *harness) Relogin() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, "relogin")
	if len(h.relogin) == 0 {
		return false
	}
	ok := h.relogin[0]
	h.relogin = h.relogin[1:]
	return ok
}

func (h *harness) LoggedOut() { h.log("loggedout") }

func (h *harness) Reconnected() {
	h.log("reconnected")
	h.mu.Lock()
	p := h.panicIn == "Reconnected"
	h.mu.Unlock()
	if p {
		panic("the owner failed")
	}
}

// The server.

func (h *harness) Dial(ctx context.Context, url string) (feed.Socket, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if url != "wss://pbx.test"+wire.FeedPath {
		h.t.Errorf("dialed %q", url)
	}
	if h.refuse != 0 {
		if h.refuse > 0 {
			h.refuse--
		}
		h.events = append(h.events, "refused")
		return nil, errors.New("connection refused")
	}
	h.events = append(h.events, "dial")
	c := &fakeConn{in: make(chan []byte, 8), closed: make(chan struct{})}
	h.conns = append(h.conns, c)
	return c, nil
}

// fakeConn is a socket whose other end is the test.
type fakeConn struct {
	in     chan []byte   // the server's messages
	closed chan struct{} // closed with end

	mu       sync.Mutex
	sent     []string // what the client sent, closed or not
	end      *feed.CloseError
	byClient bool
}

func (c *fakeConn) Send(ctx context.Context, msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, string(msg))
	if c.end != nil {
		return c.end
	}
	return nil
}

func (c *fakeConn) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-c.in:
		return m, nil
	case <-c.closed:
		return nil, c.end
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *fakeConn) Close(code int, reason string) { c.shut(code, reason, true) }

func (c *fakeConn) shut(code int, reason string, byClient bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end == nil {
		c.end, c.byClient = &feed.CloseError{Code: code, Reason: reason}, byClient
		close(c.closed)
	}
}

// ready is the server's answer to the auth message.
func (c *fakeConn) ready(version string) {
	c.in <- []byte(`{"type":"ready","version":"` + version + `","user":{"id":101}}`)
}

// drop closes the connection from the server's side.
func (c *fakeConn) drop(code int, reason string) { c.shut(code, reason, false) }

func (c *fakeConn) sends() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// closedBy returns the close code and whether the client closed.
func (c *fakeConn) closedBy() (code int, byClient bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.end == nil {
		return 0, false
	}
	return c.end.Code, c.byClient
}

var forever = feed.Options{MaxRetry: feed.RetryForever}

func TestStartResolvesWhenReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		assert.Equal(t, []string{hello}, h.conn().sends(), "the owner's first message is sent first")
		select {
		case err := <-done:
			t.Fatalf("Start returned %v before the server was ready", err)
		default:
		}
		assert.True(t, h.f.Running())

		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take())
		require.NoError(t, <-done)
		assert.NoError(t, h.f.Wait(context.Background()), "Wait after the feed is up")
		assert.True(t, h.f.Running())
	})
}

func TestWaitHonoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.f.Launch(forever))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		assert.ErrorIs(t, h.f.Wait(ctx), context.DeadlineExceeded)
		assert.True(t, h.f.Running(), "a caller that stops waiting does not stop the feed")
	})
}

func TestStartBeforeLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn = false })
		err := <-h.start(forever)
		assert.Equal(t, feed.ErrNotReady, errnoOf(err), "%v", err)
		assert.Equal(t, []string{"connect", "error 3"}, h.take(), "no dial without a login")
		assert.False(t, h.f.Running())
	})
}

// Wait reports the outcome of a feed that has already ended by itself, not
// "stopped": Start is Launch then Wait, and the loop may end in between.
func TestWaitAfterTheFeedEndedItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn = false })
		require.NoError(t, h.f.Launch(forever))
		assert.Equal(t, []string{"connect", "error 3"}, h.take())
		assert.False(t, h.f.Running())
		err := h.f.Wait(context.Background())
		assert.Equal(t, feed.ErrNotReady, errnoOf(err), "%v", err)

		h.f.Stop() // the page's stopFeed: from now on there is no feed to wait for
		assert.Equal(t, feed.ErrInternal, errnoOf(h.f.Wait(context.Background())))
	})
}

func TestLoggedOutWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take(),
			"Relogin is asked once; the login is cleared before the page hears of it")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "a logged-out feed does not reconnect")
	})
}

func TestTooManyFeedsStopsWithoutReconnecting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedTooMany, "too many feeds")
		assert.Equal(t, []string{"error 92"}, h.take(), "the login is kept; the page hears why")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "reconnecting would close the user's next oldest feed")
	})
}

func TestLoggedOutBeforeUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().drop(wire.FeedLoggedOut, "no live session of its sub-ID")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take())
		assert.Equal(t, feed.ErrLoggedOut, errnoOf(<-done))
		assert.False(t, h.f.Running())
	})
}

func TestReloginReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.relogin = []bool{true, true, false} })
		h.up(forever, "7.2")

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take(), "a restored login reconnects at once")
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.True(t, h.f.Running())

		// Up again, a later 4001 is a new ending: Relogin is asked again.
		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take())
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take())
		assert.False(t, h.f.Running())
	})
}

func TestReloginThatTheServerStillRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.relogin = []bool{true, true} })
		h.up(forever, "7.2")

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take())
		h.conn().drop(wire.FeedLoggedOut, "no live session of its sub-ID") // before ready
		assert.Equal(t, []string{"loggedout", "error 2"}, h.take(), "Relogin is asked once per ending")
		assert.False(t, h.f.Running())
	})
}

func TestDropReconnectsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := []float64{0.5, 0, 0.999, 0.25}
		h := newHarness(t, j...)
		h.up(forever, "7.2")

		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "trying again")
		h.set(func(h *harness) { h.refuse = 2 })
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(0, j[0])))
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(1, j[1])))
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(2, j[2])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())

		// A feed that came back starts counting again.
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "1012")
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, j[3])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.True(t, h.f.Running())
	})
}

// A Start while the feed is down between retries waits for the next
// attempt: it does not report a feed that is down as up.
func TestStartWhileRetryingWaitsForTheNextAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := []float64{0.5, 0.5}
		h := newHarness(t, j...)
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())

		h.set(func(h *harness) { h.refuse = 1 })
		refused := h.start(forever)
		synctest.Wait()
		select {
		case err := <-refused:
			t.Fatalf("Start during the backoff returned %v before the next attempt", err)
		default:
		}
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(0, j[0])))
		assert.Equal(t, feed.ErrRunning, errnoOf(<-refused), "that attempt failed")

		up := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(1, j[1])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.NoError(t, <-up, "that attempt came up")
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second,
	} {
		assert.Equal(t, want, feed.Backoff(n, 0), "Backoff(%d, 0)", n)
		assert.Equal(t, want*3/2, feed.Backoff(n, 0.5), "Backoff(%d, 0.5)", n)
	}
	assert.Equal(t, 15*time.Second, feed.Backoff(math.MaxInt, 0), "no overflow")

	below1 := math.Nextafter(1, 0)
	draws := []float64{0, below1, 0.5, 1e-9}
	for range 1000 {
		draws = append(draws, rand.Float64())
	}
	for n := range 70 {
		d := min(feed.BackoffBase<<min(n, 20), feed.BackoffMax)
		for _, r := range draws {
			w := feed.Backoff(n, r)
			if w < d/2 || w > d {
				t.Fatalf("Backoff(%d, %v) = %s, not within [%s, %s]", n, r, w, d/2, d)
			}
		}
		assert.Equal(t, d/2, feed.Backoff(n, 0))
		assert.InDelta(t, float64(d), float64(feed.Backoff(n, below1)), float64(time.Microsecond))
	}
}

func TestGiveUpNeverUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0) // waits 250 ms, 500 ms, 1 s, 2 s...
		h.set(func(h *harness) { h.refuse = -1 })
		done := h.start(feed.Options{MaxRetry: 2 * time.Second})
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		assert.Equal(t, feed.ErrOpen, errnoOf(<-done), "Start returns the first error")
		assert.True(t, h.f.Running(), "and the feed goes on")

		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(250*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(500*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(time.Second)) // 1.75 s waited; 2 s more would pass MaxRetry
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
	})
}

func TestGiveUpAfterUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0)
		h.up(feed.Options{MaxRetry: time.Second}, "7.2")
		h.set(func(h *harness) { h.refuse = -1 })
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(250*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(500*time.Millisecond)) // 0.75 s waited; 1 s more would pass MaxRetry
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
	})
}

func TestMaxRetryZeroGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(feed.Options{}, "7.2")
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())

		h.set(func(h *harness) { h.refuse = -1 })
		assert.Equal(t, feed.ErrOpen, errnoOf(<-h.start(feed.Options{})))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		assert.False(t, h.f.Running())
	})
}

func TestRetryForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0)
		h.set(func(h *harness) { h.refuse = -1 })
		assert.Equal(t, feed.ErrOpen, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		for n := range 40 { // 40 tries: about 8 minutes, the last 34 at the cap
			assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(feed.Backoff(n, 0)))
		}
		assert.True(t, h.f.Running())
		h.set(func(h *harness) { h.refuse = 0 })
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.BackoffMax/2))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take(), "Reconnected is for a feed that was up before")
	})
}

func TestStopDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		time.Sleep(feed.Backoff(0, 0.5) / 2)
		h.f.Stop()
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "a stopped feed neither connects nor reports")
	})
}

func TestStopWhileUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		c := h.conn()
		h.f.Stop()
		assert.Equal(t, []string{}, h.take())
		code, byClient := c.closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
		assert.Equal(t, []string{hello}, c.sends(), "no ping after Stop")
	})
}

func TestStopBeforeUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.f.Stop()
		err := <-done
		assert.Error(t, err, "Start waiting for the server returns once the feed is stopped")
		assert.Equal(t, []string{}, h.take(), "no OnError after Stop")
		code, byClient := h.conn().closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
	})
}

func TestLaunchTwiceStartsOneFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		first, second := h.start(forever), h.start(forever)
		require.NoError(t, h.f.Launch(forever))
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take())
		assert.NoError(t, <-first)
		assert.NoError(t, <-second)
		assert.NoError(t, <-h.start(forever), "Start on a running feed joins it")
		assert.Equal(t, []string{}, h.take())
	})
}

func TestPauseAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		old := h.conn()
		h.f.Stop()
		assert.Equal(t, []string{}, h.take())
		time.Sleep(time.Minute)

		h.up(forever, "7.2") // connects anew; the same version is no change
		assert.NotSame(t, old, h.conn())
		assert.True(t, h.f.Running())
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take(), "the resumed feed reconnects as the first did")
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
	})
}

func TestPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(feed.Options{PingTime: 10 * time.Second, MaxRetry: feed.RetryForever}, "7.2")
		c := h.conn()
		ping := `{"type":"ping"}`
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, []string{hello}, c.sends())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, []string{hello, ping}, c.sends())
		time.Sleep(20 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{hello, ping, ping, ping}, c.sends())

		h.set(func(h *harness) { h.refuse = -1 })
		c.drop(feed.CodeAbnormal, "")
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Len(t, c.sends(), 4, "no pings on a closed connection, nor while reconnecting")
	})
}

func TestDefaultPingTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		time.Sleep(feed.DefaultPingTime - time.Nanosecond)
		synctest.Wait()
		assert.Len(t, h.conn().sends(), 1)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Len(t, h.conn().sends(), 2)
	})
}

func TestVersionChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		h.conn().ready("7.3")
		assert.Equal(t, []string{"up", "reconnected", "error 100"}, h.take())
		assert.True(t, h.f.Running(), "the feed keeps running")

		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		h.conn().ready("7.3")
		assert.Equal(t, []string{"up", "reconnected"}, h.take(), "a version is new once")
	})
}

func TestNotAFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().in <- []byte(`<html>`)
		assert.Equal(t, []string{"error 1"}, h.take())
		assert.Equal(t, feed.ErrInternal, errnoOf(<-done))
		assert.False(t, h.f.Running())
	})
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o  feed.Options
		ok bool
	}{
		{feed.Options{}, true},
		{feed.Options{PingTime: 10 * time.Second}, true},
		{feed.Options{PingTime: 999 * time.Second}, true},
		{feed.Options{PingTime: 9 * time.Second}, false},
		{feed.Options{PingTime: 10*time.Second - time.Millisecond}, false},
		{feed.Options{PingTime: 1000 * time.Second}, false},
		{feed.Options{PingTime: -time.Second}, false},
		{feed.Options{MaxRetry: feed.RetryForever}, true},
		{feed.Options{MaxRetry: time.Hour}, true},
		{feed.Options{MaxRetry: -2}, false},
		{feed.Options{MaxRetry: -time.Second}, false},
	} {
		err := tc.o.Validate()
		if tc.ok {
			assert.NoError(t, err, "%+v", tc.o)
		} else {
			assert.Error(t, err, "%+v", tc.o)
		}
	}

	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		assert.Error(t, h.f.Launch(feed.Options{PingTime: time.Second}))
		assert.Error(t, <-h.start(feed.Options{MaxRetry: -5}))
		assert.False(t, h.f.Running())
		assert.Equal(t, []string{}, h.take())
	})
}

func TestPanicInTheOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.panicIn = "Connect" })
		assert.Equal(t, feed.ErrInternal, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "error 1"}, h.take())
		assert.False(t, h.f.Running())

		h.set(func(h *harness) { h.panicIn = "Reconnected" })
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		c := h.conn()
		c.ready("7.2")
		assert.Equal(t, []string{"up", "reconnected", "error 1"}, h.take())
		assert.False(t, h.f.Running())
		code, byClient := c.closedBy()
		assert.True(t, byClient, "the socket is closed on the way out")
		assert.Equal(t, 1000, code)

		h.set(func(h *harness) { h.panicIn = "" })
		h.up(forever, "7.2") // and the feed starts again
	})
}

func TestPanicInTheErrorCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn, h.panicIn = false, "OnError" })
		assert.Equal(t, feed.ErrNotReady, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "error 3", "error 1"}, h.take())
		assert.False(t, h.f.Running())

		h.set(func(h *harness) { h.loggedIn, h.panicIn = true, "" })
		h.up(forever, "7.2")
	})
}

func TestNoAnswerTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		c := h.conn()
		assert.Equal(t, []string{"error 91"}, h.after(feed.Timeout), "a server that never answers is a failed open")
		assert.Equal(t, feed.ErrOpen, errnoOf(<-done))
		code, byClient := c.closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
	})
}
