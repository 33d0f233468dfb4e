// Package pingserver is the local PBX server's half of the Ping phone system.
//
// It follows the vendor's authentication document (see "Ping" in
// web/PROTOCOL.md): a login with Basic credentials at /auth/login that
// answers a session (in a cookie, and in the reply for pages on another
// site), a logout, and the extension directory under /api/extensions/,
// which takes a JSON Web Token (Authorization: Bearer), the session header
// (Authorization: session ID) or the session cookie.
//
// A Ping user name is the user's extension (the document's example user is a
// number), its password the one it has for every system of the server. JWTs
// are HS256 only, signed with a 32-byte key (see LoadKey and Mint), and say
// for which extension ("sub") and domain ("domain") they were made.
//
// Handler serves only these paths and answers every failure as
// {"error": "..."}; the server in front of it checks the Host and the Origin.
package pingserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/jsonreply"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

// The paths of Ping, and its session cookie.
const (
	PathLogin  = "/auth/login"
	PathLogout = "/auth/logout"
	// PathExtensions lists the caller's domain; PathExtensions + "me" is the
	// caller, PathExtensions + EXTENSION one extension of its domain.
	PathExtensions = "/api/extensions/"
	// CookieName carries the session a Basic login starts.
	CookieName = "ping_session"
)

// Config says whom Ping knows. Users is required; the rest may be zero.
type Config struct {
	// Users are who may log in: those with an extension.
	Users *users.Directory
	// Now is the clock of sessions and of the tokens' expiry; nil: the real
	// clock.
	Now func() time.Time
	// Key signs and checks the JWTs: KeySize bytes (see LoadKey). nil: a
	// random key, good for the life of this handler only.
	Key []byte
	// Presence is what the extension objects say about each user, by login;
	// a user without an entry is available, with no profile and no calls.
	Presence map[string]Presence
}

// Handler serves Ping's paths. Its zero value is not usable; call New.
type Handler struct {
	users    *users.Directory
	now      func() time.Time
	key      []byte
	presence map[string]Presence
	sessions *store.Sessions
	mux      *http.ServeMux
}

// New returns a handler for cfg. It panics if cfg.Key is given with another
// length than KeySize: LoadKey never returns such a key.
func New(cfg Config) *Handler {
	h := &Handler{users: cfg.Users, now: cfg.Now, key: cfg.Key, presence: cfg.Presence}
	if h.users == nil {
		h.users = users.NewDirectory(nil)
	}
	if h.now == nil {
		h.now = time.Now
	}
	switch len(h.key) {
	case 0:
		h.key = make([]byte, KeySize)
		rand.Read(h.key) // never fails; it crashes the program if the system has no randomness
	case KeySize:
	default:
		panic(fmt.Sprintf("ping: the key is %d bytes; it must be %d", len(h.key), KeySize))
	}
	h.sessions = store.NewSessions()
	h.sessions.Now = h.now
	h.mux = http.NewServeMux()
	h.mux.HandleFunc(PathLogin, h.login)
	h.mux.HandleFunc(PathLogout, h.logout)
	h.mux.HandleFunc(PathExtensions+"{$}", h.list)
	h.mux.HandleFunc(PathExtensions+"me", h.me)
	h.mux.HandleFunc(PathExtensions+"{extension}", h.one)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		Fail(w, http.StatusNotFound, "no such path; see Ping in web/PROTOCOL.md")
	})
	return h
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// Sweep drops the sessions that have expired and returns how many.
func (h *Handler) Sweep() int {
	return h.sessions.Sweep()
}

// Sessions returns the number of sessions held, expired ones not yet swept
// included.
func (h *Handler) Sessions() int {
	return h.sessions.Len()
}

// login serves POST /auth/login: Basic credentials, the extension and the
// password, start a session, which the reply carries in its body and in the
// cookie. A session the call carried ends: every login gets a new id. The
// body is ignored.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	if len(r.Header.Values("Authorization")) > 1 {
		Fail(w, http.StatusUnauthorized, "send one Authorization header")
		return
	}
	ext, password, ok := r.BasicAuth()
	if !ok {
		// No WWW-Authenticate: browsers would show their own login dialog
		// over the page that made the call.
		Fail(w, http.StatusUnauthorized, "log in with Authorization: Basic base64(EXTENSION:PASSWORD)")
		return
	}
	u, err := h.users.AuthenticateExtension(ext, password)
	if err != nil {
		Fail(w, http.StatusUnauthorized, users.ErrAuthFailed.Error())
		return
	}
	if ck, err := r.Cookie(CookieName); err == nil && ck.Value != "" {
		h.sessions.Delete(ck.Value) // the session this browser had ends
	}
	ss := h.sessions.Create(u.ID, u.Domain, "")
	http.SetCookie(w, store.Cookie(r, CookieName, ss.ID))
	reply(w, http.StatusOK, loginReply{Session: ss.ID})
	// A session whose id never reached its client is one nobody can end:
	// a reply that could not be delivered undoes the login.
	if err := http.NewResponseController(w).Flush(); err != nil || r.Context().Err() != nil {
		h.sessions.Delete(ss.ID)
	}
}

// loginReply is the answer to a login.
type loginReply struct {
	Session string `json:"session"`
}

// logout serves POST /auth/logout: the call's session, in the session header
// or the cookie, ends; the cookie is expired when the call used it. It never
// fails, so that a client can always get back to a clean state.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost) {
		return
	}
	id, fromCookie, ok := sessionOf(r)
	if ok {
		h.sessions.Delete(id)
	}
	if fromCookie {
		http.SetCookie(w, store.EndCookie(r, CookieName))
	}
	reply(w, http.StatusOK, struct{}{})
}

// sessionOf returns the session id a call carries: that of the header
// "Authorization: session ID" or, when the call has no Authorization header,
// that of the cookie, and whether it came from the cookie.
func sessionOf(r *http.Request) (id string, fromCookie, ok bool) {
	if vs := r.Header.Values("Authorization"); len(vs) > 0 {
		if len(vs) > 1 {
			return "", false, false
		}
		scheme, rest, _ := strings.Cut(strings.TrimSpace(vs[0]), " ")
		if !strings.EqualFold(scheme, schemeSession) {
			return "", false, false
		}
		id = strings.TrimSpace(rest)
		return id, false, id != ""
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return "", false, false
	}
	return ck.Value, true, true
}

// The Authorization schemes of the API calls.
const (
	schemeBearer  = "Bearer"
	schemeSession = "session"
)

// caller returns the user an API call is made for, by exactly one
// credential: a JWT (Authorization: Bearer), a session header
// (Authorization: session ID) or, without an Authorization header, the
// session cookie. With an Authorization header, the cookie is ignored.
func (h *Handler) caller(r *http.Request) (*users.User, error) {
	vs := r.Header.Values("Authorization")
	switch {
	case len(vs) > 1:
		return nil, errors.New("send one Authorization header")
	case len(vs) == 1:
		scheme, rest, _ := strings.Cut(strings.TrimSpace(vs[0]), " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.EqualFold(scheme, schemeBearer):
			return h.verify(rest)
		case strings.EqualFold(scheme, schemeSession):
			return h.sessionUser(rest)
		}
		return nil, errors.New(`use "Authorization: Bearer JWT" or "Authorization: session ID" (Basic only at ` + PathLogin + ")")
	}
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, errors.New("log in first: send Authorization: Bearer JWT, Authorization: session ID, or the " + CookieName + " cookie")
	}
	return h.sessionUser(ck.Value)
}

// sessionUser returns the user of the live session id, and marks the
// session used.
func (h *Handler) sessionUser(id string) (*users.User, error) {
	ended := errors.New("the session has ended or never was; log in again")
	if id == "" {
		return nil, ended
	}
	ss, ok := h.sessions.Get(id)
	if !ok {
		return nil, ended
	}
	u, ok := h.users.ByID(ss.UserID)
	if !ok || u.Extension == "" {
		h.sessions.Delete(id)
		return nil, ended
	}
	return u, nil
}

// api runs an API call's common part: the method must be GET, and the
// caller is found; false when the reply has been sent.
func (h *Handler) api(w http.ResponseWriter, r *http.Request) (*users.User, bool) {
	if !allow(w, r, http.MethodGet) {
		return nil, false
	}
	u, err := h.caller(r)
	if err != nil {
		Fail(w, http.StatusUnauthorized, err.Error())
		return nil, false
	}
	return u, true
}

// me serves GET /api/extensions/me: the caller's extension.
func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	u, ok := h.api(w, r)
	if !ok {
		return
	}
	reply(w, http.StatusOK, h.extension(u))
}

// list serves GET /api/extensions/: every extension of the caller's domain.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	u, ok := h.api(w, r)
	if !ok {
		return
	}
	list := h.users.Extensions(u.Domain)
	out := make([]Extension, 0, len(list))
	for _, x := range list {
		out = append(out, h.extension(x))
	}
	reply(w, http.StatusOK, out)
}

// one serves GET /api/extensions/{extension}: that extension, if it is in
// the caller's domain.
func (h *Handler) one(w http.ResponseWriter, r *http.Request) {
	u, ok := h.api(w, r)
	if !ok {
		return
	}
	x, ok := h.users.ByExtension(r.PathValue("extension"))
	if !ok || x.Domain != u.Domain {
		Fail(w, http.StatusNotFound, "no such extension")
		return
	}
	reply(w, http.StatusOK, h.extension(x))
}

// allow answers 405 to a request of another method than method; false when
// it did.
func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method+", OPTIONS")
	Fail(w, http.StatusMethodNotAllowed, "use "+method+", not "+r.Method)
	return false
}

// Fail answers {"error": message} with status, the failure of Ping's
// paths. The server uses it for the Host and Origin checks in front of them.
func Fail(w http.ResponseWriter, status int, message string) {
	jsonreply.Fail(w, status, message)
}

func reply(w http.ResponseWriter, status int, v any) { jsonreply.Write(w, status, v) }
