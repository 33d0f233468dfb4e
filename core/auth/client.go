// Package auth is the login client of IPCortex.PBX.Auth, without a browser.
//
// It is the client side of the PBX's login contract. It logs in with a username
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/clock"
	"github.com/pbxauth/pbxauth/core/endpoint"
	"github.com/pbxauth/pbxauth/core/feed"
)

// Transport performs one HTTP exchange and must return when ctx ends.
// Request.Cookies says whether it may send and keep cookies: the session made
// without a sub-ID may live in a cookie (a cookie jar, or the browser's
// credentials); every other credential travels in the request.
type Transport = backend.Transport

// Request is one HTTP request.
type Request = backend.Request

// Response is one HTTP response.
type Response = backend.Response

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
	// Credentials gives every request its credential and keeps what logins
	// hand out (default: Sessions over Session, keeping no tokens); APIKey
	// authenticates every call with a key instead.
	Credentials Credentials
	// Prompt asks the user to log in when login() finds no login (the
	// browser module's overlay); nil: such a login fails with
	// CodeLoginRequired.
	Prompt Prompt
	// Backends are the phone systems setHost may name, by Backend.Name
	// (default: IPCortex only); the first host's default is IPCortex.
	Backends []backend.Backend
	// Dialer opens the live feed's WebSockets; nil: startFeed fails with
	// CodeBadOption.
	Dialer feed.Dialer
	// Jitter draws the feed's reconnection jitter in [0, 1) (default: the
	// middle).
	Jitter func() float64
	// OnChange is called after the user's properties change; u is nil when
	// logged out. Calls come one at a time, in the order of the calls that
	// made the changes, from the client's worker: OnChange must not wait for
	// the client's calls (Wait, Sync, or the blocking methods).
	OnChange func(u *User)
	// Debug, if set, is told each step (a call, a request's path and
	// status, a change of user, the feed's events), never a password,
	// token, key or session id.
	Debug func(msg string)
	// Debugging reports whether Debug wants messages now (a page may switch
	// its debug flag at any time); nil: whenever Debug is set. While it
	// reports false the client builds no message, so that a page that does
	// not debug never runs (or compiles) that code.
	Debugging func() bool
	// Tabs tells the page's other tabs when a call of this one changed the
	// login; nil: no other tabs (see Tabs and Client.TabChanged).
	Tabs Tabs
	// Warn receives reports that are not errors, such as plain http to a host
	// that is not loopback.
	Warn func(msg string)
}

// User is the logged-in user's properties.
type User = backend.User

// Client is one API consumer: one host, at most one sub-ID, at most one login.
// It is safe for concurrent use. Its calls run one at a time, in the order
// they were made (see Start).
type Client struct {
	cfg Config

	mu        sync.Mutex
	backend   backend.Backend // the phone system of the API host
	api, ws   endpoint.Endpoint
	wsSet     bool
	subID     string
	waiting   []*Pending // the queue; see queue.go
	working   bool       // a worker is running the queue
	prompting *prompting // the overlay's login while it waits; see prompting.go
	user      *User      // written only by the worker
	refresh   *refresh   // the next hourly refresh, while logged in
	selfTimed bool       // cfg.Transport keeps its deadline itself

	// Owned by the worker alone.
	live     map[string]time.Time       // the live tokens, as OnTokens was told
	onTokens func(map[string]time.Time) // the last Options.OnTokens given

	feed    *feed.Feed
	feedCBs FeedCallbacks // the callbacks of the last startFeed
}

// Prompt asks the user to log in on the PBX's own login page, so that the
// page embedding the module never sees the password. It returns what that
// login made, or fails with CodePopupClosed, CodePopupBlocked,
// CodeAuthFailed (after the page's own retries) or the context's error.
type Prompt interface {
	Prompt(ctx context.Context, r PromptRequest) (PromptResult, error)
}

// PromptRequest says where the login page logs in and what it asks for.
type PromptRequest struct {
	Host, SubID         string
	NoToken             bool
	Application, Origin string
}

// PromptResult is what the login page's login made.
type PromptResult struct {
	Session string
	Token   *backend.Token
}

// refresh is a scheduled refresh; stopping it also drops it from the queue,
// or cuts its exchange short, if its time has come.
type refresh struct {
	timer  clock.Timer
	cancel context.CancelFunc
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
	if cfg.Credentials == nil {
		cfg.Credentials = &Sessions{Store: cfg.Session}
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
	if len(cfg.Backends) == 0 {
		cfg.Backends = []backend.Backend{ipcortex.New()}
	}
	c := &Client{cfg: cfg, backend: cfg.Backends[0], selfTimed: backend.IsSelfTimed(cfg.Transport)}
	c.feed = feed.New(feed.Config{Dialer: cfg.Dialer, Clock: cfg.Clock, Jitter: cfg.Jitter, Owner: feedOwner{c},
		OnUp: c.feedUp, OnError: c.feedError})
	if cfg.Debug != nil {
		cfg.Transport = debugTransport{cfg.Transport, c.debug, c.debugging}
		c.cfg.Transport = cfg.Transport
	}
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

// SetHost sets the API host of an IPCortex PBX: https://host[:port],
// http://host[:port] or a bare host[:port] (https). Plain http to a host that
// is not loopback is allowed but reported through Config.Warn. Unless
// SetWSHost was called, the feed host follows it. Calls made from now on go
// to the new host; a different host also forgets the user and stops the
// refresh, in the queue's order (after the calls made before, which went to
// the old host).
func (c *Client) SetHost(uri string) error { return c.SetHostFor(uri, "") }

// SetHostFor is SetHost for a PBX of the named backend ("" or "ipcortex",
// "vodia", "ping": those in Config.Backends). A change of backend is a
// change of host.
func (c *Client) SetHostFor(uri, backendName string) error {
	b, err := c.backendNamed(backendName)
	if err != nil {
		return err
	}
	e, err := endpoint.ParseAPI(uri)
	if err != nil {
		return &Error{Code: CodeBadOption, Message: err.Error()}
	}
	c.mu.Lock()
	// The first host has no user to forget: no call has reached a PBX.
	changed := c.api != (endpoint.Endpoint{}) && (c.api != e || c.backend != b)
	c.api, c.backend = e, b
	if !c.wsSet {
		c.ws = e.WebSocket()
	}
	c.mu.Unlock()
	if changed {
		c.enqueue(context.Background(), Call{kind: kindReset})
	}
	if e.Insecure() {
		c.warn("Client.SetHost: " + e.String() + " is plain http to a host that is not this machine: passwords and session cookies cross the network unencrypted; use https")
	}
	return nil
}

func (c *Client) backendNamed(name string) (backend.Backend, error) {
	if name == "" {
		name = ipcortex.Name
	}
	var names []string
	for _, b := range c.cfg.Backends {
		if b.Name() == name {
			return b, nil
		}
		names = append(names, b.Name())
	}
	return nil, newError(CodeBadOption, "Client.SetHostFor: no backend "+strconv.Quote(clip(name))+"; this build has "+strings.Join(names, ", "))
}

// Backend returns the name of the API host's backend.
func (c *Client) Backend() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backend.Name()
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
		c.warn("Client.SetWSHost: " + e.String() + " is plain ws to a host that is not this machine: the feed crosses the network unencrypted; use wss")
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
	return cloneUser(c.user)
}

// Close stops the hourly refresh, including one under way. The login itself
// is left as it is; calls still work, and a later login refreshes again.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopRefreshLocked()
}

func (c *Client) debug(msg string) {
	if c.cfg.Debug != nil {
		c.cfg.Debug(msg)
	}
}

// debugging reports whether Debug wants messages now.
func (c *Client) debugging() bool {
	return c.cfg.Debug != nil && (c.cfg.Debugging == nil || c.cfg.Debugging())
}

func strconvQuote(s string) string { return strconv.Quote(clip(s)) }

func itoa(n int) string { return strconv.Itoa(n) }

func (c *Client) warn(msg string) {
	if c.cfg.Warn != nil {
		c.cfg.Warn(msg)
	}
}

func cloneUser(u *User) *User {
	if u == nil {
		return nil
	}
	v := *u
	v.Perms = copyPerms(u.Perms)
	return &v
}

func copyPerms(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// setUser records u (nil: logged out), restarts or stops the refresh, and
// tells OnChange if the properties changed. Only the worker calls it.
func (c *Client) setUser(u *User) {
	c.mu.Lock()
	changed := !equalUser(u, c.user)
	c.user = u
	c.scheduleRefreshLocked()
	out := cloneUser(c.user)
	c.mu.Unlock()
	if changed && c.debugging() {
		if out == nil {
			c.debug("the user's properties are cleared (logged out)")
		} else {
			c.debug("the user's properties are now " + strconvQuote(out.Login) + "'s")
		}
	}
	if changed && c.cfg.OnChange != nil {
		c.cfg.OnChange(out)
	}
}

func equalUser(u, v *User) bool {
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
		c.refresh.timer.Stop()
		c.refresh.cancel()
		c.refresh = nil
	}
}

// scheduleRefreshLocked replaces the refresh: one interval from now while a
// user is logged in, none otherwise.
func (c *Client) scheduleRefreshLocked() {
	c.stopRefreshLocked()
	if c.user == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The timer's function queues the refresh and waits for the worker to
	// finish it (OnChange included), so that a clock's Advance returns after
	// the refresh. Not Wait(ctx): the refresh's own answer cancels ctx when it
	// schedules the next one, which would return before OnChange ran.
	timer := c.cfg.Clock.AfterFunc(c.cfg.RefreshInterval, func() {
		<-c.enqueue(ctx, Call{kind: kindRefresh}).done
	})
	c.refresh = &refresh{timer: timer, cancel: cancel}
}

// setTokens records the live tokens and tells OnTokens if they changed.
func (c *Client) setTokens(live map[string]time.Time) {
	same := len(live) == len(c.live)
	for t, exp := range live {
		if old, ok := c.live[t]; !ok || !old.Equal(exp) {
			same = false
		}
	}
	if same {
		return
	}
	c.live = live
	if c.onTokens != nil {
		out := make(map[string]time.Time, len(live))
		for t, exp := range live {
			out[t] = exp
		}
		c.onTokens(out)
	}
}

// dropToken removes a token the server refused from the live ones.
func (c *Client) dropToken(t string) {
	if _, ok := c.live[t]; !ok {
		return
	}
	live := map[string]time.Time{}
	for k, v := range c.live {
		if k != t {
			live[k] = v
		}
	}
	c.setTokens(live)
}

// refreshNow re-reads the user's properties: updated on success (from a
// saved token if the session has ended and the token lives), cleared if
// the login has ended, kept (and tried again next interval) if the server
// cannot be reached or the refresh fails in any other way. A refresh stopped
// under way changes nothing.
func (c *Client) refreshNow(p *Pending) {
	c.mu.Lock()
	mine := c.refresh
	c.mu.Unlock()
	defer func() { // also when the check panics
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.refresh == mine && p.ctx.Err() == nil { // no answer was recorded
			c.scheduleRefreshLocked()
		}
	}()
	_ = c.check(p, c.savedTokens(p, Options{}))
}

// debugTransport tells Debug each request's method, path and status: never
// the query (it holds the sub-ID), the headers or the bodies.
type debugTransport struct {
	Transport
	debug func(string)
	on    func() bool
}

func (t debugTransport) Do(ctx context.Context, req *Request) (*Response, error) {
	if !t.on() {
		return t.Transport.Do(ctx, req)
	}
	return t.logged(ctx, req)
}

func (t debugTransport) logged(ctx context.Context, req *Request) (*Response, error) {
	path := req.URL
	if i := strings.Index(path, "://"); i >= 0 {
		path = path[i+3:]
		if j := strings.IndexByte(path, '/'); j >= 0 {
			path = path[j:]
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	resp, err := t.Transport.Do(ctx, req)
	switch {
	case err != nil:
		t.debug(req.Method + " " + path + ": no answer (" + err.Error() + ")")
	default:
		t.debug(req.Method + " " + path + ": HTTP " + strconv.Itoa(resp.Status))
	}
	return resp, err
}
