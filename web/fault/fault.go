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
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pbxauth/pbxauth/web/internal/jsonreply"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
)

// Path is where an Injector serves its switch.
const Path = "/test/fault"

// kind is what a Mode does.
type kind uint8

const (
	kindOff kind = iota
	kindLatency
	kindStatus500
	kindReset
	kindTruncate
	kindNotJSON
	kindOversized
	kindDropFeed
)

// Mode is the fault an Injector applies to every API request while it is
// set. The zero Mode is Off.
type Mode struct {
	k     kind
	delay time.Duration
}

// The modes. Status500, Reset, Truncate, NotJSON and Oversized fault the
// REST calls and leave the live feed alone; DropFeed faults the live feed
// alone; Latency delays both.
var (
	// Off faults nothing: every request passes through.
	Off = Mode{}
	// Status500 answers every REST call with 500 Internal Server Error and
	// a plain-text body, as a failing server behind a proxy does.
	Status500 = Mode{k: kindStatus500}
	// Reset resets the connection of every REST call (TCP RST) without a
	// reply.
	Reset = Mode{k: kindReset}
	// Truncate answers every REST call with 200 and a Content-Length of
	// more than it then sends: the connection closes in the middle of the
	// body.
	Truncate = Mode{k: kindTruncate}
	// NotJSON answers every REST call with 200 and an HTML page, as a web
	// server that is not the PBX does.
	NotJSON = Mode{k: kindNotJSON}
	// Oversized answers every REST call with 200 and a well-formed JSON
	// success of OversizedBytes, over the client's limit
	// (wire.MaxBody).
	Oversized = Mode{k: kindOversized}
	// DropFeed cuts every open live feed's connection at once (TCP RST, no
	// close frame), and resets every new one before it opens, until the
	// mode changes. The REST calls pass through.
	DropFeed = Mode{k: kindDropFeed}
)

// Latency delays every API request (the REST calls and the opening of the
// live feed) by d, then passes it on; a request whose client gives up first
// never reaches the PBX. A change of mode answers the requests still
// waiting with 503 Service Unavailable without passing them on, so that
// none reaches the PBX after the test has moved on, whether or not the
// server has yet seen its client give up (and a reply, unlike a reset, is
// not sent again by the browser). Latency(0) is Off.
func Latency(d time.Duration) Mode {
	if d <= 0 {
		return Off
	}
	return Mode{k: kindLatency, delay: d}
}

// OversizedBytes is the size of Oversized's reply: four times what clients
// accept.
const OversizedBytes = 4 * wire.MaxBody

// Delay is the latency of a Latency mode, 0 for the others.
func (m Mode) Delay() time.Duration { return m.delay }

// names are the modes' names, as String writes them and ParseMode reads
// them; Latency is "latency=" and a Go duration.
var names = map[kind]string{
	kindOff:       "off",
	kindStatus500: "500",
	kindReset:     "reset",
	kindTruncate:  "truncate",
	kindNotJSON:   "notjson",
	kindOversized: "oversized",
	kindDropFeed:  "dropfeed",
}

// String is the mode's name: off, latency=2s, 500, reset, truncate,
// notjson, oversized or dropfeed.
func (m Mode) String() string {
	if m.k == kindLatency {
		return "latency=" + m.delay.String()
	}
	return names[m.k]
}

// ParseMode reads a mode's name as String writes it (case does not
// matter).
func ParseMode(s string) (Mode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if d, ok := strings.CutPrefix(s, "latency="); ok {
		delay, err := time.ParseDuration(d)
		if err != nil || delay <= 0 {
			return Off, fmt.Errorf("fault: latency must be a positive Go duration such as latency=2s, not %q", d)
		}
		return Latency(delay), nil
	}
	for k, name := range names {
		if s == name {
			return Mode{k: k}, nil
		}
	}
	return Off, fmt.Errorf("fault: unknown mode %q; use off, latency=DURATION, 500, reset, truncate, notjson, oversized or dropfeed", s)
}

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

// notJSONPage is what a web server that is not the PBX answers.
const notJSONPage = "<!doctype html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"

// truncatedReply is a success as the PBX sends it; Truncate sends half.
const truncatedReply = `{"result":"success","user":{"id":101,"login":"alice","name":"Alice Example","company":"default","home":"default","perms":{"admin":"company"}}}`

// oversized is a well-formed JSON success of OversizedBytes.
func oversized() []byte {
	head, tail := `{"result":"success","user":{"id":101,"login":"alice"},"padding":"`, `"}`
	b := make([]byte, 0, OversizedBytes)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte("x"), OversizedBytes-len(head)-len(tail))...)
	return append(b, tail...)
}

// reply writes a faulted reply with the CORS headers the PBX gives r's
// page. A declared length over len(body) cuts the connection after body.
func (in *Injector) reply(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte, declared int) {
	h := w.Header()
	in.corsHeaders(h, r)
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if declared > len(body) {
		h.Set("Content-Length", strconv.Itoa(declared))
	} else {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if declared > len(body) {
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // net/http closes the connection, silently, mid-body
	}
}

// corsHeaders copies into h the CORS headers that the PBX gives a
// preflight of r, made from r's page: none for a request from no page or
// from a page the PBX does not trust, which then cannot read the reply, as
// it could not read the PBX's own.
func (in *Injector) corsHeaders(h http.Header, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		return
	}
	probe, err := http.NewRequestWithContext(r.Context(), http.MethodOptions, r.URL.String(), http.NoBody)
	if err != nil {
		return
	}
	probe.Host, probe.RemoteAddr, probe.TLS, probe.RequestURI = r.Host, r.RemoteAddr, r.TLS, r.RequestURI
	probe.Header.Set("Origin", r.Header.Get("Origin"))
	probe.Header.Set("Access-Control-Request-Method", r.Method)
	probe.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
	rec := &headerRecorder{h: http.Header{}}
	in.next.ServeHTTP(rec, probe)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"} {
		if v := rec.h.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
}

// headerRecorder keeps a reply's headers and drops its body.
type headerRecorder struct{ h http.Header }

func (rec *headerRecorder) Header() http.Header         { return rec.h }
func (rec *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (rec *headerRecorder) WriteHeader(int)             {}

// isPreflight reports whether r is a CORS preflight.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// resetConn ends the request's connection with a TCP RST and no reply.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // not hijackable (HTTP/2): abort the stream instead
	}
	rst(conn)
}

// rst closes conn with a TCP RST where it can (SO_LINGER 0), else closes it.
func rst(conn net.Conn) {
	raw := conn
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// feedWriter lets the Injector keep the connection of a live feed that the
// PBX takes over (a WebSocket upgrade hijacks it), to cut it on DropFeed.
type feedWriter struct {
	http.ResponseWriter
	in *Injector
}

// Unwrap lets http.ResponseController reach the writer beneath.
func (fw *feedWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

// Hijack takes over the connection and keeps it until it closes.
func (fw *feedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(fw.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	fc := &feedConn{Conn: conn, in: fw.in}
	in := fw.in
	in.mu.Lock()
	in.feeds[fc] = struct{}{}
	drop := in.mode.k == kindDropFeed // switched on while this one opened
	in.mu.Unlock()
	if drop {
		in.faulted.Add(1)
		in.logf("fault %s: cut a live feed", DropFeed)
		fc.reset()
	}
	return fc, brw, nil
}

// feedConn is a live feed's connection, kept while it is open.
type feedConn struct {
	net.Conn
	in   *Injector
	once sync.Once
}

func (c *feedConn) forget() {
	c.in.mu.Lock()
	delete(c.in.feeds, c)
	c.in.mu.Unlock()
}

// Close closes the connection and forgets it.
func (c *feedConn) Close() error {
	c.once.Do(c.forget)
	return c.Conn.Close()
}

// reset cuts the connection with a TCP RST.
func (c *feedConn) reset() {
	c.once.Do(c.forget)
	rst(c.Conn)
}

// switchBody is the body of POST Path.
type switchBody struct {
	Mode string `json:"mode"`
}

// switchReply is the answer of Path.
type switchReply struct {
	Mode    string `json:"mode"`
	Faulted int64  `json:"faulted"`
}

// maxSwitchBody bounds POST Path's body.
const maxSwitchBody = 1 << 10

func (in *Injector) serveSwitch(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		switchError(w, http.StatusForbidden, "the fault switch answers only on a loopback host name (localhost, 127.0.0.1, [::1]), not "+strconv.Quote(r.Host))
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != ownOrigin(r) {
		switchError(w, http.StatusForbidden, "the fault switch does not answer pages of another origin ("+o+"); switch it from the test, not from the page")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			switchError(w, http.StatusUnsupportedMediaType, "send the body as Content-Type: application/json")
			return
		}
		var body switchBody
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSwitchBody))
		dec.DisallowUnknownFields()
		err := dec.Decode(&body)
		if err == nil {
			if _, more := dec.Token(); !errors.Is(more, io.EOF) {
				err = errors.New("send one JSON object; there is more after it")
			}
		}
		var m Mode
		if err == nil {
			m, err = ParseMode(body.Mode)
		}
		if err != nil {
			switchError(w, http.StatusBadRequest, `the body must be {"mode": "500"} (off, latency=2s, 500, reset, truncate, notjson, oversized or dropfeed): `+err.Error())
			return
		}
		in.Set(m)
	default:
		w.Header().Set("Allow", "GET, POST")
		switchError(w, http.StatusMethodNotAllowed, "use POST to switch the fault, GET to read it; not "+r.Method)
		return
	}
	jsonreply.Write(w, http.StatusOK, switchReply{Mode: in.Mode().String(), Faulted: in.Faulted()})
}

// loopbackHost reports whether a Host header names this machine's loopback.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ownOrigin is the origin the request was sent to.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

func switchError(w http.ResponseWriter, status int, message string) {
	jsonreply.Write(w, status, &wire.Response{Result: wire.ResultFail, Error: &wire.Error{Code: failCode(status), Message: message}})
}

func failCode(status int) string {
	switch status {
	case http.StatusForbidden:
		return wire.CodeForbidden
	case http.StatusUnsupportedMediaType:
		return wire.CodeUnsupportedMedia
	case http.StatusMethodNotAllowed:
		return wire.CodeMethodNotAllowed
	}
	return wire.CodeBadRequest
}
