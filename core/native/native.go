//go:build !js

// Package native runs the auth core in an ordinary Go program.
//
// It gives the core a Transport on net/http with a cookie jar (the session
// cookie lives there), and crypto/rand for sub-IDs. It is built for every
// platform but js (the browser talks through fetch, jsbridge), so the
// browser build never links net/http.
package native

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
)

// Transport is an auth.Transport over an *http.Client. Its cookie jar keeps
// the session made without a sub-ID; requests that carry their credential
// explicitly (Request.Cookies false) neither send nor keep cookies.
type Transport struct {
	HTTP *http.Client
}

// NewTransport returns a Transport with its own cookie jar that refuses
// redirects: following one would re-send a body with a password to a host
// the caller did not choose.
func NewTransport() *Transport {
	jar, _ := cookiejar.New(nil) // New never fails with nil options
	return &Transport{HTTP: &http.Client{Jar: jar, CheckRedirect: refuseRedirect}}
}

func refuseRedirect(req *http.Request, _ []*http.Request) error {
	return errors.New("the PBX redirected to " + req.URL.Redacted() + "; refusing to follow (set the final address with Client.SetHost)")
}

// Do sends req and reads at most wire.MaxBody+1 bytes of the reply; the caller
// refuses anything longer. It returns when ctx ends.
func (t *Transport) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	r, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	for _, h := range req.Headers() {
		if h.Value != "" {
			r.Header.Set(h.Name, h.Value)
		}
	}
	hc := t.HTTP
	if !req.Cookies && hc.Jar != nil {
		noJar := *hc
		noJar.Jar = nil
		hc = &noJar
	}
	resp, err := hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, backend.ReplyCut(err)
	}
	return &auth.Response{Status: resp.StatusCode, Body: body}, nil
}

// Random fills b from crypto/rand.
func Random(b []byte) error {
	_, err := rand.Read(b)
	return err
}

// NewClient returns an auth.Client for host (IPCortex; SetHostFor picks Vodia or Ping) with a fresh cookie jar, memory
// storage, the system clock, crypto/rand and the live feed over WebSockets
// (sharing the jar): what a Go program needs.
func NewClient(host string) (*auth.Client, error) {
	t := NewTransport()
	return auth.New(auth.Config{Transport: t, Dialer: &WebSockets{HTTP: t.HTTP}, Host: host, Random: Random,
		Backends: []backend.Backend{ipcortex.New(), vodia.New(), ping.New()}})
}
