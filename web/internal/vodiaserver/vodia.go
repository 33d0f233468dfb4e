// Package vodiaserver is the local PBX server's half of Vodia's third-party login.
//
// It follows the vendor's document (see "Vodia" in web/PROTOCOL.md). An
// integrator's server, holding the PBX's admin credentials, asks POST
// /rest/system/session for a temporary session id for the admin, a domain
// or a user; its page hands the id to the browser, which turns it into a
// session with the same path within ten seconds, once. The session then
// travels in the vodia_session cookie or in the header "Authorization:
// session SID"; GET reads it and DELETE ends it.
//
// Handler serves only that path and answers every failure as
// {"error": "..."}; the server in front of it checks the Host and the Origin.
package vodiaserver

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/jsonreply"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/internal/strictjson"
	"github.com/pbxauth/pbxauth/web/users"
)

// Path is the one path of the third-party login, and CookieName the cookie
// of its sessions.
const (
	Path       = "/rest/system/session"
	CookieName = "vodia_session"
)

// TempLife is how long a temporary session id lives: the vendor's "use that
// temporary token within 10 seconds". At TempLife it is dead.
const TempLife = 10 * time.Second

// maxBody bounds a request body; the longest is a few dozen bytes.
const maxBody = 64 << 10

// The types of session.
const (
	TypeAdmin  = "admin"
	TypeDomain = "domain"
	TypeUser   = "user"
)

// adminName is the name of admin sessions: the admin's login is half of its
// credentials, and stays out of replies.
const adminName = "Administrator"

// Config says whom Vodia knows. Every field may be zero.
type Config struct {
	// Users are the domains and the users (those with an extension) that
	// sessions may be made for.
	Users *users.Directory
	// Now is the clock of temporary ids and sessions; nil: the real clock.
	Now func() time.Time
	// Admin holds the admin credentials that ask for temporary ids; nil:
	// every such request is refused.
	Admin *Admin
}

// Info describes a session, as the exchange and GET answer it.
type Info struct {
	// Session is the session id, only in the answer to the exchange.
	Session string `json:"session,omitempty"`
	// Type is TypeAdmin, TypeDomain or TypeUser.
	Type string `json:"type"`
	// Domain is the session's domain; "" for an admin session asked for
	// without one.
	Domain string `json:"domain"`
	// Username is the user's extension, in user sessions only.
	Username string `json:"username,omitempty"`
	// Name is the user's name, the domain's, or "Administrator".
	Name string `json:"name"`
}

// temp is a temporary session id's grant.
type temp struct {
	info    Info
	created time.Time
}

// live is a session.
type live struct {
	info              Info
	created, lastUsed time.Time
}

// Handler serves Path. Its zero value is not usable; call New.
type Handler struct {
	users *users.Directory
	now   func() time.Time
	admin *Admin

	mu       sync.Mutex
	temps    map[store.Digest]*temp // by the digest of the id
	sessions map[store.Digest]*live // by the digest of the id
}

// New returns a handler for cfg.
func New(cfg Config) *Handler {
	h := &Handler{users: cfg.Users, now: cfg.Now, admin: cfg.Admin,
		temps: map[store.Digest]*temp{}, sessions: map[store.Digest]*live{}}
	if h.users == nil {
		h.users = users.NewDirectory(nil)
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// ServeHTTP serves Path: POST asks for a temporary id (with the admin's
// Basic credentials) or exchanges one for a session (without), GET
// describes the call's session, DELETE ends it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		Fail(w, http.StatusNotFound, "no such path; see Vodia in web/PROTOCOL.md")
		return
	}
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet:
		h.get(w, r)
	case http.MethodDelete:
		h.delete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE, OPTIONS")
		Fail(w, http.StatusMethodNotAllowed, "use POST, GET or DELETE, not "+r.Method)
	}
}

// request is the body of a POST: {"name": "3rd", ...} asks for a temporary
// id, {"name": "session", "value": ID} exchanges one.
type request struct {
	Name     string  `json:"name"`
	Admin    bool    `json:"admin"`
	Domain   *string `json:"domain"`
	Username *string `json:"username"` // null, as PHP sends an absent account, is none
	Value    *string `json:"value"`
}

// failure is an error that is answered with its status.
type failure struct {
	status  int
	message string
}

func (f *failure) Error() string { return f.message }

func fail(status int, message string) error { return &failure{status, message} }

func badRequest(message string) error { return fail(http.StatusBadRequest, message) }

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	req, err := decode(w, r)
	if err == nil {
		switch req.Name {
		case "3rd":
			err = h.thirdParty(w, r, req)
		case "session":
			err = h.exchange(w, r, req)
		default:
			err = badRequest(`"name" must be "3rd" (ask for a temporary session id) or "session" (use one)`)
		}
	}
	if err != nil {
		var f *failure
		if !errors.As(err, &f) {
			f = &failure{http.StatusInternalServerError, "the server failed"}
		}
		Fail(w, f.status, f.message)
	}
}

// decode reads the body: one JSON object of known fields, of at most
// maxBody bytes, sent as application/json (which also stops cross-site
// form posts).
func decode(w http.ResponseWriter, r *http.Request) (request, error) {
	var req request
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return req, fail(http.StatusUnsupportedMediaType, "send the body as Content-Type: application/json")
	}
	err := strictjson.Decode(http.MaxBytesReader(w, r.Body, maxBody), &req)
	if errors.Is(err, strictjson.ErrTrailingData) {
		err = errors.New("there is more after the JSON object")
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return req, fail(http.StatusRequestEntityTooLarge, "the body is too large")
	case err != nil:
		return req, badRequest(`the body must be {"name": "3rd", "domain": D, ...} or {"name": "session", "value": ID}: ` +
			strings.TrimPrefix(err.Error(), "json: "))
	}
	return req, nil
}

// thirdParty answers a temporary session id, as a JSON string, for the grant
// the body asks: the admin ("admin": true), a domain (no username), or the
// user with extension "username" in the domain. Only the admin may ask.
func (h *Handler) thirdParty(w http.ResponseWriter, r *http.Request, req request) error {
	domain, username := deref(req.Domain), deref(req.Username)
	switch {
	case req.Value != nil:
		return badRequest(`"value" belongs to {"name": "session"}, not to "3rd"`)
	case req.Admin && username != "":
		return badRequest(`ask for the admin ("admin": true) or for a user ("username"), not both`)
	case !req.Admin && domain == "":
		return badRequest(`"domain" must name the domain`)
	}
	login, password, ok := r.BasicAuth()
	if !ok {
		return fail(http.StatusUnauthorized, "send the admin credentials as Authorization: Basic base64(ADMIN:PASSWORD)")
	}
	if !h.admin.Check(login, password) {
		return fail(http.StatusUnauthorized, "wrong admin name or password")
	}
	info, err := h.grant(req.Admin, domain, username)
	if err != nil {
		return err
	}
	id := store.NewSecret()
	now := h.now()
	h.mu.Lock()
	h.temps[store.DigestOf(id)] = &temp{info: info, created: now}
	h.mu.Unlock()
	reply(w, http.StatusOK, id)
	return nil
}

// grant describes the session a temporary id is for.
func (h *Handler) grant(admin bool, domain, username string) (Info, error) {
	if domain != "" && !h.users.HasDomain(domain) {
		return Info{}, fail(http.StatusNotFound, "no such domain")
	}
	switch {
	case admin:
		return Info{Type: TypeAdmin, Domain: domain, Name: adminName}, nil
	case username == "":
		return Info{Type: TypeDomain, Domain: domain, Name: domain}, nil
	}
	u, ok := h.users.ByExtension(username)
	if !ok || u.Domain != domain {
		return Info{}, fail(http.StatusNotFound, "no such user in this domain")
	}
	name := u.Name
	if name == "" {
		name = u.Login
	}
	return Info{Type: TypeUser, Domain: domain, Username: username, Name: name}, nil
}

// exchange turns a temporary id into a session: once, and within TempLife
// of its making. The session the call carried, if any, ends.
func (h *Handler) exchange(w http.ResponseWriter, r *http.Request, req request) error {
	if req.Value == nil || req.Admin || req.Domain != nil || req.Username != nil {
		return badRequest(`send {"name": "session", "value": ID}, nothing else`)
	}
	now := h.now()
	h.mu.Lock()
	t, ok := h.temps[store.DigestOf(*req.Value)]
	delete(h.temps, store.DigestOf(*req.Value)) // single use, live or not
	h.mu.Unlock()
	switch {
	case !ok:
		return fail(http.StatusUnauthorized, "unknown or already used temporary session id")
	case now.Sub(t.created) >= TempLife:
		return fail(http.StatusUnauthorized, "the temporary session id has expired: use it within 10 seconds")
	}
	if id, _, ok := sessionOf(r); ok {
		h.end(id)
	}
	id := store.NewSecret()
	h.mu.Lock()
	h.sessions[store.DigestOf(id)] = &live{info: t.info, created: now, lastUsed: now}
	h.mu.Unlock()
	http.SetCookie(w, store.Cookie(r, CookieName, id))
	info := t.info
	info.Session = id
	reply(w, http.StatusOK, info)
	return nil
}

// get describes the call's session.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	id, _, ok := sessionOf(r)
	if ok {
		var info Info
		if info, ok = h.use(id); ok {
			reply(w, http.StatusOK, info)
			return
		}
	}
	Fail(w, http.StatusUnauthorized, "no session: log in first")
}

// delete ends the call's session, and expires the cookie when the call used
// it. It never fails.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	id, fromCookie, ok := sessionOf(r)
	if ok {
		h.end(id)
	}
	if fromCookie {
		http.SetCookie(w, store.EndCookie(r, CookieName))
	}
	reply(w, http.StatusOK, struct{}{})
}

// use returns the live session id's description and marks it used; an
// expired one is dropped.
func (h *Handler) use(id string) (Info, bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[store.DigestOf(id)]
	if !ok {
		return Info{}, false
	}
	if expired(s, now) {
		delete(h.sessions, store.DigestOf(id))
		return Info{}, false
	}
	s.lastUsed = now
	return s.info, true
}

// end ends a session.
func (h *Handler) end(id string) {
	h.mu.Lock()
	delete(h.sessions, store.DigestOf(id))
	h.mu.Unlock()
}

// expired reports whether a session has ended by time: the lifetimes of the
// IPCortex sessions, 8 hours idle or 24 in all.
func expired(s *live, now time.Time) bool {
	return now.Sub(s.lastUsed) >= store.DefaultIdleTimeout || now.Sub(s.created) >= store.DefaultMaxAge
}

// Sweep drops the temporary ids and the sessions whose time has come, and
// returns how many of each it dropped.
func (h *Handler) Sweep() (temps, sessions int) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, t := range h.temps {
		if now.Sub(t.created) >= TempLife {
			delete(h.temps, id)
			temps++
		}
	}
	for id, s := range h.sessions {
		if expired(s, now) {
			delete(h.sessions, id)
			sessions++
		}
	}
	return temps, sessions
}

// Len returns the number of temporary ids and sessions held, those whose
// time has come but that are not yet swept included.
func (h *Handler) Len() (temps, sessions int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.temps), len(h.sessions)
}

// sessionOf returns the session id a call carries: that of the header
// "Authorization: session SID" or, when the call has no Authorization
// header, that of the cookie, and whether it came from the cookie.
func sessionOf(r *http.Request) (id string, fromCookie, ok bool) {
	if vs := r.Header.Values("Authorization"); len(vs) > 0 {
		if len(vs) > 1 {
			return "", false, false
		}
		scheme, rest, _ := strings.Cut(strings.TrimSpace(vs[0]), " ")
		id = strings.TrimSpace(rest)
		return id, false, strings.EqualFold(scheme, "session") && id != ""
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return "", false, false
	}
	return ck.Value, true, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Fail answers {"error": message} with status, the failure of Vodia's
// paths. The server uses it for the Host and Origin checks in front of them.
func Fail(w http.ResponseWriter, status int, message string) {
	jsonreply.Fail(w, status, message)
}

func reply(w http.ResponseWriter, status int, v any) { jsonreply.Write(w, status, v) }
