package auth

import (
	"context"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/backend"
)

// The client's queue: every call goes into it in the order it was made, and
// one worker runs them one after another, each exchange under its own
// deadline. Only the worker changes the user, so the properties, and
// OnChange, follow the calls in the order they were made: the last call a
// page made is the one whose answer holds, whatever the network did.

// Call is one of the page's asynchronous calls, for Start. Make it with
// LoginCall, LogoutCall, ExitCall, CompanyCall or RTCResetCall.
type Call struct {
	kind    callKind
	login   Options
	exit    ExitOptions
	company string
	getNew  bool
	feed    *feedCall
}

type callKind int

const (
	kindLogin callKind = iota + 1
	kindLogout
	kindExit
	kindCompany
	kindRTCReset
	kindRefresh   // the hourly check
	kindReset     // forget the user: the host or sub-ID changed
	kindSync      // nothing: Sync waits for the calls before it
	kindFeed      // start or stop the feed
	kindLoggedOut // the feed heard that the login ended
	kindOtherTab  // another tab's login changed: check again
)

// LoginCall is Login(o).
func LoginCall(o Options) Call { return Call{kind: kindLogin, login: o} }

// LogoutCall is Logout().
func LogoutCall() Call { return Call{kind: kindLogout} }

// ExitCall is Exit(o).
func ExitCall(o ExitOptions) Call { return Call{kind: kindExit, exit: o} }

// CompanyCall is SetCompany(company).
func CompanyCall(company string) Call { return Call{kind: kindCompany, company: company} }

// RTCResetCall is RTCReset(getNew); its Pending's value is the new password.
func RTCResetCall(getNew bool) Call { return Call{kind: kindRTCReset, getNew: getNew} }

// shares reports whether d may share c's exchange: the same call with the
// same options, none of them a list or a callback.
func (c Call) shares(d Call) bool {
	a, b := c.login, d.login
	return c.kind == d.kind && c.feed == nil && d.feed == nil && c.exit == d.exit && c.company == d.company && c.getNew == d.getNew &&
		a.CheckOnly == b.CheckOnly && a.Username == b.Username && a.Password == b.Password &&
		a.NoToken == b.NoToken && a.Headless == b.Headless && a.SubID == b.SubID &&
		a.Application == b.Application && a.Origin == b.Origin &&
		len(a.Tokens) == 0 && len(b.Tokens) == 0 && a.OnTokens == nil && b.OnTokens == nil
}

// Pending is a call in the client's queue.
type Pending struct {
	call    Call
	ctx     context.Context
	host    string // where the call goes, as it was when the call was made
	subID   string
	backend backend.Backend
	done    chan struct{}
	value   string
	err     error
}

// Wait returns the call's result once it has taken effect, or ctx's error if
// ctx ends first (the call itself still runs, in its turn, under the context
// it was started with). The value is RTCReset's new password, else "".
func (p *Pending) Wait(ctx context.Context) (string, error) {
	done := ctx.Done()
	if done == nil { // a context that never ends (the browser's): no select
		<-p.done
		return p.value, p.err
	}
	select {
	case <-p.done:
		return p.value, p.err
	case <-done:
		return "", backend.TransportError(p.host, ctx.Err())
	}
}

// failed returns a Pending that is already settled with err: a call refused
// before it was queued.
func failed(err error) *Pending {
	p := &Pending{done: make(chan struct{}), err: err}
	close(p.done)
	return p
}

// Start puts call in the queue and returns at once; Wait on the result. The
// call runs after every call started before it, under ctx (cancel it to drop
// the call, or cut its exchange short). Options are checked at once: a call
// with a bad option is refused without being queued. A call identical to the
// last one still waiting, under the same ctx, shares its exchange and settles
// alike (twenty login() clicks are one login).
func (c *Client) Start(ctx context.Context, call Call) *Pending {
	if call.kind == kindLogin {
		if err := call.login.Validate(); err != nil {
			return failed(err)
		}
		if call.login.SubID != "" && !call.login.CheckOnly {
			if err := c.SetSubID(call.login.SubID); err != nil {
				return failed(err)
			}
		}
	}
	if call.kind == kindCompany {
		if err := validCompany(call.company); err != nil {
			return failed(err)
		}
	}
	return c.enqueue(ctx, call)
}

func (c *Client) enqueue(ctx context.Context, call Call) *Pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.duringPrompt(ctx, call); p != nil {
		return p
	}
	if n := len(c.waiting); n > 0 {
		if last := c.waiting[n-1]; last.call.shares(call) && last.ctx == ctx && last.host == c.api.String() && last.subID == c.subID && last.backend == c.backend {
			return last
		}
	}
	p := &Pending{call: call, ctx: ctx, host: c.api.String(), subID: c.subID, backend: c.backend, done: make(chan struct{})}
	c.waiting = append(c.waiting, p)
	if !c.working {
		c.working = true
		go c.work()
	}
	return p
}

// work runs the queue until it is empty. A panic in a call fails that call
// with CodeInternal; the queue goes on.
func (c *Client) work() {
	for {
		c.mu.Lock()
		if len(c.waiting) == 0 {
			c.working = false
			c.mu.Unlock()
			return
		}
		p := c.waiting[0]
		c.waiting[0] = nil
		c.waiting = c.waiting[1:]
		c.mu.Unlock()
		p.value, p.err = c.runSafely(p)
		close(p.done)
	}
}

func (c *Client) runSafely(p *Pending) (value string, err error) {
	logged := p.call.kind != kindSync && c.debugging()
	if logged {
		c.debug(p.call.describe() + " (" + p.backend.Name() + " at " + p.host + ")")
	}
	tabs := c.cfg.Tabs != nil && p.call.announces()
	var before *User
	if tabs {
		before = c.User()
	}
	value, err = c.runRecovered(p)
	if tabs && !equalUser(before, c.User()) {
		c.cfg.Tabs.Announce(p.host)
	}
	if logged {
		if err != nil {
			c.debug(p.call.describe() + ": failed with " + string(CodeOf(err)))
		} else {
			c.debug(p.call.describe() + ": done")
		}
	}
	return value, err
}

// runRecovered runs p, turning a panic into CodeInternal.
func (c *Client) runRecovered(p *Pending) (value string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = newError(CodeInternal, "internal error in the auth client ("+panicText(r)+"); the client keeps working, please report this")
		}
	}()
	if err := p.ctx.Err(); err != nil {
		return "", backend.TransportError(p.host, err) // given up before its turn
	}
	return c.run(p)
}

// run performs one call; the worker is the only caller.
func (c *Client) run(p *Pending) (string, error) {
	switch p.call.kind {
	case kindLogin:
		return "", c.login(p)
	case kindLogout:
		return "", c.logout(p)
	case kindExit:
		return "", c.exit(p)
	case kindCompany:
		return "", c.setCompany(p)
	case kindRTCReset:
		return c.rtcReset(p)
	case kindRefresh:
		c.refreshNow(p)
	case kindReset:
		c.feed.Stop() // its session was the old host's or sub-ID's
		c.setUser(nil)
		c.live = nil
	case kindFeed:
		return "", c.runFeed(p)
	case kindLoggedOut:
		c.setUser(nil)
		return "", c.keepSession(p, "")
	case kindOtherTab:
		return "", c.otherTab(p)
	}
	return "", nil
}

// Sync returns once every call made before it has taken effect: after
// SetHost or SetSubID, User() then reflects the change.
func (c *Client) Sync(ctx context.Context) error {
	_, err := c.enqueue(ctx, Call{kind: kindSync}).Wait(ctx)
	return err
}

// panicText describes a recovered panic without fmt, which the browser build
// does not link.
func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "a panic"
}

// clip bounds a value quoted back in a message, which may be absurd.
func clip(s string) string {
	max := 200
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max] + "…"
}

// describe names a call for the debug log: what it is, never its secrets.
func (c Call) describe() string {
	switch c.kind {
	case kindLogin:
		o := c.login
		switch {
		case o.CheckOnly:
			return "login: check only"
		case o.Username != "":
			return "login: with username " + strconvQuote(o.Username) + " and a password"
		case len(o.Tokens) > 0:
			return "login: with " + itoa(len(o.Tokens)) + " token(s)"
		}
		return "login: the current login, a saved token or the overlay"
	case kindLogout:
		return "logout"
	case kindExit:
		if c.exit.Logout {
			return "exit with logout"
		}
		return "exit"
	case kindCompany:
		return "setCompany " + strconvQuote(c.company)
	case kindRTCReset:
		return "rtcReset"
	case kindRefresh:
		return "hourly refresh"
	case kindReset:
		return "host or sub-ID changed: forget the user"
	case kindFeed:
		if c.feed.stop {
			return "stopFeed"
		}
		return "startFeed"
	case kindLoggedOut:
		return "the feed says the login ended"
	case kindOtherTab:
		return "another tab's login changed: check again"
	}
	return "call"
}
