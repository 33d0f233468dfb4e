//go:build !(js && wasm)

// Package thirdparty is the integrator's server side of the Vodia PBX's third-party login.
//
// It is the Go counterpart of the vendor's PHP sample. Mounted on the
// integrator's own site, a Handler decides with the integrator's hook
// (Allow) whom the caller may become on the PBX, asks the PBX for a
// temporary session id with the PBX's admin credentials, which never leave
// the server, and hands the id to the browser as a JSON string. The page
// then has ten seconds to turn it into a session on the PBX, once:
//
//	browser                    integrator (Handler)                PBX
//	POST /thirdpartylogin  ->  Allow(r) -> Grant
//	                           POST /rest/system/session
//	                           Basic ADMIN:PASSWORD
//	                           {"name":"3rd", ...}            ->  "TEMP"
//	"TEMP"                 <-
//	POST PBX/rest/system/session {"name":"session","value":"TEMP"}  ->  session
//
// The browser's reply is always JSON: the id as a JSON string (200), or
// {"error": "..."}: 405 for another method than POST, 403 when Allow
// refuses (with its error's text, which the page may show), 500 when the
// Handler or the Grant is not set up right, 502 when the PBX cannot be
// reached, refuses (its admin credentials too) or answers something else
// than an id, and 504 when it does not answer within Timeout. What the PBX
// says is summarised, never passed on, and the admin credentials appear in
// no reply and no log line.
//
// Allow must authenticate the caller with the integrator's own means (its
// session cookie, say) and grant only what that caller may have: whoever it
// lets through enters the PBX as the Grant says, without a password.
//
// This package uses net/http and is for servers: the browser module never
// links it (its files build for every target but js/wasm).
package thirdparty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout is the deadline of the exchange with the PBX when
// Handler.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Path is where the PBX gives temporary session ids.
const Path = "/rest/system/session"

// maxReply bounds the PBX's reply; an id is a few dozen bytes.
const maxReply = 64 << 10

// maxID bounds the length of an id passed on to the browser.
const maxID = 1024

// Grant is whom the caller may become on the PBX, as Allow decides: the
// admin (Admin, with Domain optional), a whole domain (Domain alone), or
// one user of a domain (Domain and Username, the user's extension such as
// "40").
type Grant struct {
	Admin    bool
	Domain   string
	Username string
}

// Handler answers a browser's POST with a temporary session id of the PBX
// for whom Allow grants. Set PBX, Admin, Password and Allow; the rest may be
// zero. It is safe for concurrent use once set; do not change it then.
type Handler struct {
	// PBX is the PBX's base URL, such as "https://pbx.example.com".
	PBX string
	// Admin and Password are the PBX's admin credentials.
	Admin, Password string
	// Allow decides whom the request's caller may become; an error refuses
	// it (403, with the error's text). nil refuses every request.
	Allow func(r *http.Request) (Grant, error)
	// Client makes the request to the PBX; nil: http.DefaultClient. It is
	// used without following redirects, so that the credentials go nowhere
	// but to PBX.
	Client *http.Client
	// Timeout is the deadline of the exchange with the PBX; zero:
	// DefaultTimeout.
	Timeout time.Duration
	// ErrorLog gets a line for each failure, without credentials; nil: the
	// log package's standard logger.
	ErrorLog *log.Logger
}

// problem is a failure answered to the browser with status and message,
// and logged with detail.
type problem struct {
	status  int
	message string // for the browser
	detail  string // for the log
}

func (p *problem) Error() string { return p.detail }

// ServeHTTP asks the PBX for a temporary session id for whom Allow grants
// the caller, and writes it to the browser as a JSON string.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorReply{"use POST, not " + r.Method})
		return
	}
	if h.Allow == nil {
		h.fail(w, &problem{http.StatusForbidden, "the third-party login is not allowed", "thirdparty: no Allow hook; every request is refused"})
		return
	}
	g, err := h.Allow(r)
	if err != nil {
		writeJSON(w, http.StatusForbidden, errorReply{err.Error()})
		return
	}
	id, err := h.Session(r.Context(), g)
	if err != nil {
		var p *problem
		if !errors.As(err, &p) {
			p = &problem{http.StatusInternalServerError, "the third-party login failed", err.Error()}
		}
		h.fail(w, p)
		return
	}
	writeJSON(w, http.StatusOK, id)
}

// Session asks the PBX for a temporary session id for g, within the
// Handler's deadline and ctx. It is what ServeHTTP does once Allow has
// granted g, for servers that hand the id to the browser another way.
// Its errors never hold the admin credentials.
func (h *Handler) Session(ctx context.Context, g Grant) (string, error) {
	endpoint, err := h.endpoint()
	if err != nil {
		return "", err
	}
	if h.Admin == "" || h.Password == "" {
		return "", setup("Admin and Password must hold the PBX's admin credentials")
	}
	body, err := g.body()
	if err != nil {
		return "", err
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", setup("cannot make the request to the PBX")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(h.Admin, h.Password)
	resp, err := h.client().Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", &problem{http.StatusGatewayTimeout, "the PBX did not answer in time",
				fmt.Sprintf("thirdparty: the PBX at %s did not answer within %s", h.PBX, timeout)}
		}
		return "", &problem{http.StatusBadGateway, "the PBX cannot be reached",
			fmt.Sprintf("thirdparty: the PBX at %s cannot be reached: %s", h.PBX, netReason(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", &problem{http.StatusGatewayTimeout, "the PBX did not answer in time",
			fmt.Sprintf("thirdparty: the PBX at %s did not finish its answer within %s", h.PBX, timeout)}
	case err != nil:
		return "", &problem{http.StatusBadGateway, "the PBX's answer was cut off",
			fmt.Sprintf("thirdparty: the PBX at %s cut its answer off", h.PBX)}
	case resp.StatusCode != http.StatusOK:
		return "", refused(h.PBX, resp.StatusCode)
	}
	var id string
	if len(raw) > maxReply || json.Unmarshal(raw, &id) != nil || !validID(id) {
		return "", &problem{http.StatusBadGateway, "the PBX's answer is not a session id",
			fmt.Sprintf("thirdparty: the PBX at %s answered 200 without a session id (a JSON string)", h.PBX)}
	}
	return id, nil
}

// endpoint is the URL of the PBX's Path.
func (h *Handler) endpoint() (string, error) {
	u, err := url.Parse(h.PBX)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", setup("PBX must be the PBX's base URL, such as https://pbx.example.com")
	}
	return strings.TrimSuffix(u.String(), "/") + Path, nil
}

// body is the request that asks for g: {"name": "3rd", ...}.
func (g Grant) body() ([]byte, error) {
	type ask struct {
		Name     string `json:"name"`
		Admin    bool   `json:"admin,omitempty"`
		Domain   string `json:"domain,omitempty"`
		Username string `json:"username,omitempty"`
	}
	switch {
	case g.Admin && g.Username != "":
		return nil, setup("the Grant names the admin and a user; name one")
	case !g.Admin && g.Domain == "":
		return nil, setup("the Grant names no domain; a domain or user session needs one")
	}
	return json.Marshal(ask{Name: "3rd", Admin: g.Admin, Domain: g.Domain, Username: g.Username})
}

// client is Client, or http.DefaultClient, that does not follow redirects.
func (h *Handler) client() *http.Client {
	c := http.DefaultClient
	if h.Client != nil {
		c = h.Client
	}
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// setup is the failure of a Handler or Grant that is not set up right.
func setup(detail string) error {
	return &problem{http.StatusInternalServerError, "the third-party login is not set up right; the server's log says why", "thirdparty: " + detail}
}

// refused summarises a PBX's answer other than 200.
func refused(pbx string, status int) error {
	var why string
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		why = "refused the admin credentials"
	case http.StatusNotFound:
		why = "has no such domain or user"
	case http.StatusBadRequest:
		why = "refused the request as malformed"
	default:
		why = fmt.Sprintf("answered status %d", status)
	}
	return &problem{http.StatusBadGateway, "the PBX " + why,
		fmt.Sprintf("thirdparty: the PBX at %s %s (%d)", pbx, why, status)}
}

// netReason is what went wrong on the way to the PBX, without the URL.
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// validID reports whether id can be passed on: 1 to maxID printable ASCII
// characters without spaces, which a page can put in a URL or a JSON body.
func validID(id string) bool {
	if id == "" || len(id) > maxID {
		return false
	}
	for i := range len(id) {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// fail logs p and answers it.
func (h *Handler) fail(w http.ResponseWriter, p *problem) {
	if h.ErrorLog != nil {
		h.ErrorLog.Print(p.detail)
	} else {
		log.Print(p.detail)
	}
	writeJSON(w, p.status, errorReply{p.message})
}

// errorReply is the browser's failure.
type errorReply struct {
	Error string `json:"error"`
}

// writeJSON answers v. The id is a credential for ten seconds: no cache may
// keep it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a browser that went away is not our fault
}
