// Package backend is the seam between the client (core/auth) and the phone systems.
//
// The client keeps what every phone system shares (the call queue, sub-IDs,
// credentials, the user's properties and their refresh); a backend says how
// its system logs in, checks and ends a login, and what it can and cannot
// do. Each system is a package of its own beside this one (ipcortex, vodia,
// ping); the browser build links only what it uses, and none of them links
// net/http or encoding/json.
package backend

import (
	"context"
	"errors"
	"time"
)

// Backend is one phone system's half of the login contract. Every method
// gets the Target of the call: where it goes and what it carries.
type Backend interface {
	// Name is how setHost's backend option names it.
	Name() string
	// Supports reports whether the system can do what a feature names;
	// the client refuses the others with CodeBadOption.
	Supports(f Feature) bool
	// Login logs in with a username and password, or with a token (or
	// temporary id), and returns what the login made.
	Login(ctx context.Context, at Target, r LoginRequest) (*Login, error)
	// Check returns the user of the login the Target carries, or an Error
	// with CodeLoginRequired (or CodeAuthFailed) when there is none.
	Check(ctx context.Context, at Target) (*User, error)
	// Logout ends the login (and revokes token, where tokens exist). It
	// succeeds when there was none.
	Logout(ctx context.Context, at Target, token string) error
	// Cleanup, SetCompany and RTCReset are the IPCortex extras; a backend
	// that does not Support them is never asked.
	Cleanup(ctx context.Context, at Target) error
	SetCompany(ctx context.Context, at Target, company string) (*User, error)
	RTCReset(ctx context.Context, at Target, getNew bool) (string, error)
}

// Feature names what a backend may or may not do.
type Feature string

// The features.
const (
	FeaturePassword  Feature = "username and password"
	FeatureTokens    Feature = "tokens"       // login with a token or temporary id
	FeatureMakeToken Feature = "saved tokens" // logins make tokens with classes (Application, NoToken, OnTokens)
	FeatureCleanup   Feature = "exit's clean-up"
	FeatureCompany   Feature = "Client.SetCompany"
	FeatureRTCReset  Feature = "Client.RTCReset"
	FeatureFeed      Feature = "Client.StartFeed"
	FeatureOverlay   Feature = "the login overlay"
	FeatureAPIKey    Feature = "API keys"
)

// Unsupported is the error for a feature a backend cannot honour.
func Unsupported(b Backend, f Feature) *Error { return unsupported(b.Name(), f) }

func unsupported(name string, f Feature) *Error {
	return &Error{Code: CodeBadOption, Message: "the " + name + " backend cannot do " + string(f) + "; it is an IPCortex feature"}
}

// NoExtras gives a backend without IPCortex's extras (the clean-up,
// companies, the phone password) the methods that refuse them: embed it,
// named after the backend. The client never calls them for a backend that
// does not Support them; they answer anyway, should anything else.
type NoExtras struct{ System string }

// Cleanup is refused.
func (n NoExtras) Cleanup(context.Context, Target) error {
	return unsupported(n.System, FeatureCleanup)
}

// SetCompany is refused.
func (n NoExtras) SetCompany(context.Context, Target, string) (*User, error) {
	return nil, unsupported(n.System, FeatureCompany)
}

// RTCReset is refused.
func (n NoExtras) RTCReset(context.Context, Target, bool) (string, error) {
	return "", unsupported(n.System, FeatureRTCReset)
}

// Target is one call's destination and credential.
type Target struct {
	Host, SubID string
	Cred        Credential
	Transport   Transport
	Timeout     time.Duration
	// SelfTimed: the Transport keeps Timeout by itself (it was given
	// wrapped in SelfTimed), so Do starts no Go timer.
	SelfTimed bool
}

// Do performs one exchange under the Target's deadline and turns a failed
// one into an *Error (CodeTimeout or CodeNetwork) naming the host.
func (t Target) Do(ctx context.Context, req *Request) (*Response, error) {
	req.Timeout = t.Timeout
	if !t.SelfTimed {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	resp, err := t.Transport.Do(ctx, req)
	if err != nil {
		return nil, TransportError(t.Host, err)
	}
	if ctx.Err() != nil { // a transport that answered after the deadline
		return nil, TransportError(t.Host, ctx.Err())
	}
	return resp, nil
}

// Credential is what a call carries. Its zero value carries nothing
// explicitly: the transport's cookie may then carry a session.
type Credential struct {
	// Session is what a login made, opaque to the client: the backend that
	// made it reads it back (a session id, a bearer token).
	Session string
	// Key is an API key (IPCortex): in the header when KeyInHeader, else in
	// the body.
	Key         string
	KeyInHeader bool
}

// MaxSession bounds a session id that a PBX hands out.
const MaxSession = 1024

// ValidSession reports whether a session id that a PBX handed out can be
// carried back as it is, in an Authorization header: 1 to MaxSession bytes
// of visible ASCII (no spaces, control characters or line breaks). A
// backend refuses any other with CodeServer.
func ValidSession(s string) bool {
	if s == "" || len(s) > MaxSession {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// LoginRequest is a login with credentials or with a token.
type LoginRequest struct {
	Username, Password string
	Token              string // a token or temporary id, instead of the above
	NoToken            bool
	Application        string
	Origin             string
}

// Login is what a login made: the user, the credential later calls carry,
// and a token to keep for the next page load (nil where there is none).
type Login struct {
	User    *User
	Session string
	Token   *Token
}

// Token is a saved-login token and when it expires unless used.
type Token struct {
	Value   string
	Expires time.Time
}

// User is the logged-in user's properties, as every backend maps them.
type User struct {
	ID      int64
	Login   string
	Name    string
	Company string
	Home    string
	Perms   map[string]string
}

// Transport performs one HTTP exchange and must return when ctx ends.
// Request.Cookies says whether it may send and keep cookies.
type Transport interface {
	Do(ctx context.Context, req *Request) (*Response, error)
}

// Request is one HTTP request.
type Request struct {
	Method string
	URL    string
	// The two headers a call may carry, each sent only when set: no map,
	// whose code a page would compile for its first request.
	ContentType   string
	Authorization string
	Body          []byte
	// Cookies: send and keep cookies. False when the request carries its
	// credential explicitly, so that it carries exactly one.
	Cookies bool
	// Timeout is the exchange's deadline, which a SelfTimed transport
	// keeps itself; Target.Do sets it.
	Timeout time.Duration
}

// Header is one of a Request's headers.
type Header struct{ Name, Value string }

// Headers lists r's headers; a transport sends those whose Value is set.
func (r *Request) Headers() [2]Header {
	return [2]Header{{"Content-Type", r.ContentType}, {"Authorization", r.Authorization}}
}

// SelfTimed wraps a Transport that keeps Request.Timeout by itself,
// outside Go (the browser's fetch aborts on a JavaScript timer), and fails
// with an error wrapping context.DeadlineExceeded when it passes: its
// Targets start no Go timer, which a page would otherwise compile, with
// context's deadlines, before its first answer. It is a struct rather than
// an interface to assert, because a page's first assertion to an interface
// compiles the runtime's interface tables (nine functions, 13 KB).
type SelfTimed struct{ Transport }

// IsSelfTimed reports whether t was given wrapped in SelfTimed.
func IsSelfTimed(t Transport) bool {
	_, ok := t.(SelfTimed)
	return ok
}

// Response is one HTTP response. Transports may cut Body at MaxBody+1
// bytes; longer replies are refused anyway.
type Response struct {
	Status int
	Body   []byte
}

// MaxBody bounds replies.
const MaxBody = 64 << 10

// Code is a stable, machine-readable reason for a failure. Pages see it as the
// `code` of the rejected Error; it never changes meaning between releases.
type Code string

// The codes.
const (
	// CodeAuthFailed: the server refused the username and password or API key.
	CodeAuthFailed Code = "auth_failed"
	// CodeLoginRequired: there is no valid login and none could be made
	// without asking the user.
	CodeLoginRequired Code = "login_required"
	// CodeForbidden: logged in, but the user may not do this.
	CodeForbidden Code = "forbidden"
	// CodeNetwork: the server could not be reached.
	CodeNetwork Code = "network"
	// CodeTimeout: the server did not answer within the deadline.
	CodeTimeout Code = "timeout"
	// CodeServer: the server answered with an error or something that is not
	// the documented reply.
	CodeServer Code = "server"
	// CodeBadOption: the caller passed an option or argument that is not valid.
	CodeBadOption Code = "bad_option"
	// CodePopupClosed: the user closed the login overlay.
	CodePopupClosed Code = "popup_closed"
	// CodePopupBlocked: the login overlay could not be shown.
	CodePopupBlocked Code = "popup_blocked"
	// CodeRateLimited: the server refuses logins for a while, after too many
	// failed ones (for the user or from this address), or is too busy to
	// check one now; the message says how many seconds to wait before
	// trying again.
	CodeRateLimited Code = "rate_limited"
	// CodeInternal: a fault of this module; the call failed, the client
	// keeps working.
	CodeInternal Code = "internal"
)

// Error is every failure of the client and its backends: a stable Code, a
// message a person can act on, and the underlying error if there is one.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// NewError returns an *Error.
func NewError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// CodeOf returns the Code of err, or "" if err is not an *Error.
func CodeOf(err error) Code {
	if e, ok := err.(*Error); ok { // most are not wrapped: no chain to walk
		return e.Code
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return ""
}

// TransportError classifies a failed exchange: a deadline is a timeout,
// anything else a network failure.
func TransportError(host string, err error) *Error {
	if errors.Is(err, errReplyCut) {
		return &Error{Code: CodeNetwork, Message: "the connection to the PBX at " + host + " broke before its reply ended; try again", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "the PBX at " + host + " did not answer in time; check that it is up and reachable, then try again", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeNetwork, Message: "the request to " + host + " was cancelled", Err: err}
	}
	return &Error{Code: CodeNetwork, Message: "cannot reach the PBX at " + host + "; check the host given to Client.SetHost and the network", Err: err}
}

var errReplyCut = errors.New("the connection broke before the reply ended")

// ReplyCut marks err, from reading a reply's body, as a connection that
// broke after the reply began, so that TransportError says so rather than
// that the PBX cannot be reached.
func ReplyCut(err error) error { return replyCut{err} }

type replyCut struct{ err error }

func (e replyCut) Error() string   { return errReplyCut.Error() + ": " + e.err.Error() }
func (e replyCut) Unwrap() []error { return []error{errReplyCut, e.err} }
