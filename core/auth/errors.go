package auth

import "github.com/pbxauth/pbxauth/core/backend"

// Code is a stable, machine-readable reason for a failure. Pages see it as the
// `code` of the rejected Error; it never changes meaning between releases.
// The codes and the Error type are the backends' (core/backend), so that a
// failure reads the same whichever phone system it came from.
type Code = backend.Code

// The codes.
const (
	CodeAuthFailed    = backend.CodeAuthFailed
	CodeLoginRequired = backend.CodeLoginRequired
	CodeForbidden     = backend.CodeForbidden
	CodeNetwork       = backend.CodeNetwork
	CodeTimeout       = backend.CodeTimeout
	CodeServer        = backend.CodeServer
	CodeBadOption     = backend.CodeBadOption
	CodePopupClosed   = backend.CodePopupClosed
	CodePopupBlocked  = backend.CodePopupBlocked
	CodeRateLimited   = backend.CodeRateLimited
	CodeInternal      = backend.CodeInternal
)

// Error is every failure of this package: a stable Code, a message a person
// can act on, and the underlying error if there is one.
type Error = backend.Error

func newError(code Code, msg string) *Error { return backend.NewError(code, msg) }

// CodeOf returns the Code of err, or "" if err is not an *Error.
func CodeOf(err error) Code { return backend.CodeOf(err) }
