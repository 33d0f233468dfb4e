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
// Cache-Control: no-store keeps replies out of the HTTP cache.
type Fetch struct{}

// Do performs one exchange.
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
	headers := map[string]any{}
	for k, v := range req.Header {
		headers[k] = v
	}
	credentials := "omit"
	if req.Cookies {
		credentials = "include"
	}
	fields := map[string]any{
		"method":      req.Method,
		"headers":     headers,
		"credentials": credentials,
		"mode":        "cors",
		"redirect":    "error",
	}
	if len(req.Body) > 0 { // a GET may carry none
		fields["body"] = string(req.Body)
	}
	init, err := safejs.ValueOf(fields)
	if err != nil {
		return nil, err
	}
	if err := init.Set("signal", signal); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _, _ = controller.Call("abort") })
	defer stop()

	p, err := global.Call("fetch", req.URL, init)
	if err != nil {
		return nil, err
	}
	resp, err := Await(ctx, p)
	if err != nil {
		return nil, fetchError(ctx, err)
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
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, backend.ReplyCut(err)
	}
	body, err := copyBytes(buf, wire.MaxBody+1)
	if err != nil {
		return nil, err
	}
	return &auth.Response{Status: status, Body: body}, nil
}

// fetchError prefers the context's reason: an aborted fetch rejects with an
// AbortError, but what happened is the deadline.
func fetchError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if je, ok := errors.AsType[*JSException](err); ok && je.Name == "TypeError" {
		return errors.New("fetch failed (the PBX is down, refused the connection, redirected, or does not allow this page's origin): " + je.Message)
	}
	return err
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
