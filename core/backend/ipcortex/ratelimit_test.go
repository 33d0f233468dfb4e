package ipcortex_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// httpTransport is a plain net/http transport, without cookies.
type httpTransport struct{ c *http.Client }

func (t httpTransport) Do(ctx context.Context, req *backend.Request) (*backend.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	for _, h := range req.Headers() {
		if h.Value != "" {
			hr.Header.Set(h.Name, h.Value)
		}
	}
	resp, err := t.c.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, backend.MaxBody+1))
	return &backend.Response{Status: resp.StatusCode, Body: body}, err
}

// TestRateLimitedLogin: the local server's 429, after too many failed
// logins, is CodeRateLimited, with the server's words on how long to wait.
func TestRateLimitedLogin(t *testing.T) {
	users.HashCost = bcrypt.MinCost
	clock := testclock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) // no time passes unless the test says so
	srv := httptest.NewServer(pbx.New(pbx.Config{
		Users:  users.NewDirectory(users.Demo()),
		Now:    clock.Now,
		Limits: pbx.Limits{UserFailures: pbx.FailurePolicy{Free: 1, First: 30 * time.Second, Max: time.Minute, Forget: time.Hour}},
	}))
	t.Cleanup(srv.Close)
	at := backend.Target{Host: srv.URL, Transport: httpTransport{srv.Client()}, Timeout: 10 * time.Second}
	b := ipcortex.New()
	for range 2 {
		_, err := b.Login(context.Background(), at, backend.LoginRequest{Username: "alice", Password: "wrong"})
		require.Equal(t, backend.CodeAuthFailed, backend.CodeOf(err), "%v", err)
	}
	_, err := b.Login(context.Background(), at, backend.LoginRequest{Username: "alice", Password: "wonderland"})
	assert.Equal(t, backend.CodeRateLimited, backend.CodeOf(err), "%v", err)
	assert.EqualError(t, err, `too many failed logins as "alice"; wait 30 seconds, then try again`)
}

// TestRateLimitedWithoutTheContract: a 429 from something in front of the
// PBX (a proxy), without the documented JSON, is CodeRateLimited too.
func TestRateLimitedWithoutTheContract(t *testing.T) {
	for name, body := range map[string]string{
		"plain text":        "slow down",
		"fail without code": `{"result":"fail"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, body)
			}))
			t.Cleanup(srv.Close)
			at := backend.Target{Host: srv.URL, Transport: httpTransport{srv.Client()}, Timeout: 10 * time.Second}
			_, err := ipcortex.New().Login(context.Background(), at, backend.LoginRequest{Username: "alice", Password: "x"})
			assert.Equal(t, backend.CodeRateLimited, backend.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), "wait")
		})
	}
}
