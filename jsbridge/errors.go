//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/feed"
)

// TypeError reports an argument of the wrong JavaScript type; pages see a
// TypeError with code bad_option.
type TypeError struct{ Message string }

func (e *TypeError) Error() string { return e.Message }

func typeErrorf(method, msg string) *TypeError {
	return &TypeError{Message: "IPCortex.PBX.Auth." + method + ": " + msg}
}

// JSError converts a Go error into a JS Error (TypeError for wrong argument
// types) whose `code` is the stable code of the failure.
func JSError(err error) safejs.Value {
	ctor, code := "Error", string(auth.CodeOf(err))
	errno := 0
	if e, ok := err.(*auth.Error); ok && e.Err == nil { // wraps nothing: no chain to walk
		return newJSError(ctor, e.Message, string(e.Code), 0)
	}
	fe, isFeed := as[*feed.Error](err)
	switch {
	case isFeed:
		errno, code = fe.Errno, feedCode(fe.Errno)
	case isType[*TypeError](err):
		ctor, code = "TypeError", string(auth.CodeBadOption)
	case isType[*internalError](err):
		code = string(auth.CodeInternal)
	case code == "":
		code = string(auth.CodeInternal)
	}
	return newJSError(ctor, err.Error(), code, errno)
}

// newJSError makes the JS Error (or TypeError) with the message in the
// JavaScript API's words, its code and, for the feed's, its errno.
func newJSError(ctor, msg, code string, errno int) safejs.Value {
	e, jerr := mustGet(global, ctor).New(jsWords(msg))
	if jerr != nil {
		return safejs.Undefined()
	}
	_ = e.Set("code", code)
	if errno != 0 {
		_ = e.Set("errno", errno)
	}
	return e
}

// feedCode is the code of a feed's errno: the stable codes pages already
// handle, beside the vendor's number in errno.
func feedCode(errno int) string {
	switch errno {
	case feed.ErrLoggedOut, feed.ErrNotReady:
		return string(auth.CodeLoginRequired)
	case feed.ErrOpen, feed.ErrRunning:
		return string(auth.CodeNetwork)
	case feed.ErrVersion:
		return string(auth.CodeServer)
	}
	return string(auth.CodeInternal)
}

// isType reports whether err's chain holds an E. errors.AsType, unlike
// errors.As, needs no reflection, which the module would compile at its
// first error.
func isType[E error](err error) bool {
	_, ok := as[E](err)
	return ok
}

// as is errors.AsType that first tries err itself, as most errors are not
// wrapped: the chain's walk (dynamic interface checks) is then never run,
// nor compiled by the page.
func as[E error](err error) (E, bool) {
	if e, ok := err.(E); ok {
		return e, true
	}
	return errors.AsType[E](err)
}
