// Package fault makes the local PBX server fail on purpose, for tests only.
//
// An Injector in front of the server's handler gives its API requests added
// latency, 500s, connection resets, truncated bodies, replies that are not
// JSON or are too large, or a live feed that drops, as a test switches it
// at run time. Tests check with it that every call of a client ends with
// the right error code within its deadline, and that the client works
// again once the fault stops.
//
//	in := fault.New(pbxHandler) // off: every request passes through
//	in.Set(fault.Status500)     // every API call now fails with a 500
//	in.Set(fault.Off)
//
// Only the PBX's API is faulted: the IPCortex REST calls and the live feed
// under /rest/ (Vodia's session path too), and Ping's /auth/ and
// /api/extensions/; the module's files under /api/ and every other path pass
// through, so a page still loads while its calls fail. CORS preflights
// (OPTIONS with Access-Control-Request-Method) pass through too: the fault is
// in the PBX's API, not in its CORS front end, so the browser lets a trusted
// page read a faulted reply (which carries the CORS headers the PBX gives
// that page's preflight; the Injector asks the PBX for them with a
// preflight of its own, which the PBX answers without side effects) and the
// page sees what the PBX's failure looks like, not a CORS refusal.
//
// A faulted request never reaches the PBX: a fault changes nothing there,
// so a login made before a fault is still there after it. Latency is the
// exception: it delays the request and then passes it on, unless the client
// gave up first.
//
// An Injector also serves its switch at Path (POST {"mode": "500"}), for
// tests that run the server in another process; see ServeHTTP. Never put an
// Injector in front of a server anyone relies on.
package fault

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
)

// Path is where an Injector serves its switch.
const Path = "/test/fault"

// APIPath reports whether path is part of the PBX's API, which an Injector
// faults: /rest/ (the IPCortex REST calls, the live feed, Vodia's session
// path), and Ping's /auth/ and /api/extensions/.
func APIPath(path string) bool {
	return strings.HasPrefix(path, "/rest/") || strings.HasPrefix(path, "/auth/") || strings.HasPrefix(path, pingserver.PathExtensions)
}

// Injector is an http.Handler that passes requests to the PBX's handler,
// faulting the API requests as its mode says. Its methods are safe for
// concurrent use.
type Injector struct {
	// Logger, if set before the Injector serves, gets one line per faulted
	// request and per live feed cut (the PBX's own log never sees them).
	Logger *log.Logger

	next http.Handler

	mu      sync.Mutex
	mode    Mode
	changed chan struct{} // closed, and replaced, at every Set
	feeds   map[*feedConn]struct{}

	faulted atomic.Int64
}

// New returns an Injector in front of next, Off.
func New(next http.Handler) *Injector {
	return &Injector{next: next, changed: make(chan struct{}), feeds: map[*feedConn]struct{}{}}
}

// Set switches the fault for the requests that come next. It ends the
// waits of the requests delayed by a latency (see Latency), and setting
// DropFeed cuts every open live feed.
func (in *Injector) Set(m Mode) {
	in.mu.Lock()
	in.mode = m
	close(in.changed)
	in.changed = make(chan struct{})
	var cut []*feedConn
	if m.k == kindDropFeed {
		for c := range in.feeds {
			cut = append(cut, c)
		}
	}
	in.mu.Unlock()
	in.logf("fault: now %s", m)
	for _, c := range cut {
		in.faulted.Add(1)
		in.logf("fault %s: cut a live feed", m)
		c.reset()
	}
}

func (in *Injector) logf(format string, args ...any) {
	if in.Logger != nil {
		in.Logger.Printf(format, args...)
	}
}

// Mode returns the fault now set.
func (in *Injector) Mode() Mode {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.mode
}

// Faulted returns how many requests and feeds the Injector has faulted so
// far (a request delayed by a latency counts too), so that a test
// can check that its calls met the fault.
func (in *Injector) Faulted() int64 { return in.faulted.Load() }

func (in *Injector) now() (Mode, <-chan struct{}) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.mode, in.changed
}

// ServeHTTP serves one request: Path is the switch, an API request gets the
// fault, everything else passes through.
//
// POST Path with {"mode": "500"} (a name as ParseMode reads it) sets the
// mode, GET Path reads it; both answer {"mode": NAME, "faulted": N}. Only
// requests to a loopback host name (localhost, 127.0.0.0/8, [::1]) that come
// from no page or from a page of the server's own origin may use it, so that
// no other site's page can switch it, even through DNS rebinding.
func (in *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == Path {
		in.serveSwitch(w, r)
		return
	}
	if !APIPath(r.URL.Path) || isPreflight(r) {
		in.next.ServeHTTP(w, r)
		return
	}
	in.serve(w, r)
}

// serve applies the mode now set to r.
func (in *Injector) serve(w http.ResponseWriter, r *http.Request) {
	m, changed := in.now()
	feed := r.URL.Path == wire.FeedPath
	switch {
	case m.k == kindOff,
		feed && m.k != kindLatency && m.k != kindDropFeed,
		!feed && m.k == kindDropFeed:
		in.pass(w, r)
		return
	}
	in.faulted.Add(1)
	in.logf("fault %s: %s %s", m, r.Method, r.URL.EscapedPath()) // no query: it may carry a sub-ID
	switch m.k {
	case kindLatency:
		r = withReadBody(r)
		t := time.NewTimer(m.delay)
		defer t.Stop()
		select {
		case <-t.C:
			select {
			case <-changed: // the mode changed as the wait ended
				in.latencyEnded(w, r)
			default:
				in.pass(w, r)
			}
		case <-changed:
			in.latencyEnded(w, r)
		case <-r.Context().Done(): // the client gave up; the PBX never hears of it
		}
	case kindReset, kindDropFeed:
		resetConn(w)
	case kindStatus500:
		in.reply(w, r, http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal Server Error\n"), 0)
	case kindNotJSON:
		in.reply(w, r, http.StatusOK, "text/html; charset=utf-8", []byte(notJSONPage), 0)
	case kindOversized:
		in.reply(w, r, http.StatusOK, "application/json", oversized(), 0)
	case kindTruncate:
		body := []byte(truncatedReply)
		in.reply(w, r, http.StatusOK, "application/json", body[:len(body)/2], len(body))
	}
}

// latencyEnded answers a request that was waiting out a latency when the
// mode changed: 503, not passed on. A reply, not a reset: a browser that
// has not yet dropped a request its page gave up on sends it again, on a
// new connection, when the connection it went out on is reset before any
// reply, and that request would then reach the PBX after the test has
// moved on.
func (in *Injector) latencyEnded(w http.ResponseWriter, r *http.Request) {
	in.reply(w, r, http.StatusServiceUnavailable, "text/plain; charset=utf-8",
		[]byte("Service Unavailable: the latency fault was switched while this request waited\n"), 0)
}

// pass passes r to the PBX, keeping the connection of a live feed.
func (in *Injector) pass(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == wire.FeedPath {
		w = &feedWriter{ResponseWriter: w, in: in}
	}
	in.next.ServeHTTP(w, r)
}

// maxHeldBody bounds the body that a request waiting out a latency has read
// beforehand; the PBX's own limits are lower.
const maxHeldBody = 1 << 20

// withReadBody returns r with its body read, so that the wait notices a
// client that gives up: net/http watches the connection for its close only
// once the request's body has been read (the handler's context then ends),
// and a request whose client gave up must not reach the PBX when the wait
// ends. A body over maxHeldBody is passed on with what was read of it.
func withReadBody(r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	held, _ := io.ReadAll(io.LimitReader(r.Body, maxHeldBody+1)) // a failed read: the PBX sees the body cut, as it would
	r = r.WithContext(r.Context())                               // a shallow copy, whose Body may change
	body := io.Reader(bytes.NewReader(held))
	if len(held) > maxHeldBody {
		body = io.MultiReader(body, r.Body)
	}
	r.Body = readCloser{body, r.Body}
	return r
}

// readCloser reads one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}
