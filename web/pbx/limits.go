package pbx

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/connlimit"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/throttle"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/users"
)

// Limits bound what one client, one user and everyone together may take of
// the server (web/PROTOCOL.md, "Limits"). Every field may be left zero for
// its default; tests set them low.
type Limits struct {
	// UserFailures throttles the failed logins of each login name (an
	// IPCortex username; for Ping, the user of the extension; the Vodia
	// admin apart): past Free failures in a row, each attempt must wait
	// First, doubling with every further failure up to Max, or is answered
	// 429. A successful login clears the name. Zero: DefaultUserFailures.
	UserFailures throttle.Policy
	// AddrFailures throttles in the same way the failed logins and unknown
	// API keys of each client address (connlimit.ClientKey); a success takes
	// back its own attempt only. Zero: DefaultAddrFailures; Free less than
	// 0: none (behind a proxy every client has the proxy's address).
	AddrFailures throttle.Policy
	// LoginSlots is how many password checks (bcrypt, the one costly step
	// of a login) run at once; 0: runtime.NumCPU().
	LoginSlots int
	// LoginQueue is how many more logins may wait for a slot; one more is
	// answered 503 with Retry-After. 0: DefaultLoginQueue.
	LoginQueue int
	// SessionsPerUser and Sessions cap the sessions (and, alike, the login
	// tokens) of one user and of all users: a new one over a cap ends the
	// oldest. 0: session.DefaultMaxPerUser and session.DefaultMaxSessions;
	// less than 0: no cap.
	SessionsPerUser, Sessions int
}

// Defaults of Limits.
var (
	DefaultUserFailures = throttle.Policy{Free: 10, First: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
	DefaultAddrFailures = throttle.Policy{Free: 100, First: time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

// DefaultLoginQueue is the default of Limits.LoginQueue.
const DefaultLoginQueue = 32

// busyRetry is the Retry-After of a login refused because every password
// check slot is taken and the queue is full.
const busyRetry = time.Second

// storeCap returns the store cap for a Limits value: def for 0, none (0) for
// less.
func storeCap(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// guard throttles logins by name and by client address, and bounds the
// password checks that run at once.
type guard struct {
	names *throttle.Throttle
	addrs *throttle.Throttle // nil: no per-address throttle
	gate  *gate
	log   *log.Logger
}

func newGuard(l Limits, now func() time.Time, logger *log.Logger) *guard {
	names, addrs := l.UserFailures, l.AddrFailures
	if names == (throttle.Policy{}) {
		names = DefaultUserFailures
	}
	if addrs == (throttle.Policy{}) {
		addrs = DefaultAddrFailures
	}
	g := &guard{names: throttle.New(names, now, 0), log: logger}
	if addrs.Free >= 0 {
		g.addrs = throttle.New(addrs, now, 0)
	}
	slots := l.LoginSlots
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	queue := l.LoginQueue
	if queue <= 0 {
		queue = DefaultLoginQueue
	}
	g.gate = newGate(slots, queue)
	return g
}

// sweep forgets the names and addresses whose failures are old.
func (g *guard) sweep() {
	g.names.Sweep()
	if g.addrs != nil {
		g.addrs.Sweep()
	}
}

// attempt is one login attempt that the throttles let through; it counts as
// a failure until it is known to be something else.
type attempt struct {
	g           *guard
	key, label  string // key counts the name; label names it in the log
	addr        string
	n           int // its number in the name's run of failures
	addrCounted bool
}

// begin lets through an attempt to log in as the name key (label, for the
// log) from the client of r, or refuses it (429) while the address or the
// name must wait.
func (g *guard) begin(r *http.Request, key, label string) (*attempt, error) {
	a := &attempt{g: g, key: key, label: label, addr: connlimit.ClientKey(r.RemoteAddr)}
	if g.addrs != nil {
		if _, wait := g.addrs.Attempt(a.addr); wait > 0 {
			g.log.Printf("login as %s from %s refused for %s: too many failed logins from the address", label, a.addr, seconds(wait))
			return nil, rateLimited(wait, "too many failed logins from your address")
		}
		a.addrCounted = true
	}
	n, wait := g.names.Attempt(key)
	if wait > 0 {
		a.undoAddr()
		g.log.Printf("login as %s from %s refused for %s: %d failed logins in a row", label, a.addr, seconds(wait), n)
		return nil, rateLimited(wait, "too many failed logins as "+label)
	}
	a.n = n
	return a, nil
}

// check runs the password check of the attempt within the gate's slots.
// It refuses the attempt, and takes it back, when the gate is full (503) or
// the client leaves while it waits (errClientGone); otherwise it counts a
// failure (ErrAuthFailed and the like) or clears the name (success).
func (a *attempt) check(ctx context.Context, check func() (*users.User, error)) (*users.User, error) {
	release, err := a.g.gate.enter(ctx)
	if err != nil {
		a.dropped()
		return nil, err
	}
	u, err := check()
	release()
	if err != nil {
		a.failed()
		return nil, err
	}
	a.succeeded()
	return u, nil
}

// failed logs a failed attempt: the name, never the password.
func (a *attempt) failed() {
	a.g.log.Printf("login as %s from %s failed (%d in a row)", a.label, a.addr, a.n)
}

// succeeded clears the name, and takes back the address's count of this
// attempt (only: other names' failures from it still count).
func (a *attempt) succeeded() {
	a.g.names.Forget(a.key)
	a.undoAddr()
}

// dropped takes back an attempt whose password was never checked.
func (a *attempt) dropped() {
	a.g.names.Undo(a.key)
	a.undoAddr()
}

func (a *attempt) undoAddr() {
	if a.addrCounted {
		a.g.addrs.Undo(a.addr)
		a.addrCounted = false
	}
}

// checkKey looks up an API key for the client of r, counting an unknown key
// as a failure of the client's address, and refusing (429) an address that
// must wait. A key costs nothing to check, so a good one is not counted even
// for a moment: many calls at once with a good key are never refused.
func (s *Server) checkKey(r *http.Request, key string) (*users.User, error) {
	g := s.guard
	addr := connlimit.ClientKey(r.RemoteAddr)
	if g.addrs != nil {
		if wait := g.addrs.Wait(addr); wait > 0 {
			g.log.Printf("API key from %s refused for %s: too many failed logins from the address", addr, seconds(wait))
			return nil, rateLimited(wait, "too many failed logins from your address")
		}
	}
	u, ok := s.users.ByKey(key)
	if !ok {
		g.log.Printf("unknown API key from %s", addr)
		if g.addrs != nil {
			g.addrs.Fail(addr)
		}
		return nil, fail(http.StatusUnauthorized, wire.CodeAuthFailed, "unknown API key")
	}
	return u, nil
}

// errClientGone: the client closed its connection before its login was
// done; nothing is made for it, and nothing is answered.
var errClientGone = errors.New("the client went away before its reply")

// errBusy: every password check slot is taken and the queue is full.
var errBusy = &failure{status: http.StatusServiceUnavailable, code: wire.CodeRateLimited, retryAfter: busyRetry,
	message: fmt.Sprintf("the server is busy checking other logins; wait %s and try again", seconds(busyRetry))}

// rateLimited is the 429 of a login refused while its name or address must
// wait.
func rateLimited(wait time.Duration, why string) error {
	return &failure{status: http.StatusTooManyRequests, code: wire.CodeRateLimited, retryAfter: wait,
		message: fmt.Sprintf("%s; wait %s, then try again", why, seconds(wait))}
}

// retrySeconds is a wait as Retry-After gives it: whole seconds, rounded
// up, at least 1.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// seconds words a wait: "1 second", "900 seconds".
func seconds(d time.Duration) string {
	n := retrySeconds(d)
	if n == 1 {
		return "1 second"
	}
	return strconv.Itoa(n) + " seconds"
}

// gate bounds the password checks that run at once (bcrypt, which takes
// tens of milliseconds of a core each), so that a flood of logins cannot
// starve the cheap calls, and the logins that wait for a slot, so that a
// flood is refused at once rather than left to hit the write timeout.
type gate struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
}

func newGate(slots, queue int) *gate {
	return &gate{slots: make(chan struct{}, slots), queue: int64(queue)}
}

// enter takes a slot, waiting in the queue if there is room in it, and
// returns the function that gives it back; errBusy when the queue is full,
// errClientGone when ctx (the request's) ends first.
func (g *gate) enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return nil, errBusy
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	case <-ctx.Done():
		return nil, errClientGone
	}
}

func (g *gate) leave() { <-g.slots }

// guardBasic throttles and bounds the logins with Basic credentials of
// Ping (POST /auth/login, as the user of the extension) and Vodia (the
// admin's), as the IPCortex logins are; their handlers' 401 is a failure
// and their 2xx a success.
func (s *Server) guardBasic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, label, ok := s.basicLogin(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		at, err := s.guard.begin(r, key, label)
		if err != nil {
			s.refuse(w, r, err)
			return
		}
		release, err := s.guard.gate.enter(r.Context())
		if err != nil {
			at.dropped()
			if errors.Is(err, errClientGone) {
				noteLost(w, err.Error())
				return
			}
			s.refuse(w, r, err)
			return
		}
		st := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(st, r)
		release()
		switch {
		case st.status == http.StatusUnauthorized:
			at.failed()
		case st.status >= 200 && st.status < 300:
			at.succeeded()
		default:
			at.dropped()
		}
	})
}

// basicLogin says whether r is a login with Basic credentials that checks a
// password, and under which key and label it counts.
func (s *Server) basicLogin(r *http.Request) (key, label string, ok bool) {
	name, _, ok := r.BasicAuth()
	switch {
	case !ok || r.Method != http.MethodPost:
		return "", "", false
	case r.URL.Path == pingserver.PathLogin:
		if u, found := s.users.ByExtension(name); found {
			return u.Login, loginLabel(u.Login), true // the same password as for IPCortex: the same count
		}
		return name, loginLabel(name), true
	case r.URL.Path == vodiaserver.Path:
		return "vodia admin\x00" + name, "the Vodia admin " + loginLabel(name), true
	}
	return "", "", false
}

// maxLabel bounds a login name in the log and in replies, in runes: the
// name is the client's to choose.
const maxLabel = 64

// loginLabel is a login name as the log and the replies show it: quoted,
// and cut after maxLabel runes.
func loginLabel(name string) string {
	if r := []rune(name); len(r) > maxLabel {
		return strconv.Quote(string(r[:maxLabel])) + "…"
	}
	return strconv.Quote(name)
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
