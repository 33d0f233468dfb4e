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
	var te *TypeError
	var ie *internalError
	var fe *feed.Error
	errno := 0
	switch {
	case errors.As(err, &fe):
		errno, code = fe.Errno, feedCode(fe.Errno)
	case errors.As(err, &te):
		ctor, code = "TypeError", string(auth.CodeBadOption)
	case errors.As(err, &ie):
		code = string(auth.CodeInternal)
	case code == "":
		code = string(auth.CodeInternal)
	}
	e, jerr := mustGet(global, ctor).New(jsWords(err.Error()))
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
