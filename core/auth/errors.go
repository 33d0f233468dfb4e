package auth

import (
	"context"
	"errors"
)

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
	// CodeInternal: a fault of this module; the call failed, the client
	// keeps working.
	CodeInternal Code = "internal"
)

// Error is every failure of this package: a stable Code, a message a person can
// act on, and the underlying error if there is one.
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

func newError(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// CodeOf returns the Code of err, or "" if err is not from this package.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// transportError classifies a failed exchange: a deadline is a timeout,
// anything else a network failure.
func transportError(host string, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "the PBX at " + host + " did not answer in time; check that it is up and reachable, then try again", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeNetwork, Message: "the request to " + host + " was cancelled", Err: err}
	}
	return &Error{Code: CodeNetwork, Message: "cannot reach the PBX at " + host + "; check the host given to setHost and the network", Err: err}
}
