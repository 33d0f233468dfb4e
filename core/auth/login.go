package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pbxauth/pbxauth/core/wire"
)

// Limits on what a login sends, so that an absurd value fails at once with
// CodeBadOption instead of as a refused request.
const (
	MaxUsernameLen = 256
	MaxPasswordLen = 1024
	MaxCompanyLen  = 256
)

// Options are the vendor's login options. The zero value checks the current
// login and, without a prompt, fails with CodeLoginRequired if there is none.
type Options struct {
	// CheckOnly: succeed if and only if the current login is valid; never
	// prompt. All other options are ignored, as the vendor documents.
	CheckOnly bool
	// Username and Password log in with these credentials; both or neither.
	Username, Password string
	// SubID, if set, qualifies this and every later call (see SetSubID).
	SubID string
}

// Validate reports the first option that is not valid, as CodeBadOption.
func (o *Options) Validate() error {
	if o.CheckOnly {
		return nil
	}
	switch {
	case o.Username != "" && o.Password == "":
		return newError(CodeBadOption, "login: a username was given without a password; pass both, or neither to use the current login")
	case o.Username == "" && o.Password != "":
		return newError(CodeBadOption, "login: a password was given without a username; pass both, or neither to use the current login")
	case o.Username != "" && strings.TrimSpace(o.Password) == "":
		return newError(CodeBadOption, "login: the password is blank; the PBX refuses blank passwords (external users log in with any non-blank dummy password)")
	case o.SubID != "" && !wire.ValidSubID(o.SubID):
		return subIDError(o.SubID)
	case len(o.Username) > MaxUsernameLen:
		return newError(CodeBadOption, "login: the username is over "+strconv.Itoa(MaxUsernameLen)+" bytes; no PBX user has such a name")
	case len(o.Password) > MaxPasswordLen:
		return newError(CodeBadOption, "login: the password is over "+strconv.Itoa(MaxPasswordLen)+" bytes; the PBX would refuse it")
	}
	return nil
}

// Login logs in as the options say and, on success, makes the user's
// properties current. See Options for the forms, and Start for the order in
// which calls take effect.
func (c *Client) Login(ctx context.Context, o Options) error { return c.wait(ctx, LoginCall(o)) }

// Logout ends the session on the server and clears the user's properties. If
// the server cannot be reached the properties stay, so the caller can retry.
func (c *Client) Logout(ctx context.Context) error { return c.wait(ctx, LogoutCall()) }

// ExitOptions choose between the guide's kinds of exit.
type ExitOptions struct {
	// Logout also ends the session (the guide's full logout).
	Logout bool
}

// Exit cleans up: the server marks chat offline and releases the phone
// password, and the client drops what it holds for the user. With Logout it
// then logs out, whatever the clean-up did, and reports every failure (the
// first one's code is the error's). Without a login there is nothing to
// clean up, which is not an error.
func (c *Client) Exit(ctx context.Context, o ExitOptions) error { return c.wait(ctx, ExitCall(o)) }

// SetCompany selects the company that a user who administers several works in.
func (c *Client) SetCompany(ctx context.Context, company string) error {
	return c.wait(ctx, CompanyCall(company))
}

// RTCReset releases and randomises the user's phone (keevio) password. With
// getNew it returns the new password; otherwise the password is given up and
// "" is returned.
func (c *Client) RTCReset(ctx context.Context, getNew bool) (string, error) {
	return c.Start(ctx, RTCResetCall(getNew)).Wait(ctx)
}

func (c *Client) wait(ctx context.Context, call Call) error {
	_, err := c.Start(ctx, call).Wait(ctx)
	return err
}

// The calls as the worker runs them.

func (c *Client) login(p *Pending) error {
	o := p.call.login
	if o.CheckOnly || o.Username == "" {
		err := c.check(p)
		if CodeOf(err) == CodeLoginRequired && !o.CheckOnly {
			return newError(CodeLoginRequired, "login: not logged in; pass username and password, or check again after the user has logged in")
		}
		return err
	}
	resp, err := c.call(p, wire.PathLogin, wire.Auth{Type: wire.TypeAuth, Username: o.Username, Password: o.Password})
	if err != nil {
		return err
	}
	if resp.User == nil {
		return errNoUser
	}
	if err := c.keep(p, resp.User.Session); err != nil {
		return err
	}
	c.setUser(userFromWire(resp.User))
	return nil
}

// keep hands the session a login made to the Credentials.
func (c *Client) keep(p *Pending, session string) error {
	if err := c.cfg.Credentials.Keep(p.host, p.subID, session); err != nil {
		return &Error{Code: CodeBadOption, Message: "cannot keep the session in this tab's storage", Err: err}
	}
	return nil
}

// check asks the server for the current login (or the API key's user) and
// records the answer: the user, or none when the server says there is no
// login (then the session held for it, if any, is forgotten).
func (c *Client) check(p *Pending) error {
	resp, err := c.call(p, wire.PathLogin, wire.Auth{Type: wire.TypeAuth})
	switch CodeOf(err) {
	case "":
		if resp.User == nil {
			return errNoUser
		}
		c.setUser(userFromWire(resp.User))
		return nil
	case CodeLoginRequired, CodeAuthFailed:
		_ = c.keep(p, "")
		c.setUser(nil)
		if CodeOf(err) == CodeAuthFailed && c.cfg.APIKey != "" {
			return err // the key itself was refused
		}
		return newError(CodeLoginRequired, "not logged in")
	}
	return err
}

var errNoUser = newError(CodeServer, "the PBX reported success but sent no user; check that setHost names an IPCortex PBX")

func (c *Client) logout(p *Pending) error {
	if _, err := c.call(p, wire.PathLogout, wire.Auth{Type: wire.TypeAuth}); err != nil {
		return err
	}
	c.setUser(nil)
	return c.keep(p, "")
}

func (c *Client) exit(p *Pending) error {
	_, err := c.call(p, wire.PathCleanup, wire.Auth{Type: wire.TypeCleanup})
	switch {
	case err == nil || CodeOf(err) == CodeLoginRequired:
		err = nil
		c.setUser(nil)
	case !p.call.exit.Logout:
		return err
	}
	if p.call.exit.Logout {
		err = errors.Join(err, c.logout(p))
	}
	return err
}

func validCompany(company string) error {
	if strings.TrimSpace(company) == "" {
		return newError(CodeBadOption, "setCompany: the company id is empty; pass the id of a company this user may administer")
	}
	if len(company) > MaxCompanyLen {
		return newError(CodeBadOption, "setCompany: the company id is over "+strconv.Itoa(MaxCompanyLen)+" bytes; pass the id of a company this user may administer")
	}
	return nil
}

func (c *Client) setCompany(p *Pending) error {
	resp, err := c.call(p, wire.PathCompany, wire.Auth{Type: wire.TypeCompany, Company: p.call.company})
	if err != nil {
		return err
	}
	if resp.User == nil {
		return errNoUser
	}
	c.setUser(userFromWire(resp.User))
	return nil
}

func (c *Client) rtcReset(p *Pending) (string, error) {
	getNew := p.call.getNew
	resp, err := c.call(p, wire.PathRTCReset, wire.Auth{Type: wire.TypeRTCReset, GetNew: getNew})
	if err != nil {
		return "", err
	}
	if getNew && resp.Password == "" {
		return "", newError(CodeServer, "rtcReset: the PBX sent no new password")
	}
	return resp.Password, nil
}
