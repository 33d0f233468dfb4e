package pbx

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

// caller is who made a call: a user, with its session, or without one when it
// came with an API key.
type caller struct {
	user    *users.User
	session *store.Session // nil for an API key
	company string
}

// identify finds the caller: by API key (stateless), or else by the session
// the call carries.
func (s *Server) identify(c *call) (*caller, error) {
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	if key != "" {
		u, err := s.checkKey(c.r, key)
		if err != nil {
			return nil, err
		}
		return &caller{user: u, company: u.Company}, nil
	}
	ss, ok := s.session(c)
	if !ok {
		return nil, loginRequired()
	}
	u, ok := s.user(ss.UserID)
	if !ok { // the user is gone; so is its session
		s.sessions.Delete(ss.ID)
		return nil, loginRequired()
	}
	return &caller{user: u, session: &ss, company: ss.Company}, nil
}

func loginRequired() error {
	return fail(http.StatusUnauthorized, wire.CodeLoginRequired, "log in first")
}

// key returns the call's API key, from the body or the Authorization header.
// A key in the body beside a session header is refused: the call would carry
// two credentials, and the server would have to guess which one is meant.
func (c *call) key() (string, error) {
	header, _ := wire.KeyFromHeader(c.r.Header.Get("Authorization"))
	body := c.auth.Key
	_, hasSession := c.headerSession()
	switch {
	case body != "" && hasSession:
		return "", badRequest(`send the API key ("key") or the header "Authorization: session ID", not both`)
	case header != "" && body != "" && header != body:
		return "", badRequest("the API key in the body and the one in the Authorization header differ; send one")
	case body != "":
		return body, nil
	}
	return header, nil
}

// sessionScheme is the Authorization scheme of a session header, which the
// server sees without its trailing space when the id is missing.
var sessionScheme = strings.TrimSpace(wire.SessionHeaderPrefix)

// headerSession returns the session id of the call's "Authorization: session
// ID" header, and whether the header uses that scheme at all. A header without
// an id still counts as present (so cookies are ignored), and its "" matches
// no session.
func (c *call) headerSession() (string, bool) {
	v := c.r.Header.Get("Authorization")
	if id, ok := wire.SessionFromHeader(v); ok {
		return id, true
	}
	return "", v == sessionScheme
}

// usesCookie reports whether the call's session, if any, travels in the
// cookie: only without a sub-ID and without a session header.
func (c *call) usesCookie() bool {
	_, hasHeader := c.headerSession()
	return c.subID == "" && !hasHeader
}

// session returns the live session the call carries: the one of its session
// header or, when the call uses the cookie, the cookie's. A session is bound
// to the sub-ID it was made under, so that one sub-ID's session id cannot
// stand in for another's, nor a sub-ID's for the one without.
func (s *Server) session(c *call) (store.Session, bool) {
	id, _ := c.headerSession()
	if c.usesCookie() {
		if ck, err := c.r.Cookie(wire.CookieName); err == nil {
			id = ck.Value
		}
	}
	if id == "" {
		return store.Session{}, false
	}
	ss, ok := s.sessions.Get(id)
	if !ok || ss.SubID != c.subID {
		return store.Session{}, false
	}
	return ss, true
}

// auth serves /rest/auth/: a login with username and password or with a
// token, a key call or a check of the session.
func (s *Server) auth(c *call) (*wire.Response, error) {
	switch {
	case c.auth.Token != "":
		return s.tokenLogin(c)
	case c.auth.Username != "":
		return s.login(c)
	case c.auth.Password != "":
		return nil, badRequest(`"password" without "username"; send both to log in`)
	}
	who, err := s.identify(c)
	if err != nil {
		return nil, err
	}
	return userReply(who.user, who.company, ""), nil
}

// login checks the credentials and starts a new session and, unless the
// call asks for none ("notoken"), a login token bound to the call's
// application origin, of the class the call asks for or its origin's
// default. Only the session without a sub-ID goes into the cookie; the reply
// carries the id in every case, for the client to send back in the session
// header. The guard throttles failed logins by name and address, and bounds
// the password checks under way; a client that leaves before its password
// is checked, or before its session is made, gets none.
func (s *Server) login(c *call) (*wire.Response, error) {
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	if key != "" {
		return nil, badRequest(`send "username" and "password", or an API key, not both`)
	}
	if strings.TrimSpace(c.auth.Password) == "" {
		return nil, badRequest("the password is blank; users without one send a dummy password")
	}
	if err := checkApplication(c.auth.Application); err != nil {
		return nil, err
	}
	origin, err := s.appOrigin(c)
	if err != nil {
		return nil, err
	}
	at, err := s.guard.begin(c.r, c.auth.Username, loginLabel(c.auth.Username))
	if err != nil {
		return nil, err
	}
	u, err := at.check(c.r.Context(), func() (*users.User, error) {
		return s.authenticate(c.auth.Username, c.auth.Password)
	})
	switch {
	case errors.Is(err, errClientGone), errors.Is(err, errBusy):
		return nil, err
	case err != nil:
		return nil, authFailed(err)
	case c.r.Context().Err() != nil:
		return nil, errClientGone
	}
	if err := s.beginSession(u); err != nil {
		return nil, err
	}
	var tok store.Token
	if !c.auth.NoToken {
		tok = s.tokens.Create(u.ID, s.tokenClass(c.auth.Application, origin), origin)
	}
	ss := s.startSession(c, u, tok.Value)
	c.undo = func() {
		if tok.Value != "" {
			s.revoke(tok.Value) // and its session
		}
		s.sessions.Delete(ss.ID)
	}
	resp := userReply(u, ss.Company, ss.ID)
	if !c.auth.NoToken {
		resp.Token = tok.Wire()
	}
	return resp, nil
}

// startSession starts a session for u, made from the token tok ("" for
// none), under the call's sub-ID. A session the call carried ends: every
// login gets a fresh id, so a session id planted before the login cannot be
// used to ride on it. Without a sub-ID the session goes into the cookie.
func (s *Server) startSession(c *call, u *users.User, tok string) store.Session {
	if old, ok := s.session(c); ok {
		s.sessions.Delete(old.ID)
	}
	ss := s.sessions.CreateFromToken(tok, u.ID, u.Company, c.subID)
	if c.subID == "" {
		http.SetCookie(c.w, store.Cookie(c.r, wire.CookieName, ss.ID))
	}
	return ss
}

// logout ends the call's session, if there is one, and the token it was made
// from with every other session of that token; then the token the body
// names, if any, with its sessions, for a page whose session has already
// expired. It expires the cookie when the call uses it. It ignores API keys
// and never fails, so that a client can always get back to a clean state.
func (s *Server) logout(c *call) (*wire.Response, error) {
	if ss, ok := s.session(c); ok {
		if ss.Token != "" {
			s.revoke(ss.Token)
		}
		s.sessions.Delete(ss.ID)
	}
	if c.auth.Token != "" {
		s.revoke(c.auth.Token)
	}
	if c.usesCookie() {
		http.SetCookie(c.w, store.EndCookie(c.r, wire.CookieName))
	}
	return success(), nil
}

// cleanup marks chat offline and releases the phone password; the session
// stays. With an API key there is no session, so nothing changes.
func (s *Server) cleanup(c *call) (*wire.Response, error) {
	who, err := s.identify(c)
	if err != nil {
		return nil, err
	}
	if who.session != nil {
		if _, ok := s.sessions.Cleanup(who.session.ID); !ok {
			return nil, loginRequired()
		}
	}
	return success(), nil
}

// company selects a company for the session; with an API key it only answers
// what the user would look like in it.
func (s *Server) company(c *call) (*wire.Response, error) {
	who, err := s.identify(c)
	if err != nil {
		return nil, err
	}
	if err := notForExternals(who.user); err != nil {
		return nil, err
	}
	co := c.auth.Company
	if co == "" {
		return nil, badRequest(`"company" must name the company to select`)
	}
	if !who.user.MaySelect(co) {
		return nil, fail(http.StatusForbidden, wire.CodeForbidden, "this user may not select company %q", co)
	}
	if who.session != nil {
		if _, ok := s.sessions.SelectCompany(who.session.ID, co); !ok {
			return nil, loginRequired()
		}
	}
	return userReply(who.user, co, ""), nil
}

// rtcReset gives the session a new phone password and, with getnew, returns
// it. With an API key there is no session to keep it in: the reply carries a
// fresh password that nothing else knows.
func (s *Server) rtcReset(c *call) (*wire.Response, error) {
	who, err := s.identify(c)
	if err != nil {
		return nil, err
	}
	password := store.NewSecret()
	if who.session != nil {
		ss, ok := s.sessions.ResetPhonePassword(who.session.ID)
		if !ok {
			return nil, loginRequired()
		}
		password = ss.PhonePassword
	}
	resp := success()
	if c.auth.GetNew {
		resp.Password = password
	}
	return resp, nil
}

func success() *wire.Response {
	return &wire.Response{Result: wire.ResultSuccess}
}

// userReply is a success that describes u in company; sessionID goes only into
// the reply of the login that made the session.
func userReply(u *users.User, company, sessionID string) *wire.Response {
	resp := success()
	resp.User = &wire.User{
		ID: u.ID, Login: u.Login, Name: u.Name, Company: company, Home: u.Home,
		Session: sessionID, Perms: u.Perms,
	}
	return resp
}
