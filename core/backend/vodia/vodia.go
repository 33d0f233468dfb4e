// Package vodia is the Vodia PBX's half of the login contract, after the vendor's document.
//
// The document is the vendor's third-party login: the integrator's server
// asks the PBX for a temporary session id with the admin's credentials (see
// core/backend/vodia/thirdparty), hands it to the page, and the page turns
// it into a session within the 10 seconds allowed: login({tokens: [id]}).
// Vodia has no password login here, no saved tokens, companies, phone
// password or feed: those are refused with bad_option.
package vodia

import (
	"context"
	"strconv"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

// sessionHeader starts the Authorization header that carries a session
// explicitly (as on the local server's IPCortex paths).
const sessionHeader = "session "

// Name is the backend's name for setHost's option.
const Name = "vodia"

// PathSession is the Vodia session resource.
const PathSession = "/rest/system/session"

// Backend is the Vodia backend.
type Backend struct{ backend.NoExtras }

// New returns the Vodia backend.
func New() Backend { return Backend{backend.NoExtras{System: Name}} }

// Name returns "vodia".
func (Backend) Name() string { return Name }

// Supports: the temporary id, given as a token.
func (Backend) Supports(f backend.Feature) bool { return f == backend.FeatureTokens }

// Login turns a temporary session id into a session.
func (b Backend) Login(ctx context.Context, at backend.Target, r backend.LoginRequest) (*backend.Login, error) {
	if r.Token == "" {
		return nil, backend.Unsupported(b, backend.FeaturePassword)
	}
	body := `{"name":"session","value":` + jsontext.Quote(r.Token) + `}`
	resp, err := at.Do(ctx, &backend.Request{Method: "POST", URL: at.Host + PathSession,
		ContentType: "application/json", Body: []byte(body)})
	if err != nil {
		return nil, err
	}
	if !backend.OK(resp) {
		return nil, backend.Failure("Vodia PBX", at.Host, resp, backend.CodeAuthFailed)
	}
	u, sid, err := read(at.Host, resp.Body)
	if err != nil {
		return nil, err
	}
	if sid == "" {
		return nil, backend.NewError(backend.CodeServer, "the Vodia PBX at "+at.Host+" answered the temporary id without a session")
	}
	if !backend.ValidSession(sid) {
		return nil, backend.NewError(backend.CodeServer, "the Vodia PBX at "+at.Host+" answered the temporary id with a session id that is not 1 to "+strconv.Itoa(backend.MaxSession)+" visible ASCII characters")
	}
	return &backend.Login{User: u, Session: sid}, nil
}

// Check reads the session's account.
func (Backend) Check(ctx context.Context, at backend.Target) (*backend.User, error) {
	resp, err := at.Do(ctx, request(at, "GET"))
	if err != nil {
		return nil, err
	}
	if !backend.OK(resp) {
		return nil, backend.Failure("Vodia PBX", at.Host, resp, backend.CodeLoginRequired)
	}
	u, _, err := read(at.Host, resp.Body)
	return u, err
}

// Logout ends the session.
func (Backend) Logout(ctx context.Context, at backend.Target, _ string) error {
	resp, err := at.Do(ctx, request(at, "DELETE"))
	if err != nil {
		return err
	}
	if !backend.OK(resp) && resp.Status != 401 {
		return backend.Failure("Vodia PBX", at.Host, resp, backend.CodeLoginRequired)
	}
	return nil
}

func request(at backend.Target, method string) *backend.Request {
	req := &backend.Request{Method: method, URL: at.Host + PathSession}
	if at.Cred.Session != "" {
		req.Authorization = sessionHeader + at.Cred.Session
	} else {
		req.Cookies = true
	}
	return req
}

// read maps {"session", "type", "domain", "username", "name"} to the user:
// a user's id and login are its extension, a domain's or the admin's login
// is the type; the company is the domain.
func read(host string, body []byte) (*backend.User, string, error) {
	if len(body) > backend.MaxBody {
		return nil, "", backend.NewError(backend.CodeServer, "the Vodia PBX at "+host+" sent an oversized reply; check that Client.SetHost names a Vodia PBX")
	}
	var sid, typ, domain, username, name string
	err := jsontext.ReadObject(body, func(r *jsontext.Parser, key string) error {
		switch key {
		case "session":
			return r.StringInto(&sid)
		case "type":
			return r.StringInto(&typ)
		case "domain":
			return r.StringInto(&domain)
		case "username":
			return r.StringInto(&username)
		case "name":
			return r.StringInto(&name)
		}
		return r.Skip(1)
	})
	if err != nil || typ == "" {
		return nil, "", &backend.Error{Code: backend.CodeServer, Message: "the Vodia PBX at " + host + " sent a session that is not the documented JSON; check that Client.SetHost names a Vodia PBX", Err: err}
	}
	login := username
	if login == "" {
		login = typ
	}
	id, _ := strconv.ParseInt(username, 10, 64)
	return &backend.User{ID: id, Login: login, Name: name, Company: domain, Home: domain, Perms: map[string]string{}}, sid, nil
}
