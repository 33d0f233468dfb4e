package auth

import (
	"context"
	"strconv"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/wire"
)

// call performs one exchange of the wire contract for p, to the host and under
// the sub-ID p was made with, authenticated by the client's Credentials, and
// turns every way it can fail into an *Error. A login (a username or a token)
// carries no API key, which the server would refuse beside it.
func (c *Client) call(p *Pending, path string, a wire.Auth) (*wire.Response, error) {
	host, subID := p.host, p.subID
	if host == "" {
		return nil, newError(CodeBadOption, "no PBX host is set; call setHost(\"https://your-pbx\") first")
	}
	cred, err := c.cfg.Credentials.Credential(host, subID)
	if err != nil {
		return nil, &Error{Code: CodeBadOption, Message: "cannot read the saved credential for " + host, Err: err}
	}
	url := host + path
	if subID != "" {
		url += "?" + wire.SubIDParam + "=" + subID // ValidSubID: nothing to escape
	}
	header := map[string]string{"Content-Type": "application/json"}
	login := a.Username != "" || a.Token != ""
	switch {
	case cred.Session != "":
		header["Authorization"] = wire.SessionHeaderPrefix + cred.Session
	case cred.Key != "" && !login && cred.KeyInHeader:
		header["Authorization"] = wire.KeyHeaderPrefix + cred.Key
	case cred.Key != "" && !login:
		a.Key = cred.Key
	}
	req := &Request{Method: "POST", URL: url, Header: header, Body: wire.EncodeRequest(wire.Request{Auth: a}),
		Cookies: subID == "" && header["Authorization"] == "" && a.Key == ""}
	ctx, cancel := context.WithTimeout(p.ctx, c.cfg.Timeout)
	defer cancel()
	resp, err := c.cfg.Transport.Do(ctx, req)
	if err != nil {
		return nil, transportError(host, err)
	}
	if ctx.Err() != nil { // a transport that answered after the deadline
		return nil, transportError(host, ctx.Err())
	}
	return decodeReply(host, resp)
}

// decodeReply accepts only the documented reply: a JSON object whose result is
// "success" with a 2xx status. A "fail" carries the server's code; anything
// else, however it is malformed, is CodeServer.
func decodeReply(host string, resp *Response) (*wire.Response, error) {
	status := "HTTP " + strconv.Itoa(resp.Status)
	if len(resp.Body) > wire.MaxBody {
		return nil, newError(CodeServer, "the PBX at "+host+" sent an oversized reply ("+status+"); it may not be an IPCortex PBX")
	}
	r, err := wire.DecodeResponse(resp.Body)
	if err != nil {
		if resp.Status >= 500 {
			return nil, newError(CodeServer, "the PBX at "+host+" failed ("+status+"); try again later or ask its administrator")
		}
		return nil, &Error{Code: CodeServer, Message: "the PBX at " + host + " sent a reply that is not the documented JSON (" + status + "); check that setHost names an IPCortex PBX", Err: err}
	}
	ok := resp.Status >= 200 && resp.Status < 300
	if r.Result == wire.ResultSuccess && ok {
		return r, nil
	}
	if r.Result != wire.ResultFail {
		return nil, newError(CodeServer, "the PBX at "+host+" sent an unexpected reply ("+status+", result "+strconv.Quote(r.Result)+")")
	}
	msg, code := "", ""
	if r.Error != nil {
		msg, code = clip(r.Error.Message), r.Error.Code
	}
	switch code {
	case wire.CodeAuthFailed:
		return nil, newError(CodeAuthFailed, orDefault(msg, "wrong username or password"))
	case wire.CodeLoginRequired:
		return nil, newError(CodeLoginRequired, orDefault(msg, "not logged in"))
	case wire.CodeForbidden:
		return nil, newError(CodeForbidden, orDefault(msg, "not allowed for this user"))
	case "":
		if ok || resp.Status == 401 { // the vendor's bare {"result":"fail"}
			return nil, newError(CodeAuthFailed, "the PBX refused the login")
		}
	}
	return nil, newError(CodeServer, "the PBX at "+host+" refused the request ("+status+"): "+orDefault(msg, "no reason given"))
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
