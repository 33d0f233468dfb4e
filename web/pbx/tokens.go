package pbx

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/store"
)

// appOrigin returns the application origin a login's token is bound to (or,
// for a token login, must be bound to): the "origin" field when the call may
// name one, else the request's Origin header, "" without one (curl, the Go
// client).
//
// Only the server's own pages (the login overlay, which logs in for the page
// that framed it) and trusted origins may name an origin, and only a trusted
// one or the server's own: otherwise any page could make or use tokens in
// the name of another application.
func (s *Server) appOrigin(c *call) (string, error) {
	header := c.r.Header.Get("Origin")
	named := c.auth.Origin
	if named == "" {
		return header, nil
	}
	own := ownOrigin(c.r)
	if header != own && !s.trusts(header) {
		from := "a request without an Origin header"
		if header != "" {
			from = header
		}
		return "", fail(http.StatusForbidden, wire.CodeOriginNotAllowed,
			`only the server's own pages and trusted origins may name an "origin", and this call comes from %s; leave "origin" out to use the request's own`, from)
	}
	if named != own && !s.trusts(named) {
		return "", fail(http.StatusForbidden, wire.CodeOriginNotAllowed,
			`this server does not trust the "origin" %q; name a trusted origin (scheme://host[:port]), or start the server with -origins to add it`, named)
	}
	return named, nil
}

// checkApplication refuses a token class that is not one of the vendor's.
func checkApplication(app string) error {
	if !store.ValidTokenClass(app) {
		return badRequest(`"application" must be "", %q or %q, not %q`, wire.TokenRefreshable, wire.TokenLongLogin, app)
	}
	return nil
}

// tokenClass is the class of the token a login from origin makes: the one
// the login asks for, else the one TokenClasses gives its origin (an exact
// entry before a ":*" one), else the default.
func (s *Server) tokenClass(app, origin string) string {
	if app != "" || origin == "" {
		return app
	}
	class, ok := s.tokenClasses[origin]
	if !ok {
		for p, c := range s.tokenClasses {
			if matchOrigin(p, origin) {
				class = c
				break // at most one ":*" pattern has the origin's scheme and host
			}
		}
	}
	if !store.ValidTokenClass(class) {
		return ""
	}
	return class
}

// tokenLogin starts a new session from a login token, as a password login
// does, and answers the user and the token with its expiry after this use.
// The token must be alive and belong to the call's application origin.
func (s *Server) tokenLogin(c *call) (*wire.Response, error) {
	if c.auth.Username != "" || c.auth.Password != "" {
		return nil, badRequest(`send a "token", or "username" and "password", not both`)
	}
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	if key != "" {
		return nil, badRequest(`send a "token" or an API key, not both`)
	}
	if err := checkApplication(c.auth.Application); err != nil {
		return nil, err
	}
	origin, err := s.appOrigin(c)
	if err != nil {
		return nil, err
	}
	tok, ok := s.tokens.Get(c.auth.Token)
	if !ok {
		return nil, tokenRefused("the token is unknown, has expired or was revoked at logout")
	}
	if tok.Origin != origin {
		return nil, tokenRefused("the token belongs to another origin (it was made for another application)")
	}
	u, ok := s.user(tok.UserID)
	if !ok {
		s.revoke(tok.Value)
		return nil, tokenRefused("the token's user no longer exists")
	}
	if tok, ok = s.tokens.Use(tok.Value); !ok {
		return nil, tokenRefused("the token has expired")
	}
	if err := s.beginSession(u); err != nil {
		return nil, err
	}
	ss := s.startSession(c, u, tok.Value)
	c.undo = func() { s.sessions.Delete(ss.ID) } // the token stays: it was the client's before
	resp := userReply(u, ss.Company, ss.ID)
	resp.Token = tok.Wire()
	return resp, nil
}

func tokenRefused(why string) error {
	return fail(http.StatusUnauthorized, wire.CodeAuthFailed, "%s; log in with a username and password", why)
}

// revoke kills a token and every session made from it.
func (s *Server) revoke(tok string) {
	s.tokens.Revoke(tok)
	s.sessions.DeleteByToken(tok)
}

// ParseTokenClasses reads a comma-separated list of default token classes
// by origin, such as "https://app.example=longLogin,http://localhost:*=refreshable":
// each origin is written as for ParseOrigins (":*" for any port), each class
// is refreshable or longLogin. A login from an origin that the list names
// and that asks for no "application" gets that class.
func ParseTokenClasses(list string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		o, class, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("token classes: %q lacks a class; write ORIGIN=%s or ORIGIN=%s", e, wire.TokenRefreshable, wire.TokenLongLogin)
		}
		norm, err := parseOrigin(strings.TrimSpace(o))
		if err != nil {
			return nil, fmt.Errorf("token classes: %w", err)
		}
		class = strings.TrimSpace(class)
		if class != wire.TokenRefreshable && class != wire.TokenLongLogin {
			return nil, fmt.Errorf("token classes: %q: the class must be %s or %s (the default, 24 hours, needs no entry)", e, wire.TokenRefreshable, wire.TokenLongLogin)
		}
		if _, dup := out[norm]; dup {
			return nil, fmt.Errorf("token classes: %s is given twice; give each origin one class", norm)
		}
		out[norm] = class
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("token classes: the list %q is empty; give ORIGIN=CLASS, comma-separated", list)
	}
	return out, nil
}
