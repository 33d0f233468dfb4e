package feed_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
