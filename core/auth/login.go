package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/endpoint"
)

// Limits on what a login sends, so that an absurd value fails at once with
// CodeBadOption instead of as a refused request.
const (
	MaxUsernameLen = 256
	MaxPasswordLen = 1024
	MaxCompanyLen  = 256
)

// Options are the vendor's login options. The zero value checks the current
// login and any saved token and, failing those, prompts (where a Prompt is
// configured) or fails with CodeLoginRequired.
type Options struct {
	// CheckOnly: succeed if and only if the current login, or a saved token
	// that is still valid, gives a user; never prompt. All other options
	// are ignored, as the vendor documents.
	CheckOnly bool
	// Username and Password log in with these credentials; both or neither.
	Username, Password string
	// NoToken: a login with username and password makes no token.
	NoToken bool
	// Headless (the vendor's nodom): never prompt, and neither keep nor
	// reuse tokens automatically (pass them with Tokens, learn them
	// through OnTokens).
	Headless bool
	// SubID, if set, qualifies this and every later call (see SetSubID).
	SubID string
	// Application is the class of the token a login makes: "" (valid 24
	// hours), "refreshable" (alive while used daily) or "longLogin" (weekly).
	Application string
	// Tokens are tried, in order, when there is no current login; ignored
	// with a username and password.
	Tokens []string
	// Origin binds the token a login makes, or checks the one it presents,
	// to this application origin instead of the page's own.
	Origin string
	// OnTokens (the vendor's tokenCB) is told the live tokens (value to expiry) whenever that set
	// changes: at a login, a token's refresh, a logout. It runs in the
	// client's worker, like OnChange, and is kept for the calls after this
	// one.
	OnTokens func(tokens map[string]time.Time)
}

// Limits on tokens and origins, so that absurd values fail at once.
const (
	MaxTokens   = 16
	MaxTokenLen = 512
)

// Validate reports the first option that is not valid, as CodeBadOption.
func (o *Options) Validate() error {
	if o.CheckOnly {
		return nil
	}
	switch {
	case o.Username != "" && o.Password == "":
		return newError(CodeBadOption, "Client.Login: a username was given without a password; pass both, or neither to use the current login")
	case o.Username == "" && o.Password != "":
		return newError(CodeBadOption, "Client.Login: a password was given without a username; pass both, or neither to use the current login")
	case o.Username != "" && strings.TrimSpace(o.Password) == "":
		return newError(CodeBadOption, "Client.Login: the password is blank; the PBX refuses blank passwords (external users log in with any non-blank dummy password)")
	case o.SubID != "" && !wire.ValidSubID(o.SubID):
		return subIDError(o.SubID)
	case len(o.Username) > MaxUsernameLen:
		return newError(CodeBadOption, "Client.Login: the username is over "+strconv.Itoa(MaxUsernameLen)+" bytes; no PBX user has such a name")
	case len(o.Password) > MaxPasswordLen:
		return newError(CodeBadOption, "Client.Login: the password is over "+strconv.Itoa(MaxPasswordLen)+" bytes; the PBX would refuse it")
	case !utf8.ValidString(o.Username) || !utf8.ValidString(o.Password):
		return newError(CodeBadOption, "Client.Login: the username or password is not UTF-8 text; the PBX would receive another one")
	case len(o.Tokens) > MaxTokens:
		return newError(CodeBadOption, "Client.Login: over "+strconv.Itoa(MaxTokens)+" tokens; pass the ones Options.OnTokens reported last")
	case o.Origin != "" && !validOrigin(o.Origin):
		return newError(CodeBadOption, "Client.Login: origin "+strconv.Quote(clip(o.Origin))+" is not an origin; write scheme://host[:port], as location.origin gives it")
	}
	for _, t := range o.Tokens {
		if !validToken(t) {
			return newError(CodeBadOption, "Client.Login: tokens must be non-empty strings of at most "+strconv.Itoa(MaxTokenLen)+" visible ASCII characters, as Options.OnTokens reported them")
		}
	}
	switch o.Application {
	case "", wire.TokenRefreshable, wire.TokenLongLogin:
	default:
		return newError(CodeBadOption, "Client.Login: application must be empty, \"refreshable\" or \"longLogin\", not "+strconv.Quote(clip(o.Application)))
	}
	return nil
}

// validToken reports whether t can be a token: 1 to MaxTokenLen bytes of
// visible ASCII (no spaces or control characters), as every system's
// tokens are, so that it reaches the PBX unchanged in a JSON body and in a
// header (a Ping JWT goes in Authorization: Bearer).
func validToken(t string) bool {
	return len(t) <= MaxTokenLen && backend.ValidSession(t)
}

// validOrigin reports whether s is an origin as browsers write it:
// http(s)://host[:port], nothing after.
func validOrigin(s string) bool {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return false
	}
	e, err := endpoint.ParseAPI(s)
	return err == nil && e.String() == s
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

// The calls as the worker runs them. Each goes to the backend the call was
// made for; an option or method that backend cannot honour is refused with
// CodeBadOption before anything is sent.

// target is where p goes and what it carries.
func (c *Client) target(p *Pending) (backend.Target, error) {
	if p.host == "" {
		return backend.Target{}, newError(CodeBadOption, "no PBX host is set; call Client.SetHost(\"https://your-pbx\") first")
	}
	cred, err := c.credential(p)
	if err != nil {
		return backend.Target{}, err
	}
	return backend.Target{Host: p.host, SubID: p.subID, Cred: cred, Transport: c.cfg.Transport, Timeout: c.cfg.Timeout, SelfTimed: c.selfTimed}, nil
}

// supports refuses a feature p's backend cannot do.
func supports(p *Pending, f backend.Feature) error {
	if !p.backend.Supports(f) {
		return backend.Unsupported(p.backend, f)
	}
	return nil
}

func (c *Client) login(p *Pending) error {
	o := p.call.login
	if o.CheckOnly {
		return c.check(p, c.savedTokens(p, Options{}))
	}
	if !p.backend.Supports(backend.FeatureMakeToken) && (o.NoToken || o.Application != "" || o.Origin != "" || o.OnTokens != nil) {
		return backend.Unsupported(p.backend, backend.FeatureMakeToken)
	}
	if o.OnTokens != nil {
		c.onTokens = o.OnTokens
	}
	if o.Username != "" {
		if err := supports(p, backend.FeaturePassword); err != nil {
			return err
		}
		return c.credentialLogin(p, o, backend.LoginRequest{Username: o.Username, Password: o.Password,
			NoToken: o.NoToken, Application: o.Application, Origin: o.Origin})
	}
	if len(o.Tokens) > 0 {
		if err := supports(p, backend.FeatureTokens); err != nil {
			return err
		}
	}
	tokens := o.Tokens
	if len(tokens) == 0 {
		tokens = c.savedTokens(p, o)
	}
	err := c.check(p, tokens)
	if CodeOf(err) != CodeLoginRequired {
		return err
	}
	if cred, cerr := c.credential(p); cerr != nil || cred.Key != "" {
		return err // a key that is not a login: nobody to prompt
	}
	if len(o.Tokens) > 0 {
		return newError(CodeAuthFailed, "Client.Login: the PBX refused every token given; log in again with username and password (or without Options.Headless, through the overlay)")
	}
	if o.Headless || c.cfg.Prompt == nil || !p.backend.Supports(backend.FeatureOverlay) {
		return newError(CodeLoginRequired, "Client.Login: not logged in; pass username and password (or tokens), or check again after the user has logged in")
	}
	return c.prompt(p, o)
}

// check finds the current login and records its user, or none: the session
// the client holds; else, without a sub-ID, the session of the cookie (the
// one tabs share, where the browser sends it); else the tokens, in order.
func (c *Client) check(p *Pending, tokens []string) error {
	for {
		at, err := c.target(p)
		if err != nil {
			return err
		}
		cred := at.Cred
		if cred.Session == "" && cred.Key == "" && p.subID != "" {
			break // a sub-ID's session is never in a cookie
		}
		u, err := p.backend.Check(p.ctx, at)
		switch code := CodeOf(err); {
		case err == nil:
			c.setUser(u)
			return nil
		case code == CodeAuthFailed && cred.Key != "":
			c.setUser(nil)
			return err // the key itself was refused
		case code != CodeLoginRequired && code != CodeAuthFailed:
			return err
		}
		if cred.Session == "" {
			break
		}
		if err := c.keepSession(p, ""); err != nil { // it has ended; try the cookie next
			return err
		}
	}
	for _, t := range tokens {
		err := c.tokenLogin(p, t)
		if CodeOf(err) != CodeAuthFailed {
			return err
		}
	}
	c.setUser(nil)
	return newError(CodeLoginRequired, "not logged in")
}

// savedTokens is the token kept for a silent login, unless Headless.
func (c *Client) savedTokens(p *Pending, o Options) []string {
	if o.Headless || !p.backend.Supports(backend.FeatureMakeToken) {
		return nil
	}
	if t, err := c.cfg.Credentials.SavedToken(p.host, p.subID, o.Origin); err == nil && t != "" {
		return []string{t}
	}
	return nil
}

// tokenLogin logs in with token t. A token the server refuses is forgotten;
// one it cannot be asked about is kept.
func (c *Client) tokenLogin(p *Pending, t string) error {
	o := p.call.login
	err := c.credentialLogin(p, o, backend.LoginRequest{Token: t, Origin: o.Origin})
	if CodeOf(err) == CodeAuthFailed {
		if saved := c.savedTokens(p, o); len(saved) > 0 && saved[0] == t {
			_ = c.cfg.Credentials.KeepToken(p.host, p.subID, o.Origin, "")
		}
		c.dropToken(t)
	}
	return err
}

// credentialLogin logs in with credentials or a token and records what the
// login made.
func (c *Client) credentialLogin(p *Pending, o Options, r backend.LoginRequest) error {
	at, err := c.target(p)
	if err != nil {
		return err
	}
	l, err := p.backend.Login(p.ctx, at, r)
	if err != nil {
		return err
	}
	return c.loggedIn(p, o, l)
}

// prompt shows the PBX's login page and takes the session (and token) its
// login made.
func (c *Client) prompt(p *Pending, o Options) error {
	req := PromptRequest{Host: p.host, SubID: p.subID, NoToken: o.NoToken, Application: o.Application, Origin: o.Origin}
	res, err := c.promptWith(p, req)
	for err == errLoggedInElsewhere {
		if c.debugging() {
			c.debug("login: another tab logged in: the overlay closes, and the login is checked with that tab's token")
		}
		if err := c.check(p, c.savedTokens(p, o)); CodeOf(err) != CodeLoginRequired {
			return err // logged in, or the check itself failed
		}
		res, err = c.promptWith(p, req)
	}
	if err != nil {
		return err
	}
	if res.Session == "" {
		return newError(CodeServer, "the login page reported success without a session; check that Client.SetHost names an IPCortex PBX")
	}
	if err := c.keepSession(p, res.Session); err != nil {
		return err
	}
	c.keepToken(p, o, res.Token)
	return c.check(p, nil)
}

// loggedIn records what a login made: its session, its token (kept for the
// next page load unless Headless, told to OnTokens), and the user.
func (c *Client) loggedIn(p *Pending, o Options, l *backend.Login) error {
	if l == nil || l.User == nil {
		return errNoUser
	}
	if err := c.keepSession(p, l.Session); err != nil {
		return err
	}
	if p.backend.Supports(backend.FeatureMakeToken) {
		c.keepToken(p, o, l.Token)
	}
	c.setUser(l.User)
	return nil
}

// keepToken keeps a login's token (none: the login made none, so an older
// saved one must not log in the next page load) and tells OnTokens.
func (c *Client) keepToken(p *Pending, o Options, tok *backend.Token) {
	value := ""
	if tok != nil {
		value = tok.Value
	}
	if !o.Headless {
		_ = c.cfg.Credentials.KeepToken(p.host, p.subID, o.Origin, value) // storage refused: the login still stands
	}
	live := map[string]time.Time{}
	if tok != nil && tok.Value != "" {
		live[tok.Value] = tok.Expires
	}
	c.setTokens(live)
}

func (c *Client) credential(p *Pending) (Credential, error) {
	cred, err := c.cfg.Credentials.Credential(p.host, p.subID)
	if err != nil {
		return cred, &Error{Code: CodeBadOption, Message: "cannot read the saved credential for " + p.host, Err: err}
	}
	return cred, nil
}

// keepSession hands the session a login made (or "": forget it) to the
// Credentials.
func (c *Client) keepSession(p *Pending, session string) error {
	if err := c.cfg.Credentials.KeepSession(p.host, p.subID, session); err != nil {
		return &Error{Code: CodeBadOption, Message: "cannot keep the session in this tab's storage", Err: err}
	}
	return nil
}

var errNoUser = newError(CodeServer, "the PBX reported success but sent no user; check that Client.SetHost names the right kind of PBX")

// logout ends the session and revokes the token on the server, then forgets
// both: the token in every tab of the origin, since they share its storage.
func (c *Client) logout(p *Pending) error {
	token := ""
	if saved := c.savedTokens(p, Options{}); len(saved) > 0 {
		token = saved[0]
	}
	for t := range c.live {
		if token == "" {
			token = t
		}
	}
	at, err := c.target(p)
	if err != nil {
		return err
	}
	// As the reference says, logout also stops the feed; first, so that
	// the server's closing of it at the logout is not taken for a login
	// that ended elsewhere (a check that could only be refused).
	c.feed.Stop()
	if err := p.backend.Logout(p.ctx, at, token); err != nil {
		return err
	}
	c.setUser(nil)
	_ = c.cfg.Credentials.KeepToken(p.host, p.subID, "", "")
	c.setTokens(map[string]time.Time{})
	return c.keepSession(p, "")
}

// exit cleans up (where the backend has a clean-up) and, asked to, logs out
// whatever the clean-up did.
func (c *Client) exit(p *Pending) error {
	c.feed.Stop() // exit stops the feed, as the reference says
	var err error
	if p.backend.Supports(backend.FeatureCleanup) {
		var at backend.Target
		if at, err = c.target(p); err == nil {
			err = p.backend.Cleanup(p.ctx, at)
		}
	}
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
		return newError(CodeBadOption, "Client.SetCompany: the company id is empty; pass the id of a company this user may administer")
	}
	if len(company) > MaxCompanyLen {
		return newError(CodeBadOption, "Client.SetCompany: the company id is over "+strconv.Itoa(MaxCompanyLen)+" bytes; pass the id of a company this user may administer")
	}
	if !utf8.ValidString(company) {
		return newError(CodeBadOption, "Client.SetCompany: the company id is not UTF-8 text; the PBX would receive another one")
	}
	return nil
}

func (c *Client) setCompany(p *Pending) error {
	if err := supports(p, backend.FeatureCompany); err != nil {
		return err
	}
	at, err := c.target(p)
	if err != nil {
		return err
	}
	u, err := p.backend.SetCompany(p.ctx, at, p.call.company)
	if err != nil {
		return err
	}
	c.setUser(u)
	return nil
}

func (c *Client) rtcReset(p *Pending) (string, error) {
	if err := supports(p, backend.FeatureRTCReset); err != nil {
		return "", err
	}
	at, err := c.target(p)
	if err != nil {
		return "", err
	}
	return p.backend.RTCReset(p.ctx, at, p.call.getNew)
}
