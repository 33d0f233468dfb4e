// Package auth is the client side of the IPCortex PBX login contract: the
// behaviour of IPCortex.PBX.Auth without a browser. It logs in with a username
// and password or an API key, checks and ends sessions, selects companies,
// resets the phone password, and keeps the user's properties current.
//
// It reaches the world only through small interfaces: a Transport for one HTTP
// exchange (the browser module uses fetch, Go programs net/http through the
// native package), Storage for the per-tab sub-ID, and a clock.Clock for the
// hourly refresh. Every failure is an *Error with a stable Code.
package auth

import (
	"context"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/core/clock"
	"github.com/pbxauth/pbxauth/core/endpoint"
	"github.com/pbxauth/pbxauth/core/wire"
)

// Transport performs one HTTP exchange. It must keep the server's cookies
// between exchanges (a cookie jar, or the browser's credentials), because the
// session lives in the Red60urne cookie, and it must return when ctx ends.
type Transport interface {
	Do(ctx context.Context, req *Request) (*Response, error)
}

// Request is one HTTP request.
type Request struct {
	Method string
	URL    string
	Header map[string]string
	Body   []byte
}

// Response is one HTTP response. Transports may cut Body at wire.MaxBody+1
// bytes; longer replies are refused anyway.
type Response struct {
	Status int
	Body   []byte
}

// Storage keeps small strings: sessionStorage (per tab) in a browser, memory
// in a Go program.
type Storage interface {
	Get(key string) (value string, ok bool, err error)
	Set(key, value string) error
	Remove(key string) error
}

// Defaults.
const (
	DefaultTimeout         = 20 * time.Second
	DefaultRefreshInterval = time.Hour
)

// Config wires a Client to its environment. Transport is required; the rest
// have defaults.
type Config struct {
	Transport Transport
	// Host is the API host as setHost takes it; WSHost the feed host as
	// setWSHost takes it (derived from Host when empty).
	Host, WSHost string
	// Session keeps the sub-ID for this tab (default: memory).
	Session Storage
	Clock   clock.Clock // default: clock.System
	// Random fills b with random bytes; needed only to generate sub-IDs.
	Random func(b []byte) error
	// Timeout bounds every exchange (default DefaultTimeout).
	Timeout time.Duration
	// RefreshInterval is how often the user's properties are re-read while
	// logged in (default DefaultRefreshInterval, the vendor's hourly).
	RefreshInterval time.Duration
	// APIKey, if set, authenticates calls statelessly instead of a session; in
	// the Authorization header when KeyInHeader, else in the auth body.
	APIKey      string
	KeyInHeader bool
	// OnChange is called after the user's properties change; u is nil when
	// logged out. It runs without the client's lock held.
	OnChange func(u *User)
	// Warn receives reports that are not errors, such as plain http to a host
	// that is not loopback.
	Warn func(msg string)
}

// User is the logged-in user's properties.
type User struct {
	ID      int64
	Login   string
	Name    string
	Company string
	Home    string
	Perms   map[string]string
}

// Client is one API consumer: one host, at most one sub-ID, at most one login.
// It is safe for concurrent use.
type Client struct {
	cfg Config

	mu      sync.Mutex
	api, ws endpoint.Endpoint
	wsSet   bool
	subID   string
	user    *User
	refresh clock.Timer
	gen     uint64 // bumped at every change of user and at Close, so a stale refresh is dropped
	seq     uint64 // numbers the calls in the order they are sent
	applied uint64 // the number of the call whose answer set the user last
}

// New returns a Client. It fails only on a missing Transport or a host that
// setHost or setWSHost would refuse.
func New(cfg Config) (*Client, error) {
	if cfg.Transport == nil {
		return nil, newError(CodeBadOption, "auth.New: Config.Transport is nil; use native.NewTransport() in Go programs")
	}
	if cfg.Session == nil {
		cfg.Session = NewMemoryStorage()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	c := &Client{cfg: cfg}
	if cfg.Host != "" {
		if err := c.SetHost(cfg.Host); err != nil {
			return nil, err
		}
	}
	if cfg.WSHost != "" {
		if err := c.SetWSHost(cfg.WSHost); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// SetHost sets the API host: https://host[:port], http://host[:port] or a bare
// host[:port] (https). Plain http to a host that is not loopback is allowed
// but reported through Config.Warn. Unless SetWSHost was called, the feed host
// follows it.
func (c *Client) SetHost(uri string) error {
	e, err := endpoint.ParseAPI(uri)
	if err != nil {
		return &Error{Code: CodeBadOption, Message: err.Error()}
	}
	c.mu.Lock()
	c.api = e
	if !c.wsSet {
		c.ws = e.WebSocket()
	}
	c.mu.Unlock()
	if e.Insecure() {
		c.warn("setHost: " + e.String() + " is plain http to a host that is not this machine: passwords and session cookies cross the network unencrypted; use https")
	}
	return nil
}

// SetWSHost sets the feed host: wss://host[:port] or ws://host[:port].
func (c *Client) SetWSHost(uri string) error {
	e, err := endpoint.ParseWS(uri)
	if err != nil {
		return &Error{Code: CodeBadOption, Message: err.Error()}
	}
	c.mu.Lock()
	c.ws, c.wsSet = e, true
	c.mu.Unlock()
	if e.Insecure() {
		c.warn("setWSHost: " + e.String() + " is plain ws to a host that is not this machine: the feed crosses the network unencrypted; use wss")
	}
	return nil
}

// Host returns the API host ("" if none is set).
func (c *Client) Host() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api.String()
}

// WSHost returns the feed host ("" if none is set).
func (c *Client) WSHost() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.String()
}

// User returns a copy of the logged-in user's properties, or nil.
func (c *Client) User() *User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user.clone()
}

// Close stops the hourly refresh, including one under way. The login itself
// is left as it is.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.stopRefreshLocked()
}

func (c *Client) warn(msg string) {
	if c.cfg.Warn != nil {
		c.cfg.Warn(msg)
	}
}

func (u *User) clone() *User {
	if u == nil {
		return nil
	}
	v := *u
	v.Perms = copyPerms(u.Perms)
	return &v
}

func userFromWire(w *wire.User) *User {
	return &User{ID: w.ID, Login: w.Login, Name: w.Name, Company: w.Company, Home: w.Home, Perms: copyPerms(w.Perms)}
}

func copyPerms(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// setUser records u (nil: logged out) as the answer to call number seq, or,
// with seq 0, as a change of the client's own. Answers count in the order
// their calls were sent, which is the order the server saw them: one older
// than the answer recorded last is dropped, so that a check sent before a
// login finished cannot undo the login. setUser restarts or stops the
// refresh, and tells OnChange if the properties changed.
func (c *Client) setUser(seq uint64, u *User) { c.setUserIf(seq, nil, u) }

// setUserIf is setUser, but only if the generation is still *gen: for a
// refresh, which counts only if nothing changed since it was scheduled.
func (c *Client) setUserIf(seq uint64, gen *uint64, u *User) {
	c.mu.Lock()
	if seq == 0 {
		c.seq++
		seq = c.seq
	}
	if seq < c.applied || gen != nil && *gen != c.gen {
		c.mu.Unlock()
		return
	}
	c.applied = seq
	c.gen++
	changed := !u.equal(c.user)
	c.user = u
	c.stopRefreshLocked()
	if u != nil {
		c.scheduleRefreshLocked()
	}
	out := c.user.clone()
	c.mu.Unlock()
	if changed && c.cfg.OnChange != nil {
		c.cfg.OnChange(out)
	}
}

func (u *User) equal(v *User) bool {
	if u == nil || v == nil {
		return u == v
	}
	if u.ID != v.ID || u.Login != v.Login || u.Name != v.Name || u.Company != v.Company || u.Home != v.Home || len(u.Perms) != len(v.Perms) {
		return false
	}
	for k, p := range u.Perms {
		if q, ok := v.Perms[k]; !ok || q != p {
			return false
		}
	}
	return true
}

func (c *Client) stopRefreshLocked() {
	if c.refresh != nil {
		c.refresh.Stop()
		c.refresh = nil
	}
}

func (c *Client) scheduleRefreshLocked() {
	gen := c.gen
	c.refresh = c.cfg.Clock.AfterFunc(c.cfg.RefreshInterval, func() { c.refreshNow(gen) })
}

// refreshNow re-reads the user's properties: updated on success, cleared if
// the session has ended, kept (and tried again next interval) if the server
// cannot be reached.
func (c *Client) refreshNow(gen uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	resp, seq, err := c.call(ctx, wire.PathLogin, wire.Auth{Type: wire.TypeAuth})
	switch CodeOf(c.recordCheck(seq, &gen, resp, err)) {
	case "", CodeLoginRequired, CodeAuthFailed: // recorded, and rescheduled if logged in
	default:
		c.mu.Lock()
		if gen == c.gen {
			c.scheduleRefreshLocked()
		}
		c.mu.Unlock()
	}
}
