package auth

import (
	"context"
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
	// NoToken: log in with the credentials but do not keep a token.
	NoToken bool
	// NoDOM: never show the login overlay.
	NoDOM bool
	// SubID, if set, qualifies this and every later call (see SetSubID).
	SubID string
	// Application is the token class: "", "refreshable" or "longLogin".
	Application string
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
	switch o.Application {
	case "", "refreshable", "longLogin":
	default:
		return newError(CodeBadOption, "login: application must be empty, \"refreshable\" or \"longLogin\", not \""+clip(o.Application)+"\"")
	}
	return nil
}

// Login logs in as the options say and, on success, makes the user's
// properties current. See Options for the forms.
func (c *Client) Login(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.CheckOnly {
		return c.check(ctx)
	}
	if o.SubID != "" {
		if err := c.SetSubID(o.SubID); err != nil {
			return err
		}
	}
	if o.Username != "" {
		resp, seq, err := c.call(ctx, wire.PathLogin, wire.Auth{Type: wire.TypeAuth, Username: o.Username, Password: o.Password})
		if err != nil {
			return err
		}
		return c.acceptUser(seq, resp)
	}
	err := c.check(ctx)
	if CodeOf(err) == CodeLoginRequired {
		return newError(CodeLoginRequired, "login: not logged in; pass username and password, or check again after the user has logged in")
	}
	return err
}

// check asks the server for the current login (or the API key's user).
func (c *Client) check(ctx context.Context) error {
	resp, seq, err := c.call(ctx, wire.PathLogin, wire.Auth{Type: wire.TypeAuth})
	return c.recordCheck(seq, nil, resp, err)
}

// recordCheck records the answer to a check: the user, or none when the
// server says there is no login.
func (c *Client) recordCheck(seq uint64, gen *uint64, resp *wire.Response, err error) error {
	switch CodeOf(err) {
	case "":
		if resp.User == nil {
			return errNoUser
		}
		c.setUserIf(seq, gen, userFromWire(resp.User))
		return nil
	case CodeLoginRequired, CodeAuthFailed:
		c.setUserIf(seq, gen, nil)
		if CodeOf(err) == CodeAuthFailed && c.cfg.APIKey != "" {
			return err // the key itself was refused
		}
		return newError(CodeLoginRequired, "not logged in")
	}
	return err
}

var errNoUser = newError(CodeServer, "the PBX reported success but sent no user; check that setHost names an IPCortex PBX")

func (c *Client) acceptUser(seq uint64, resp *wire.Response) error {
	if resp.User == nil {
		return errNoUser
	}
	c.setUser(seq, userFromWire(resp.User))
	return nil
}

// Logout ends the session on the server and clears the user's properties. If
// the server cannot be reached the properties stay, so the caller can retry.
func (c *Client) Logout(ctx context.Context) error {
	_, seq, err := c.call(ctx, wire.PathLogout, wire.Auth{Type: wire.TypeAuth})
	if err != nil {
		return err
	}
	c.setUser(seq, nil)
	return nil
}

// ExitOptions choose between the guide's kinds of exit.
type ExitOptions struct {
	// Logout also ends the session (the guide's full logout).
	Logout bool
}

// Exit cleans up: the server marks chat offline and releases the phone
// password, and the client drops what it holds for the user. With Logout it
// then logs out. Without a login there is nothing to clean up, which is not
// an error.
func (c *Client) Exit(ctx context.Context, o ExitOptions) error {
	_, seq, err := c.call(ctx, wire.PathCleanup, wire.Auth{Type: wire.TypeCleanup})
	if err != nil && CodeOf(err) != CodeLoginRequired {
		return err
	}
	c.setUser(seq, nil)
	if o.Logout {
		return c.Logout(ctx)
	}
	return nil
}

// SetCompany selects the company that a user who administers several works in.
func (c *Client) SetCompany(ctx context.Context, company string) error {
	if strings.TrimSpace(company) == "" {
		return newError(CodeBadOption, "setCompany: the company id is empty; pass the id of a company this user may administer")
	}
	if len(company) > MaxCompanyLen {
		return newError(CodeBadOption, "setCompany: the company id is over "+strconv.Itoa(MaxCompanyLen)+" bytes; pass the id of a company this user may administer")
	}
	resp, seq, err := c.call(ctx, wire.PathCompany, wire.Auth{Type: wire.TypeCompany, Company: company})
	if err != nil {
		return err
	}
	return c.acceptUser(seq, resp)
}

// RTCReset releases and randomises the user's phone (keevio) password. With
// getNew it returns the new password; otherwise the password is given up and
// "" is returned.
func (c *Client) RTCReset(ctx context.Context, getNew bool) (string, error) {
	resp, _, err := c.call(ctx, wire.PathRTCReset, wire.Auth{Type: wire.TypeRTCReset, GetNew: getNew})
	if err != nil {
		return "", err
	}
	if getNew && resp.Password == "" {
		return "", newError(CodeServer, "rtcReset: the PBX sent no new password")
	}
	return resp.Password, nil
}
