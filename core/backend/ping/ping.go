// Package ping is the Ping PBX's half of the login contract, after the vendor's document.
//
// A client logs in with a username and password through Authorization:
// Basic at /auth/login (which answers with a session, carried explicitly
// here so that pages on another site keep it), or sends a JWT through
// Authorization: Bearer on every call; the user's properties come from
// /api/extensions/me. Ping has no saved tokens, companies, phone password
// or feed: those are refused with bad_option.
package ping

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

// sessionHeader starts the Authorization header that carries a session
// explicitly (as on the local server's IPCortex paths).
const sessionHeader = "session "

// Name is the backend's name for setHost's option.
const Name = "ping"

// Paths of the Ping API.
const (
	PathLogin      = "/auth/login"
	PathLogout     = "/auth/logout"
	PathExtensions = "/api/extensions/"
	PathMe         = "/api/extensions/me"
)

// The two kinds of credential, as the client keeps them (opaque to it).
const (
	bearer  = "bearer "
	session = "session "
)

// Backend is the Ping backend.
type Backend struct{ backend.NoExtras }

// New returns the Ping backend.
func New() Backend { return Backend{backend.NoExtras{System: Name}} }

// Name returns "ping".
func (Backend) Name() string { return Name }

// Supports: a username and password, or a JWT given as a token.
func (Backend) Supports(f backend.Feature) bool {
	return f == backend.FeaturePassword || f == backend.FeatureTokens
}

// Login logs in with Basic credentials, or checks a JWT.
func (b Backend) Login(ctx context.Context, at backend.Target, r backend.LoginRequest) (*backend.Login, error) {
	cred := bearer + r.Token
	switch {
	case r.Token != "" && !backend.ValidSession(r.Token):
		return nil, backend.NewError(backend.CodeBadOption, "the Ping backend sends the token in a header: it must be 1 to "+strconv.Itoa(backend.MaxSession)+" visible ASCII characters, as a JWT is")
	case r.Token == "" && strings.Contains(r.Username, ":"):
		return nil, backend.NewError(backend.CodeBadOption, "a Ping username cannot contain ':', which Basic credentials cannot carry; it is the extension")
	}
	if r.Token == "" {
		basic := base64.StdEncoding.EncodeToString([]byte(r.Username + ":" + r.Password))
		resp, err := at.Do(ctx, &backend.Request{Method: "POST", URL: at.Host + PathLogin,
			Authorization: "Basic " + basic})
		if err != nil {
			return nil, err
		}
		if !backend.OK(resp) {
			return nil, backend.Failure("Ping PBX", at.Host, resp, backend.CodeAuthFailed)
		}
		id, err := sessionOf(resp.Body)
		if err != nil {
			return nil, &backend.Error{Code: backend.CodeServer, Message: "the Ping PBX at " + at.Host + " answered the login without a usable session", Err: err}
		}
		cred = session + id
	}
	at.Cred = backend.Credential{Session: cred}
	u, err := b.Check(ctx, at)
	if backend.CodeOf(err) == backend.CodeLoginRequired {
		return nil, backend.NewError(backend.CodeAuthFailed, "the Ping PBX at "+at.Host+" refused the token")
	}
	if err != nil {
		return nil, err
	}
	return &backend.Login{User: u, Session: cred}, nil
}

// sessionOf reads {"session": ID}; the ID must be able to go in a header.
func sessionOf(body []byte) (string, error) {
	if len(body) > backend.MaxBody {
		return "", errOversized
	}
	var id string
	err := jsontext.ReadObject(body, func(r *jsontext.Parser, key string) error {
		if key == "session" {
			return r.StringInto(&id)
		}
		return r.Skip(1)
	})
	switch {
	case err != nil:
	case id == "":
		err = errNoSession
	case !backend.ValidSession(id):
		err = errBadSession
	}
	return id, err
}

var (
	errNoSession  = backend.NewError(backend.CodeServer, "no session in the reply")
	errBadSession = backend.NewError(backend.CodeServer, "the session id is not 1 to "+strconv.Itoa(backend.MaxSession)+" visible ASCII characters")
	errOversized  = backend.NewError(backend.CodeServer, "the reply is over "+strconv.Itoa(backend.MaxBody)+" bytes")
)

// Check reads the caller's own extension.
func (Backend) Check(ctx context.Context, at backend.Target) (*backend.User, error) {
	resp, err := at.Do(ctx, request(at, "GET", PathMe))
	if err != nil {
		return nil, err
	}
	if !backend.OK(resp) {
		return nil, backend.Failure("Ping PBX", at.Host, resp, backend.CodeLoginRequired)
	}
	if len(resp.Body) > backend.MaxBody {
		return nil, &backend.Error{Code: backend.CodeServer, Message: "the Ping PBX at " + at.Host + " sent an oversized extension; check that Client.SetHost names a Ping PBX", Err: errOversized}
	}
	var name, ext, domain string
	if err := jsontext.ReadObject(resp.Body, func(r *jsontext.Parser, key string) error {
		switch key {
		case "name":
			return r.StringInto(&name)
		case "extension":
			return r.StringInto(&ext)
		case "domain":
			return r.StringInto(&domain)
		}
		return r.Skip(1)
	}); err != nil || ext == "" {
		return nil, &backend.Error{Code: backend.CodeServer, Message: "the Ping PBX at " + at.Host + " sent an extension that is not the documented JSON; check that Client.SetHost names a Ping PBX", Err: err}
	}
	id, _ := strconv.ParseInt(ext, 10, 64)
	return &backend.User{ID: id, Login: ext, Name: name, Company: domain, Home: domain, Perms: map[string]string{}}, nil
}

// Logout ends a Basic login's session; a JWT is stateless, so there is
// nothing to end on the server.
func (Backend) Logout(ctx context.Context, at backend.Target, _ string) error {
	if strings.HasPrefix(at.Cred.Session, bearer) {
		return nil
	}
	resp, err := at.Do(ctx, request(at, "POST", PathLogout))
	if err != nil {
		return err
	}
	if !backend.OK(resp) {
		return backend.Failure("Ping PBX", at.Host, resp, backend.CodeLoginRequired)
	}
	return nil
}

// request is a call carrying the Target's credential: the JWT as Bearer, the
// session in the header, or nothing explicit (then the cookie, where the
// browser sends it).
func request(at backend.Target, method, path string) *backend.Request {
	req := &backend.Request{Method: method, URL: at.Host + path}
	switch s := at.Cred.Session; {
	case strings.HasPrefix(s, bearer):
		req.Authorization = "Bearer " + strings.TrimPrefix(s, bearer)
	case strings.HasPrefix(s, session):
		req.Authorization = sessionHeader + strings.TrimPrefix(s, session)
	default:
		req.Cookies = true
	}
	return req
}
