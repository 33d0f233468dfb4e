package auth_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/native"
)

// faultClient returns a client for a server that misbehaves as h does, with a
// short deadline so that slow replies end promptly.
func faultClient(t *testing.T, h http.HandlerFunc) *auth.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: srv.URL, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	return c
}

func TestFaultsEndInTheRightCode(t *testing.T) {
	cases := []struct {
		name string
		h    http.HandlerFunc
		code auth.Code
		msg  string
	}{
		{"500 with html", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte("<html>oops</html>"))
		}, auth.CodeServer, "HTTP 500"},
		{"500 with fail json", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"result":"fail","error":{"code":"internal","message":"db down"}}`))
		}, auth.CodeServer, "db down"},
		{"not json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("hello, I am a web server"))
		}, auth.CodeServer, "not the documented JSON"},
		{"truncated body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "200")
			_, _ = w.Write([]byte(`{"result":"success","user":{"id":1`))
		}, auth.CodeNetwork, "broke before its reply ended"},
		{"truncated json", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"success","user":{"id":1`))
		}, auth.CodeServer, "not the documented JSON"},
		{"wrong types", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"success","user":{"id":"one","login":5}}`))
		}, auth.CodeServer, "not the documented JSON"},
		{"json array", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`[1,2,3]`))
		}, auth.CodeServer, "not the documented JSON"},
		{"success without user", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"success"}`))
		}, auth.CodeServer, "no user"},
		{"unknown result", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"maybe"}`))
		}, auth.CodeServer, "unexpected reply"},
		{"success with 404", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"result":"success","user":{"id":1}}`))
		}, auth.CodeServer, "HTTP 404"},
		{"bare vendor fail", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"fail"}`))
		}, auth.CodeAuthFailed, "refused the login"},
		{"oversized", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"result":"success","x":"` + strings.Repeat("a", 1<<20) + `"}`))
		}, auth.CodeServer, "oversized"},
		{"hostile long message", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"result":"fail","error":{"code":"bad_request","message":"` + strings.Repeat("é", 5000) + `"}}`))
		}, auth.CodeServer, "…"},
		{"slower than the deadline", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
			}
		}, auth.CodeTimeout, "did not answer in time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := faultClient(t, c.h)
			start := time.Now()
			err := cl.Login(context.Background(), auth.Options{Username: "alice", Password: "x"})
			require.Error(t, err)
			assert.Equal(t, c.code, auth.CodeOf(err), err.Error())
			assert.Contains(t, err.Error(), c.msg)
			assert.Less(t, len(err.Error()), 2000, "messages from the server are clipped")
			assert.Less(t, time.Since(start), 3*time.Second, "each fault ends promptly")
			assert.Nil(t, cl.User())
		})
	}
}

func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: "http://" + addr})
	require.NoError(t, err)
	err = c.Login(context.Background(), auth.Options{CheckOnly: true})
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err))
	assert.Contains(t, err.Error(), addr)
	var ae *auth.Error
	require.ErrorAs(t, err, &ae)
	assert.NotNil(t, ae.Unwrap(), "the cause is kept")
}

func TestCallerCancel(t *testing.T) {
	cl := faultClient(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := cl.Logout(ctx)
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err))
	assert.Contains(t, err.Error(), "cancelled")
}

// lateTransport answers only after the deadline has passed, as a transport
// that ignores its context would.
type lateTransport struct{}

func (lateTransport) Do(ctx context.Context, _ *auth.Request) (*auth.Response, error) {
	<-ctx.Done()
	return &auth.Response{Status: 200, Body: []byte(`{"result":"success","user":{"id":1}}`)}, nil
}

func TestLateAnswerIsATimeout(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: lateTransport{}, Host: "https://pbx.example.com", Timeout: 10 * time.Millisecond})
	require.NoError(t, err)
	err = c.Login(context.Background(), auth.Options{CheckOnly: true})
	assert.Equal(t, auth.CodeTimeout, auth.CodeOf(err))
	assert.Nil(t, c.User())
}

// deadlineSeen records whether each request's context had a deadline, and
// the Timeout it carried.
type deadlineSeen struct {
	deadline []bool
	timeout  []time.Duration
}

func (d *deadlineSeen) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	_, ok := ctx.Deadline()
	d.deadline = append(d.deadline, ok)
	d.timeout = append(d.timeout, req.Timeout)
	return &auth.Response{Status: 401, Body: []byte(`{"result":"fail","message":"not logged in"}`)}, nil
}

// TestASelfTimedTransportGetsNoGoDeadline: a transport given wrapped in
// backend.SelfTimed keeps the deadline itself (the request carries it) and
// its context has none, also when Debug wraps it; any other gets both.
func TestASelfTimedTransportGetsNoGoDeadline(t *testing.T) {
	for _, self := range []bool{false, true} {
		for _, debug := range []bool{false, true} {
			tr := &deadlineSeen{}
			cfg := auth.Config{Transport: tr, Host: "https://pbx.example.com", Timeout: 3 * time.Second}
			if self {
				cfg.Transport = backend.SelfTimed{Transport: tr}
			}
			if debug {
				cfg.Debug = func(string) {}
			}
			c, err := auth.New(cfg)
			require.NoError(t, err)
			err = c.Login(context.Background(), auth.Options{CheckOnly: true})
			require.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "%v", err)
			require.Len(t, tr.deadline, 1)
			assert.Equal(t, !self, tr.deadline[0], "a Go deadline only when not self-timed (self-timed %v, debug %v)", self, debug)
			assert.Equal(t, 3*time.Second, tr.timeout[0], "the request carries the deadline (self-timed %v, debug %v)", self, debug)
		}
	}
}
