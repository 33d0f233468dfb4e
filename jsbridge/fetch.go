//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// Fetch is the core's Transport over the browser's fetch: cookies are
// included only when the request asks for them (the HttpOnly session cookie
// of the login without a sub-ID), omitted when it carries its credential
// explicitly; the context's end aborts the request; redirects are refused, so
// a body with a password is never re-sent to a host the page did not choose.
// The default cache mode keeps Chromium's preflight cache working (no-store
// or no-cache would cost an OPTIONS round trip per call); the server's
// Cache-Control: no-store keeps replies out of the HTTP cache. The
// deadline is a JavaScript timer that aborts the fetch, so that the page
// compiles no Go timer for it: give it wrapped in backend.SelfTimed.
type Fetch struct{}

// Do performs one exchange. It has no defers (with its many returns they
// would not be open-coded, and the page would compile the runtime's defer
// machinery at its first request); exchange does the work, Do the cleanup.
func (Fetch) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	controller, err := mustGet(global, "AbortController").New()
	if err != nil {
		return nil, err
	}
	signal, err := controller.Get("signal")
	if err != nil {
		return nil, err
	}
	stop := func() bool { return false }
	if ctx.Done() != nil { // context.Background's never ends: nothing to watch
		stop = context.AfterFunc(ctx, func() { _, _ = controller.Call("abort") })
	}
	timer := safejs.Undefined()
	if req.Timeout > 0 {
		// setTimeout(controller.abort.bind(controller), ms): no Go callback.
		if abort, err := mustGet(controller, "abort").Call("bind", controller); err == nil {
			timer, err = global.Call("setTimeout", abort, req.Timeout.Milliseconds())
		}
		if timer.IsUndefined() {
			stop()
			return nil, errors.New("cannot set the request's deadline: setTimeout failed")
		}
	}
	resp, err := exchange(ctx, req, signal)
	stop()
	if !timer.IsUndefined() {
		_, _ = global.Call("clearTimeout", timer)
	}
	return resp, err
}

// exchange fetches req under signal and reads the whole reply.
func exchange(ctx context.Context, req *auth.Request, signal safejs.Value) (*auth.Response, error) {
	init := newObject()
	headers := newObject()
	for _, h := range req.Headers() {
		if h.Value == "" {
			continue
		}
		if err := headers.Set(h.Name, h.Value); err != nil {
			return nil, err
		}
	}
	credentials := "omit"
	if req.Cookies {
		credentials = "include"
	}
	for _, f := range [...]struct{ k, v string }{
		{"method", req.Method}, {"credentials", credentials}, {"mode", "cors"}, {"redirect", "error"},
	} {
		if err := init.Set(f.k, f.v); err != nil {
			return nil, err
		}
	}
	if err := init.Set("headers", headers); err != nil {
		return nil, err
	}
	if len(req.Body) > 0 { // a GET may carry none
		if err := init.Set("body", string(req.Body)); err != nil {
			return nil, err
		}
	}
	if err := init.Set("signal", signal); err != nil {
		return nil, err
	}
	p, err := global.Call("fetch", req.URL, init)
	if err != nil {
		return nil, err
	}
	resp, err := Await(ctx, p)
	if err != nil {
		return nil, fetchError(ctx, signal, err)
	}
	status, err := mustGet(resp, "status").Int()
	if err != nil {
		return nil, err
	}
	bufP, err := resp.Call("arrayBuffer")
	if err != nil {
		return nil, err
	}
	buf, err := Await(ctx, bufP)
	if err != nil {
		if err := aborted(ctx, signal); err != nil {
			return nil, err
		}
		return nil, backend.ReplyCut(err)
	}
	body, err := copyBytes(buf, wire.MaxBody+1)
	if err != nil {
		return nil, err
	}
	return &auth.Response{Status: status, Body: body}, nil
}

// fetchError prefers the reason of an abort: an aborted fetch rejects with an
// AbortError, but what happened is the deadline or the caller's cancel.
func fetchError(ctx context.Context, signal safejs.Value, err error) error {
	if err := aborted(ctx, signal); err != nil {
		return err
	}
	if je, ok := errors.AsType[*JSException](err); ok && je.Name == "TypeError" {
		return errors.New("fetch failed (the PBX is down, refused the connection, redirected, or does not allow this page's origin): " + je.Message)
	}
	return err
}

// aborted is why the fetch was aborted, or nil: the context's end, or else
// (the signal aborted, but not by the context) the deadline.
func aborted(ctx context.Context, signal safejs.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if yes, err := mustGet(signal, "aborted").Bool(); err == nil && yes {
		return context.DeadlineExceeded
	}
	return nil
}

// copyBytes copies at most max bytes of an ArrayBuffer into Go.
func copyBytes(buf safejs.Value, max int) ([]byte, error) {
	u8, err := jsUint8Arr.New(buf)
	if err != nil {
		return nil, err
	}
	n, err := u8.Length()
	if err != nil {
		return nil, err
	}
	if n > max {
		if u8, err = u8.Call("subarray", 0, max); err != nil {
			return nil, err
		}
		n = max
	}
	out := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(out, u8); err != nil {
		return nil, err
	}
	return out, nil
}
