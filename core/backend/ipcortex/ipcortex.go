// Package ipcortex is the IPCortex PBX's half of the login contract (web/PROTOCOL.md).
//
// It holds the system's REST paths, its JSON replies
// (core/backend/ipcortex/wire), its error codes and its user model, behind
// the backend seam. It is the default backend: what the client did before
// there were others.
package ipcortex

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// Name is the backend's name for setHost's option.
const Name = "ipcortex"

// Backend is the IPCortex backend.
type Backend struct{}

// New returns the IPCortex backend.
func New() Backend { return Backend{} }

// Name returns "ipcortex".
func (Backend) Name() string { return Name }

// Supports: everything; IPCortex is the system the API was made for.
func (Backend) Supports(backend.Feature) bool { return true }

// Login logs in with a username and password (making a token unless
// NoToken) or with a token.
func (b Backend) Login(ctx context.Context, at backend.Target, r backend.LoginRequest) (*backend.Login, error) {
	a := wire.Auth{Type: wire.TypeAuth, Token: r.Token, Origin: r.Origin}
	if r.Token == "" {
		a.Username, a.Password, a.NoToken, a.Application = r.Username, r.Password, r.NoToken, r.Application
	}
	resp, err := call(ctx, at, wire.PathLogin, a)
	if err != nil {
		return nil, err
	}
	u, err := user(resp)
	if err != nil {
		return nil, err
	}
	if s := resp.User.Session; s != "" && !backend.ValidSession(s) {
		return nil, backend.NewError(backend.CodeServer, "the PBX at "+at.Host+" sent a session id that is not 1 to "+strconv.Itoa(backend.MaxSession)+" visible ASCII characters; check that Client.SetHost names an IPCortex PBX")
	}
	l := &backend.Login{User: u, Session: resp.User.Session}
	if resp.Token != nil && resp.Token.Value != "" {
		l.Token = &backend.Token{Value: resp.Token.Value, Expires: time.UnixMilli(resp.Token.Expires)}
	}
	return l, nil
}

// Check asks for the current login (or the API key's user).
func (Backend) Check(ctx context.Context, at backend.Target) (*backend.User, error) {
	resp, err := call(ctx, at, wire.PathLogin, wire.Auth{Type: wire.TypeAuth})
	if err != nil {
		return nil, err
	}
	return user(resp)
}

// Logout ends the session and revokes token.
func (Backend) Logout(ctx context.Context, at backend.Target, token string) error {
	_, err := call(ctx, at, wire.PathLogout, wire.Auth{Type: wire.TypeAuth, Token: token})
	return err
}

// Cleanup marks chat offline and releases the phone password.
func (Backend) Cleanup(ctx context.Context, at backend.Target) error {
	_, err := call(ctx, at, wire.PathCleanup, wire.Auth{Type: wire.TypeCleanup})
	return err
}

// SetCompany selects a company.
func (Backend) SetCompany(ctx context.Context, at backend.Target, company string) (*backend.User, error) {
	resp, err := call(ctx, at, wire.PathCompany, wire.Auth{Type: wire.TypeCompany, Company: company})
	if err != nil {
		return nil, err
	}
	return user(resp)
}

// RTCReset releases and randomises the phone password.
func (Backend) RTCReset(ctx context.Context, at backend.Target, getNew bool) (string, error) {
	resp, err := call(ctx, at, wire.PathRTCReset, wire.Auth{Type: wire.TypeRTCReset, GetNew: getNew})
	if err != nil {
		return "", err
	}
	if getNew && resp.Password == "" {
		return "", backend.NewError(backend.CodeServer, "rtcReset: the PBX sent no new password")
	}
	return resp.Password, nil
}

var errNoUser = backend.NewError(backend.CodeServer, "the PBX reported success but sent no user; check that Client.SetHost names an IPCortex PBX")

func user(resp *wire.Response) (*backend.User, error) {
	w := resp.User
	if w == nil {
		return nil, errNoUser
	}
	perms := make(map[string]string, len(w.Perms))
	for k, v := range w.Perms {
		perms[k] = v
	}
	return &backend.User{ID: w.ID, Login: w.Login, Name: w.Name, Company: w.Company, Home: w.Home, Perms: perms}, nil
}

// call performs one exchange of the wire contract to the Target's host and
// under its sub-ID, authenticated by its credential, and turns every way it
// can fail into a *backend.Error. A login (a username or a token) carries no
// API key, which the server would refuse beside it.
func call(ctx context.Context, at backend.Target, path string, a wire.Auth) (*wire.Response, error) {
	url := at.Host + path
	if at.SubID != "" {
		url += "?" + wire.SubIDParam + "=" + at.SubID // ValidSubID: nothing to escape
	}
	authz := ""
	cred := at.Cred
	login := a.Username != "" || a.Token != ""
	switch {
	case cred.Session != "":
		authz = wire.SessionHeaderPrefix + cred.Session
	case cred.Key != "" && !login && cred.KeyInHeader:
		authz = wire.KeyHeaderPrefix + cred.Key
	case cred.Key != "" && !login:
		a.Key = cred.Key
	}
	resp, err := at.Do(ctx, &backend.Request{Method: "POST", URL: url, ContentType: "application/json", Authorization: authz,
		Body: wire.EncodeRequest(wire.Request{Auth: a}), Cookies: at.SubID == "" && authz == "" && a.Key == ""})
	if err != nil {
		return nil, err
	}
	return decodeReply(at.Host, resp)
}

// decodeReply accepts only the documented reply: a JSON object whose result is
// "success" with a 2xx status. A "fail" carries the server's code; anything
// else, however it is malformed, is backend.CodeServer.
func decodeReply(host string, resp *backend.Response) (*wire.Response, error) {
	status := "HTTP " + strconv.Itoa(resp.Status)
	if len(resp.Body) > wire.MaxBody {
		return nil, backend.NewError(backend.CodeServer, "the PBX at "+host+" sent an oversized reply ("+status+"); it may not be an IPCortex PBX")
	}
	r, err := wire.DecodeResponse(resp.Body)
	if err != nil {
		if resp.Status == 429 {
			return nil, backend.NewError(backend.CodeRateLimited, "the PBX at "+host+" refuses requests for a while ("+status+"); wait a minute, then try again")
		}
		if resp.Status >= 500 {
			return nil, backend.NewError(backend.CodeServer, "the PBX at "+host+" failed ("+status+"); try again later or ask its administrator")
		}
		return nil, &backend.Error{Code: backend.CodeServer, Message: "the PBX at " + host + " sent a reply that is not the documented JSON (" + status + "); check that Client.SetHost names an IPCortex PBX", Err: err}
	}
	ok := resp.Status >= 200 && resp.Status < 300
	if r.Result == wire.ResultSuccess && ok {
		return r, nil
	}
	if r.Result != wire.ResultFail {
		return nil, backend.NewError(backend.CodeServer, "the PBX at "+host+" sent an unexpected reply ("+status+", result "+strconv.Quote(clip(r.Result))+")")
	}
	msg, code := "", ""
	if r.Error != nil {
		msg, code = clip(r.Error.Message), r.Error.Code
	}
	switch code {
	case wire.CodeAuthFailed:
		return nil, backend.NewError(backend.CodeAuthFailed, orDefault(msg, "wrong username or password"))
	case wire.CodeLoginRequired:
		return nil, backend.NewError(backend.CodeLoginRequired, orDefault(msg, "not logged in"))
	case wire.CodeForbidden:
		return nil, backend.NewError(backend.CodeForbidden, orDefault(msg, "not allowed for this user"))
	case wire.CodeRateLimited:
		// The server's message says how many seconds to wait, as its
		// Retry-After does, which the transports do not pass on.
		return nil, backend.NewError(backend.CodeRateLimited, orDefault(msg, "too many attempts; wait a minute, then try again"))
	case "":
		if ok || resp.Status == 401 { // the vendor's bare {"result":"fail"}
			return nil, backend.NewError(backend.CodeAuthFailed, "the PBX refused the login")
		}
		if resp.Status == 429 {
			return nil, backend.NewError(backend.CodeRateLimited, "the PBX at "+host+" refuses requests for a while ("+status+"): "+orDefault(msg, "wait a minute, then try again"))
		}
	}
	return nil, backend.NewError(backend.CodeServer, "the PBX at "+host+" refused the request ("+status+"): "+orDefault(msg, "no reason given"))
}

// clip bounds a message that came from the server, which may be hostile.
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

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
