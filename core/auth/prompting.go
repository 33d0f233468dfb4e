package auth

import "context"

// While the overlay waits for a person, the worker is busy with that login
// and has no deadline. So that no call waits behind a person, a call made
// meanwhile is taken at once, by the rule of its kind:
//
//   - one that changes the login (logout, exit, a login with a username or
//     tokens, a new host or sub-ID, the feed's logout) ends the overlay: its
//     login rejects with CodePopupClosed, and the call runs next, in order;
//   - another login() as the overlay's joins it and settles alike;
//   - one that needs a login (a checkonly login, setCompany, rtcReset) is
//     answered from what is known, that nobody is logged in;
//   - another tab's news ends the overlay when that tab's login saved a
//     token this tab can use (the default): the overlay's login then checks
//     again with it, and settles as logged in, as if the person had typed
//     the password here; with no such token the overlay stays, and the news
//     is nothing to this tab (another tab's logout, or a login of its own);
//   - the rest (the feed's start and stop) wait in the queue as always.
//
// Once a call has ended the overlay, later calls queue behind it as usual.

// prompting is the overlay's login while it waits for the person.
type prompting struct {
	p     *Pending
	end   context.CancelCauseFunc
	ended bool
}

// duringPrompt applies the rules above to call, made while the overlay
// waits; it returns the call's Pending when the call is answered without
// being queued. c.mu is held.
func (c *Client) duringPrompt(ctx context.Context, call Call) *Pending {
	pr := c.prompting
	if pr == nil || pr.ended {
		return nil
	}
	switch call.kind {
	case kindLogin:
		o := call.login
		switch {
		case o.CheckOnly:
			return failed(newError(CodeLoginRequired, "not logged in: the login overlay is waiting for the user"))
		case call.shares(pr.p.call) && ctx == pr.p.ctx && pr.p.host == c.api.String() && pr.p.subID == c.subID:
			return pr.p
		}
	case kindCompany, kindRTCReset:
		return failed(newError(CodeLoginRequired, "not logged in: the login overlay is waiting for the user; call this after Client.Login succeeds"))
	case kindOtherTab:
		if len(c.savedTokens(pr.p, pr.p.call.login)) == 0 {
			return nil // checked again after the overlay, as always
		}
		pr.ended = true
		pr.end(errLoggedInElsewhere)
		return failed(nil) // the overlay's login checks again itself
	case kindFeed, kindRefresh, kindSync:
		return nil
	}
	pr.ended = true
	pr.end(newError(CodePopupClosed, "login: the login overlay was closed by a later call ("+call.describe()+")"))
	return nil
}

// errLoggedInElsewhere ends the overlay when another tab's login saved a
// token: the overlay's login checks again instead of waiting for a person.
var errLoggedInElsewhere = newError(CodeLoginRequired, "login: another tab logged in; checking its login")

// promptWith runs the Prompt for p, ending it early as duringPrompt says.
func (c *Client) promptWith(p *Pending, r PromptRequest) (PromptResult, error) {
	ctx, end := context.WithCancelCause(p.ctx)
	defer end(nil)
	c.mu.Lock()
	c.prompting = &prompting{p: p, end: end}
	c.mu.Unlock()
	res, err := c.cfg.Prompt.Prompt(ctx, r)
	c.mu.Lock()
	c.prompting = nil
	c.mu.Unlock()
	if cause := context.Cause(ctx); err != nil && cause != nil && p.ctx.Err() == nil {
		return PromptResult{}, cause // ended by a later call
	}
	return res, err
}
