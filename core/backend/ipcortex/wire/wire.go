// Package wire is the IPCortex auth wire contract that the client and local server share.
//
// It holds the paths, the session cookie, the sub-ID qualifier and the JSON
// bodies. Both sides import it so that they cannot drift apart; what each
// field means is written down in web/PROTOCOL.md.
package wire

import "strings"

// Paths of the REST contract. Login and Logout are the vendor's; the others are
// ours, because the vendor documents the JS calls but not the requests behind them.
const (
	PathLogin    = "/rest/auth/"
	PathLogout   = "/rest/auth/logout"
	PathCleanup  = "/rest/auth/cleanup"
	PathCompany  = "/rest/auth/company"
	PathRTCReset = "/rest/auth/rtcreset"
)

// CookieName is the vendor's session cookie. It carries only the session made
// without a sub-ID; a session under a sub-ID travels in the Authorization
// header (SessionHeaderPrefix), so that however many sub-IDs a browser has
// used, a request carries at most one session credential.
const CookieName = "Red60urne"

// SubIDParam is the query parameter that qualifies a call with a sub-ID. A query
// parameter (not a header) because the WebSocket feed cannot set headers.
const SubIDParam = "subid"

// MaxSubIDLen bounds a sub-ID.
const MaxSubIDLen = 64

// ValidSubID reports whether s may be used as a sub-ID: 1 to 64 characters of
// A-Z, a-z, 0-9, '-' and '_', which are safe in a URL and a storage key.
func ValidSubID(s string) bool {
	if len(s) == 0 || len(s) > MaxSubIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeyHeaderPrefix starts the Authorization header value that carries an API key:
// "Authorization: token auth=KEY".
const KeyHeaderPrefix = "token auth="

// KeyFromHeader returns the API key of an Authorization header value, if it has one.
func KeyFromHeader(v string) (string, bool) {
	if !strings.HasPrefix(v, KeyHeaderPrefix) {
		return "", false
	}
	k := strings.TrimSpace(v[len(KeyHeaderPrefix):])
	return k, k != ""
}

// SessionHeaderPrefix starts the Authorization header value that carries a
// session id explicitly: "Authorization: session ID". The client sends it for
// a session it holds (one made under a sub-ID), in place of any cookie.
const SessionHeaderPrefix = "session "

// SessionFromHeader returns the session id of an Authorization header value,
// if it has one.
func SessionFromHeader(v string) (string, bool) {
	if !strings.HasPrefix(v, SessionHeaderPrefix) {
		return "", false
	}
	s := strings.TrimSpace(v[len(SessionHeaderPrefix):])
	return s, s != ""
}

// Request types: the "type" of the auth object.
const (
	TypeAuth     = "auth"
	TypeCleanup  = "cleanup"
	TypeCompany  = "company"
	TypeRTCReset = "rtcreset"
)

// Request is the body of every call: {"auth": {...}}.
type Request struct {
	Auth Auth `json:"auth"`
}

// Auth is the auth object of a request. Which fields count depends on Type.
type Auth struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Key      string `json:"key,omitempty"`
	Company  string `json:"company,omitempty"`
	GetNew   bool   `json:"getnew,omitempty"`
	// Token logs in with a token (a new session from it), or, in a logout,
	// names the token to revoke.
	Token string `json:"token,omitempty"`
	// NoToken: a login with username and password makes no token.
	NoToken bool `json:"notoken,omitempty"`
	// Application is the class of the token a login makes: "" (24 hours),
	// TokenRefreshable or TokenLongLogin.
	Application string `json:"application,omitempty"`
	// Origin binds the token a login makes (or checks the token a login
	// presents) to this application origin instead of the request's Origin.
	Origin string `json:"origin,omitempty"`
}

// Token classes: the "application" of a login.
const (
	TokenRefreshable = "refreshable" // alive while used at least once a day
	TokenLongLogin   = "longLogin"   // alive while used at least once a week
)

// Token is a login token in a reply: its value and when it expires unless
// used again (milliseconds since the Unix epoch, as JavaScript's Date).
type Token struct {
	Value   string `json:"value"`
	Expires int64  `json:"expires"`
}

// Results.
const (
	ResultSuccess = "success"
	ResultFail    = "fail"
)

// Response is the body of every reply.
type Response struct {
	Result string `json:"result"`
	User   *User  `json:"user,omitempty"`
	// Password is the new phone password of a rtcreset with getnew.
	Password string `json:"password,omitempty"`
	// Token is the token a login made or used, with its expiry now.
	Token *Token `json:"token,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// User is the logged-in user as the vendor documents it.
type User struct {
	ID      int64  `json:"id"`
	Login   string `json:"login"`
	Name    string `json:"name"`
	Company string `json:"company"`
	Home    string `json:"home"`
	// Session is the new session's id, in the reply of the login that made
	// it. Without a sub-ID it is also the cookie's value, which browsers keep
	// HttpOnly; under a sub-ID the client keeps it and sends it back in the
	// Authorization header. Never logged.
	Session string            `json:"session,omitempty"`
	Perms   map[string]string `json:"perms"`
}

// Error says why a call failed; it accompanies "result":"fail".
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes the server sends.
const (
	CodeBadRequest       = "bad_request"
	CodeAuthFailed       = "auth_failed"
	CodeLoginRequired    = "login_required"
	CodeForbidden        = "forbidden"
	CodeTooLarge         = "too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeOriginNotAllowed = "origin_not_allowed"
	CodeHostNotAllowed   = "host_not_allowed"
	CodeInternal         = "internal"
	// CodeRateLimited: too many failed logins (HTTP 429), or the server is
	// busy checking other logins (HTTP 503); the reply's Retry-After, and
	// its message, say how many seconds to wait before trying again.
	CodeRateLimited = "rate_limited"
)

// MaxBody bounds request and reply bodies; larger ones are refused on both sides.
const MaxBody = 64 << 10

// The live feed (web/PROTOCOL.md, "The live feed"): a WebSocket at FeedPath
// (with "?subid=S" under a sub-ID) of JSON text messages, each an object with
// a "type" (FeedAuth, FeedReady, FeedPing, FeedPong). The client's first
// message is FeedAuth, within FeedFirstMessageSeconds; the server answers
// FeedReady; then the client sends FeedPing every pingtime seconds and the
// server answers FeedPong. The close codes say why the server closed the feed.
const (
	FeedPath = "/rest/feed"

	FeedPingTimeDefault = 540 // seconds, when the auth message has no "pingtime"
	FeedPingTimeMin     = 10
	FeedPingTimeMax     = 999
	// FeedFirstMessageSeconds is how long the server waits for the auth message.
	FeedFirstMessageSeconds = 10
	// FeedSilenceGraceSeconds: after the auth, the server closes a feed that
	// has sent nothing for 2×pingtime plus this many seconds (a dead client).
	FeedSilenceGraceSeconds = 30

	// FeedBadRequest: the first message was missing, late, not an auth
	// message or had a pingtime out of range; or a message was not JSON; or
	// the client fell silent. Do not retry unchanged.
	FeedBadRequest = 4000
	// FeedLoggedOut: the session ended (logout, expiry, its token's death or
	// revocation, its user's deletion) or the auth message named no live
	// session of the feed's sub-ID. Log in again.
	FeedLoggedOut = 4001
	// FeedTooMany is the standard Policy Violation: the user opened more
	// feeds than the PBX allows, and this, the oldest, was closed for a
	// newer one. Do not reconnect: that would close the next oldest.
	FeedTooMany = 1008
	// FeedRestart is the standard Service Restart: the server is shutting
	// down. Reconnect.
	FeedRestart = 1012
)
