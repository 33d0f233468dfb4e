// Package feed keeps a page's live connection to the PBX, as IPCortex.PBX.startFeed does.
//
// It turns what happens to the connection into the vendor's error numbers:
// a logout made anywhere else reaches the page within a second or two,
// drops are survived by reconnecting with exponential backoff and jitter,
// and a feed that cannot come back gives up when the page said.
//
// One state machine serves the browser module (over the browser's
// WebSocket) and Go programs (over github.com/coder/websocket, in
// core/native): it reaches the world only through a Dialer, a clock and the
// owner's callbacks, so tests drive it with a fake clock and fake sockets.
package feed

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/clock"
)

// Socket is one WebSocket connection carrying text messages.
type Socket interface {
	Send(ctx context.Context, msg []byte) error
	// Receive returns the next message, or a *CloseError once the
	// connection has closed.
	Receive(ctx context.Context) ([]byte, error)
	// Close closes the connection with a code and reason; it does not wait.
	Close(code int, reason string)
}

// Dialer opens Sockets.
type Dialer interface {
	Dial(ctx context.Context, url string) (Socket, error)
}

// CloseError is how a connection ended: the close code and reason the
// server sent, or 1006 (abnormal closure) when it sent none.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return "the feed closed (" + strconv.Itoa(e.Code) + " " + e.Reason + ")"
}

// CodeAbnormal is the close code of a connection that ended without a close
// frame: the network failed, or the server went away.
const CodeAbnormal = 1006

// The vendor's error numbers, as errCB(errno, text) receives them.
const (
	ErrInternal  = 1   // an internal error; recovery is attempted
	ErrLoggedOut = 2   // the login ended (logout elsewhere, expiry, revocation)
	ErrNotReady  = 3   // the feed was started before a login
	ErrOpen      = 91  // the WebSocket could not be opened
	ErrRunning   = 92  // the WebSocket failed while running
	ErrVersion   = 100 // the PBX's version changed
)

// Error is a feed failure with its errno.
type Error struct {
	Errno int
	Text  string
}

func (e *Error) Error() string { return e.Text + " (errno " + strconv.Itoa(e.Errno) + ")" }

// Options are startFeed's options that the feed honours.
type Options struct {
	// PingTime is the keep-alive interval, 10 s to 999 s (0: 540 s).
	PingTime time.Duration
	// MaxRetry is how long to keep reconnecting after a drop: 0 never,
	// RetryForever (the default for pages that pass nothing) forever.
	MaxRetry time.Duration
}

// RetryForever as Options.MaxRetry keeps reconnecting for as long as it takes.
const RetryForever time.Duration = -1

// Limits of the options.
const (
	MinPingTime     = 10 * time.Second
	MaxPingTime     = 999 * time.Second
	DefaultPingTime = 540 * time.Second
)

// Validate checks the options as startFeed's bad_option errors do.
func (o Options) Validate() error {
	if o.PingTime != 0 && (o.PingTime < MinPingTime || o.PingTime > MaxPingTime) {
		return errors.New("Options.PingTime must be 10 to 999 seconds")
	}
	if o.MaxRetry < 0 && o.MaxRetry != RetryForever {
		return errors.New("Options.MaxRetry must be 0 or more seconds, or RetryForever to retry forever")
	}
	return nil
}

// Backoff bounds: the first retry waits about BackoffBase, each later one
// twice as long, up to BackoffMax; each wait is drawn at random from its
// upper half (jitter), so that many pages do not reconnect in step.
const (
	BackoffBase = 500 * time.Millisecond
	BackoffMax  = 30 * time.Second
)

// Backoff returns the wait before retry number n (from 0) for a jitter draw
// r in [0, 1).
func Backoff(n int, r float64) time.Duration {
	d := BackoffBase
	for i := 0; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	if d > BackoffMax {
		d = BackoffMax
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// Timeout bounds opening a connection and its first answer.
const Timeout = 20 * time.Second

// Owner is what the feed needs of the login it belongs to.
type Owner interface {
	// Connect returns the feed's URL and its first message (the credential
	// held now, and the keep-alive interval the feed pings at), or an *Error
	// (ErrNotReady without a login).
	Connect(pingTime time.Duration) (url string, hello []byte, err error)
	// Relogin is asked when the server says the login ended: it may
	// restore it (a saved token); true reconnects at once.
	Relogin() bool
	// LoggedOut clears the login; it runs before the error is reported.
	LoggedOut()
	// Reconnected runs after each reconnection, to re-check the login.
	Reconnected()
}

// Config wires a Feed.
type Config struct {
	Dialer Dialer
	Clock  clock.Clock
	// Jitter returns a number in [0, 1) (default: 0.5).
	Jitter func() float64
	Owner  Owner
	// OnUp is told each time the feed is up; OnError every error, in order.
	OnUp    func()
	OnError func(errno int, text string)
}

// Feed is one live connection, started and stopped by the page.
type Feed struct {
	cfg Config

	mu  sync.Mutex
	run *run // the running feed, nil when stopped
	// last is the feed launched last, kept once it has ended by itself so
	// that Wait still reports how; nil after Stop.
	last    *run
	version string
}

// New returns a stopped Feed.
func New(cfg Config) *Feed {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func() float64 { return 0.5 }
	}
	return &Feed{cfg: cfg}
}

// run is one started feed; Stop ends it.
type run struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	// out is the outcome of the current attempt, guarded by the Feed's mu.
	// While the feed is down between retries it is a new, unknown one, so
	// that a Start then waits for the next attempt instead of reporting the
	// feed up.
	out *outcome
	// launched is out as the last Launch found it, guarded by the Feed's mu:
	// what the Wait after that Launch answers with, although the loop may
	// have failed that attempt and replaced out since (see Wait).
	launched *outcome
}

// outcome is how an attempt to bring the feed up ended: err nil if it
// came up; known once done is closed.
type outcome struct {
	done chan struct{}
	err  error
}

func newOutcome() *outcome { return &outcome{done: make(chan struct{})} }

func (o *outcome) settled() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

// Start starts the feed (or joins the one running) and returns once it is
// up, or with its first error: Launch, then Wait, on the attempt that its
// own Launch found.
func (f *Feed) Start(ctx context.Context, o Options) error {
	out, err := f.launch(o)
	if err != nil {
		return err
	}
	return out.wait(ctx)
}

// Launch starts the feed unless it is running, and returns at once. The
// feed goes on after a failed start when the failure is one it retries;
// later errors reach OnError only.
func (f *Feed) Launch(o Options) error {
	_, err := f.launch(o)
	return err
}

// launch is Launch; it returns the outcome of the attempt that a Start
// waits for: the first one of a feed it started, the current or next one
// of a feed running already.
func (f *Feed) launch(o Options) (*outcome, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.PingTime == 0 {
		o.PingTime = DefaultPingTime
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.run == nil {
		r := &run{opts: o, out: newOutcome()}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		f.run, f.last = r, r
		go f.loop(r)
	}
	// Taken here, under the lock that the loop's reopen takes too: read
	// later, out could already be the next attempt's, and the first error
	// would be missed (the loop fails a refused dial at once).
	f.run.launched = f.run.out
	return f.run.out, nil
}

// Wait returns once the feed launched last is up, or with its first error
// since the last Launch, also when that feed has ended or has failed and
// is waiting to retry since. Once that attempt came up, a Wait while the
// feed is down between retries waits for the next attempt.
func (f *Feed) Wait(ctx context.Context) error {
	f.mu.Lock()
	r := f.last
	var o *outcome
	if r != nil {
		o = r.launched
		if o.settled() && o.err == nil {
			o = r.out
		}
	}
	f.mu.Unlock()
	if r == nil {
		return errStopped
	}
	return o.wait(ctx)
}

// wait returns the outcome once it is known.
func (o *outcome) wait(ctx context.Context) error {
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop ends the feed without an error; a later Start begins anew.
func (f *Feed) Stop() {
	f.mu.Lock()
	r := f.run
	f.run, f.last = nil, nil
	f.mu.Unlock()
	if r != nil {
		r.cancel()
		f.settle(r, errStopped)
	}
}

var errStopped = &Error{Errno: ErrInternal, Text: "the feed is stopped; start it again"}

// Running reports whether the feed is started.
func (f *Feed) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.run != nil
}

// settle records the outcome of r, unless it is known already.
func (f *Feed) settle(r *run, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !r.out.settled() {
		r.out.err = err
		close(r.out.done)
	}
}

// reopen makes the outcome of r unknown again: the feed is down and will
// try again, so a Wait from now on waits for that attempt.
func (f *Feed) reopen(r *run) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.out.settled() {
		r.out = newOutcome()
	}
}

func (f *Feed) report(r *run, errno int, text string) {
	if r.ctx.Err() != nil {
		return // stopped: nothing more to say
	}
	f.settle(r, &Error{Errno: errno, Text: text})
	if f.cfg.OnError != nil {
		f.cfg.OnError(errno, text)
	}
}

// end stops r from inside its loop.
func (f *Feed) end(r *run) {
	f.mu.Lock()
	if f.run == r {
		f.run = nil
	}
	f.mu.Unlock()
	r.cancel()
}

// loop connects, runs and reconnects until the feed is stopped, the login
// ends, or the retries run out.
func (f *Feed) loop(r *run) {
	defer func() {
		if v := recover(); v != nil {
			func() {
				defer func() { _ = recover() }() // OnError itself may be what failed
				f.report(r, ErrInternal, "internal error in the feed; it stopped, start it again")
			}()
			f.end(r)
		}
	}()
	everUp, relogged := false, false
	retry, waited := 0, time.Duration(0)
	for r.ctx.Err() == nil {
		wasUp, err := f.session(r, everUp)
		if wasUp {
			everUp, relogged, retry, waited = true, false, 0, 0
		}
		ce, isClose := errors.AsType[*CloseError](err)
		fe, isFeed := errors.AsType[*Error](err)
		switch {
		case r.ctx.Err() != nil:
			return
		case isFeed: // not logged in, or the PBX is not one
			f.report(r, fe.Errno, fe.Text)
			f.end(r)
			return
		case isClose && ce.Code == wire.FeedTooMany:
			// Reconnecting would close the user's next oldest feed, and so on
			// round all the tabs: stop, and say why.
			f.report(r, ErrRunning, "the PBX closed this feed because its user has too many open ("+err.Error()+"); close other tabs, then start it again")
			f.end(r)
			return
		case isClose && ce.Code == wire.FeedLoggedOut:
			if !relogged && f.cfg.Owner.Relogin() {
				relogged = true // once: a login that the feed still refuses has ended
				continue
			}
			f.cfg.Owner.LoggedOut()
			f.report(r, ErrLoggedOut, "logged out: the login ended elsewhere, expired or was revoked")
			f.end(r)
			return
		}
		errno := ErrOpen
		if everUp {
			errno = ErrRunning
		}
		wait := Backoff(retry, f.cfg.Jitter())
		if r.opts.MaxRetry != RetryForever && waited+wait > r.opts.MaxRetry {
			f.report(r, errno, "the feed gave up ("+err.Error()+"): Options.MaxRetry has passed; start it again")
			f.end(r)
			return
		}
		what := "could not be opened"
		if everUp {
			what = "dropped"
		}
		f.report(r, errno, "the feed "+what+" ("+err.Error()+"); trying again")
		f.reopen(r)
		retry++
		waited += wait
		if !f.sleep(r.ctx, wait) {
			return
		}
	}
}

func (f *Feed) sleep(ctx context.Context, d time.Duration) bool {
	done := make(chan struct{})
	t := f.cfg.Clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}

// session opens one connection and runs it until it ends, and says whether
// it was up.
func (f *Feed) session(r *run, everUp bool) (bool, error) {
	url, hello, err := f.cfg.Owner.Connect(r.opts.PingTime)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(r.ctx, Timeout)
	sock, err := f.cfg.Dialer.Dial(ctx, url)
	if err != nil {
		cancel()
		return false, err
	}
	defer sock.Close(1000, "")
	if err := sock.Send(ctx, hello); err != nil {
		cancel()
		return false, err
	}
	msg, err := sock.Receive(ctx)
	cancel()
	if err != nil {
		return false, err
	}
	version, ok := readyVersion(msg)
	if !ok {
		return false, &Error{Errno: ErrInternal, Text: "the PBX's feed did not answer as documented; check that Client.SetWSHost names an IPCortex PBX"}
	}
	f.mu.Lock()
	changed := f.version != "" && f.version != version
	f.version = version
	f.mu.Unlock()
	f.settle(r, nil)
	if f.cfg.OnUp != nil {
		f.cfg.OnUp()
	}
	if everUp {
		f.cfg.Owner.Reconnected()
	}
	if changed {
		f.report(r, ErrVersion, "the PBX's version changed; reload the page")
	}

	pingCtx, stopPing := context.WithCancel(r.ctx)
	defer stopPing()
	go f.ping(pingCtx, r.opts.PingTime, sock)
	for {
		if _, err := sock.Receive(r.ctx); err != nil {
			return true, err
		}
	}
}

// ping sends the keep-alive every interval until ctx ends.
func (f *Feed) ping(ctx context.Context, every time.Duration, sock Socket) {
	for f.sleep(ctx, every) {
		sctx, cancel := context.WithTimeout(ctx, Timeout)
		_ = sock.Send(sctx, []byte(`{"type":"ping"}`)) // a failed send shows as a failed Receive
		cancel()
	}
}

// readyVersion reads {"type":"ready","version":V,...}.
func readyVersion(msg []byte) (string, bool) {
	m, err := wire.DecodeFeedMessage(msg)
	if err != nil || m.Type != wire.FeedReady {
		return "", false
	}
	return m.Version, true
}
