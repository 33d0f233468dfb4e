package fault_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/pbx"
)

// Nothing here is timed: waitBound only turns a hang into a failure.
const waitBound = time.Minute

// counter is the PBX stand-in: it counts the requests that reach it and
// answers a REST success, or opens a WebSocket at the feed's path.
type counter struct{ n atomic.Int64 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	if r.URL.Path == wire.FeedPath {
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			if _, _, err := conn.Read(r.Context()); err != nil {
				return
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"result":"success"}`)
}

// start serves an Injector in front of next.
func start(t *testing.T, next http.Handler) (*fault.Injector, *httptest.Server) {
	t.Helper()
	in := fault.New(next)
	srv := httptest.NewServer(in)
	t.Cleanup(func() {
		in.Set(fault.Off)
		srv.Close()
	})
	return in, srv
}

// client is an HTTP client with no keep-alive, so that a reset of one
// request does not touch the next, and with a bound against hangs.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitBound}
}

func postJSON(t *testing.T, url, origin, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return client().Do(req)
}

func TestModeNames(t *testing.T) {
	for _, m := range []fault.Mode{fault.Off, fault.Status500, fault.Reset, fault.Truncate, fault.NotJSON,
		fault.Oversized, fault.DropFeed, fault.Latency(1500 * time.Millisecond)} {
		got, err := fault.ParseMode(m.String())
		require.NoError(t, err, m.String())
		assert.Equal(t, m, got, m.String())
		got, err = fault.ParseMode(" " + strings.ToUpper(m.String()) + " ")
		require.NoError(t, err, m.String())
		assert.Equal(t, m, got, "names are read in any case")
	}
	assert.Equal(t, "latency=2s", fault.Latency(2*time.Second).String())
	assert.Equal(t, 2*time.Second, fault.Latency(2*time.Second).Delay())
	assert.Equal(t, fault.Off, fault.Latency(0), "no latency is no fault")
	assert.Equal(t, fault.Off, fault.Mode{}, "the zero mode is Off")
	for _, bad := range []string{"", "on", "latency=", "latency=0s", "latency=-1s", "latency=fast", "501"} {
		_, err := fault.ParseMode(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestAPIPath(t *testing.T) {
	for path, api := range map[string]bool{
		wire.PathLogin: true, wire.PathLogout: true, wire.PathCompany: true, wire.FeedPath: true,
		"/rest/system/session": true, "/auth/login": true, "/api/extensions/me": true,
		"/": false, "/api/api.js": false, "/api/pbxauth.wasm": false, "/api/login.html": false, fault.Path: false, "/test/clock": false,
	} {
		assert.Equal(t, api, fault.APIPath(path), path)
	}
}

// TestOffFaultsNothing: an Injector that was never switched on, or was
// switched off, passes every request through.
func TestOffFaultsNothing(t *testing.T) {
	next := &counter{}
	in, srv := start(t, next)
	call := func() {
		t.Helper()
		resp, err := postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.JSONEq(t, `{"result":"success"}`, string(body))
	}
	call() // never switched on
	in.Set(fault.Status500)
	in.Set(fault.Off)
	call() // switched off
	assert.Equal(t, int64(2), next.n.Load())
	assert.Zero(t, in.Faulted())
}

// TestOnlyTheAPIIsFaulted: the files and the preflights pass through
// whatever the mode.
func TestOnlyTheAPIIsFaulted(t *testing.T) {
	next := &counter{}
	in, srv := start(t, next)
	in.Set(fault.Reset)
	resp, err := client().Get(srv.URL + "/api/api.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int64(1), next.n.Load(), "a file passes through")

	req, err := http.NewRequest(http.MethodOptions, srv.URL+wire.PathLogin, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, int64(2), next.n.Load(), "a preflight passes through")

	_, err = postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	assert.Error(t, err, "an API call is reset")
	assert.Equal(t, int64(2), next.n.Load(), "a faulted call never reaches the PBX")
	assert.Equal(t, int64(1), in.Faulted())
}

// TestReplies: what each fault of the REST calls sends, on the wire.
func TestReplies(t *testing.T) {
	next := &counter{}
	in, srv := start(t, next)

	in.Set(fault.Status500)
	resp, err := postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.False(t, json.Valid(body), "a failing server's page, not the PBX's JSON: %q", body)

	in.Set(fault.NotJSON)
	resp, err = postJSON(t, srv.URL+wire.PathLogout, "", `{}`)
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	assert.False(t, json.Valid(body))

	in.Set(fault.Oversized)
	resp, err = postJSON(t, srv.URL+wire.PathCompany, "", `{}`)
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, body, fault.OversizedBytes)
	assert.Greater(t, len(body), wire.MaxBody)
	assert.True(t, json.Valid(body), "well-formed, only too large")

	in.Set(fault.Truncate)
	resp, err = postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	require.NoError(t, err)
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body ends before its Content-Length")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Less(t, int64(len(body)), resp.ContentLength)
	assert.NotEmpty(t, body)

	in.Set(fault.Reset)
	_, err = postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	assert.Error(t, err, "no reply")

	assert.Zero(t, next.n.Load(), "no faulted request reached the PBX")
	assert.Equal(t, int64(5), in.Faulted())
}

// TestFaultedRepliesCarryThePBXsCORSHeaders: a page the PBX trusts can read
// a faulted reply, as it could the PBX's own; a page it does not trust
// cannot; a Go client gets no CORS headers.
func TestFaultedRepliesCarryThePBXsCORSHeaders(t *testing.T) {
	in, srv := start(t, pbx.New(pbx.Config{}))
	for _, m := range []fault.Mode{fault.Status500, fault.NotJSON, fault.Oversized} {
		in.Set(m)
		for origin, want := range map[string]string{
			"http://localhost:3000":    "http://localhost:3000",
			"https://evil.example.com": "",
			"":                         "",
		} {
			resp, err := postJSON(t, srv.URL+wire.PathLogin, origin, `{"auth":{"type":"auth"}}`)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, want, resp.Header.Get("Access-Control-Allow-Origin"), "%s, page %q", m, origin)
			if want != "" {
				assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"), "%s, page %q", m, origin)
			}
			assert.Empty(t, resp.Header.Get("Set-Cookie"))
		}
	}
}

// TestLatency: a short latency delays and passes on; a client that gives up
// first never reaches the PBX; a change of mode answers the requests waiting
// without passing them on.
func TestLatency(t *testing.T) {
	next := &counter{}
	in, srv := start(t, next)

	in.Set(fault.Latency(20 * time.Millisecond))
	resp, err := postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int64(1), next.n.Load(), "passed on after the wait")

	in.Set(fault.Latency(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+wire.PathLogin, strings.NewReader(`{}`))
	require.NoError(t, err)
	_, err = client().Do(req)
	cancel()
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A request still waiting when the mode changes is answered 503.
	type result struct {
		status int
		err    error
	}
	results := make(chan result, 1)
	go func() {
		resp, err := postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
		if err != nil {
			results <- result{err: err}
			return
		}
		resp.Body.Close()
		results <- result{status: resp.StatusCode}
	}()
	deadline := time.Now().Add(waitBound)
	for in.Faulted() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, int64(3), in.Faulted(), "the third request is waiting")
	in.Set(fault.Off)
	select {
	case r := <-results:
		require.NoError(t, r.err)
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "answered when the mode changed")
	case <-time.After(waitBound):
		t.Fatal("a request waiting out a latency was not answered when the mode changed")
	}
	assert.Equal(t, int64(1), next.n.Load(), "neither the request whose client gave up nor the one waiting when the mode changed reached the PBX")
}

// TestDropFeed: the open feeds are cut, new ones cannot open, the REST calls
// pass; once off, feeds open again.
func TestDropFeed(t *testing.T) {
	next := &counter{}
	in, srv := start(t, next)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http") + wire.FeedPath

	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	in.Set(fault.DropFeed)
	_, _, err = conn.Read(ctx)
	require.Error(t, err)
	var ce websocket.CloseError
	assert.False(t, errors.As(err, &ce), "cut without a close frame: %v", err)
	assert.NoError(t, ctx.Err(), "the read ended because the connection was cut")

	_, _, err = websocket.Dial(ctx, wsURL, nil)
	assert.Error(t, err, "a feed cannot open")
	resp, err := postJSON(t, srv.URL+wire.PathLogin, "", `{}`)
	require.NoError(t, err, "the REST calls pass")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int64(2), in.Faulted(), "one feed cut, one refused")

	in.Set(fault.Off)
	conn2, _, err := websocket.Dial(ctx, wsURL, nil)
	require.NoError(t, err, "feeds open again")
	conn2.Close(websocket.StatusNormalClosure, "")
}

// TestFaultsOfTheRESTCallsLeaveTheFeedAlone: a 500 mode neither cuts a feed
// nor stops one opening.
func TestFaultsOfTheRESTCallsLeaveTheFeedAlone(t *testing.T) {
	in, srv := start(t, &counter{})
	in.Set(fault.Reset)
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+wire.FeedPath, nil)
	require.NoError(t, err)
	conn.Close(websocket.StatusNormalClosure, "")
	assert.Zero(t, in.Faulted())
}

// TestSwitch: POST /test/fault switches, GET reads; only from loopback host
// names and from no page or the server's own.
func TestSwitch(t *testing.T) {
	in, srv := start(t, &counter{})
	do := func(method, host, origin, contentType, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+fault.Path, strings.NewReader(body))
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var v map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
		return resp.StatusCode, v
	}
	status, v := do(http.MethodPost, "", "", "application/json", `{"mode": "latency=2s"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "latency=2s", v["mode"])
	assert.Equal(t, fault.Latency(2*time.Second), in.Mode())

	status, v = do(http.MethodGet, "", "", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "latency=2s", v["mode"])
	assert.EqualValues(t, 0, v["faulted"])

	status, _ = do(http.MethodPost, "", srv.URL, "application/json", `{"mode": "500"}`)
	assert.Equal(t, http.StatusOK, status, "a page of the server's own origin")
	assert.Equal(t, fault.Status500, in.Mode())

	for _, c := range []struct {
		name                              string
		method, host, origin, ctype, body string
		status                            int
	}{
		{"unknown mode", http.MethodPost, "", "", "application/json", `{"mode": "sometimes"}`, http.StatusBadRequest},
		{"unknown field", http.MethodPost, "", "", "application/json", `{"mode": "off", "x": 1}`, http.StatusBadRequest},
		{"two objects", http.MethodPost, "", "", "application/json", `{"mode": "off"} {}`, http.StatusBadRequest},
		{"not JSON", http.MethodPost, "", "", "text/plain", `{"mode": "off"}`, http.StatusUnsupportedMediaType},
		{"PUT", http.MethodPut, "", "", "application/json", `{"mode": "off"}`, http.StatusMethodNotAllowed},
		{"another site's page", http.MethodPost, "", "http://localhost:3000", "application/json", `{"mode": "off"}`, http.StatusForbidden},
		{"not a loopback name (DNS rebinding)", http.MethodPost, "pbx.example.com:8080", "http://pbx.example.com:8080", "application/json", `{"mode": "off"}`, http.StatusForbidden},
	} {
		status, v := do(c.method, c.host, c.origin, c.ctype, c.body)
		assert.Equal(t, c.status, status, c.name)
		assert.Equal(t, "fail", v["result"], c.name)
		assert.Equal(t, fault.Status500, in.Mode(), "%s: the mode did not change", c.name)
	}
	status, _ = do(http.MethodPost, "localhost", "", "application/json", `{"mode": "off"}`)
	assert.Equal(t, http.StatusOK, status, "localhost is loopback")
	assert.Equal(t, fault.Off, in.Mode())
}

// TestLogger: a faulted request is logged, without its query (which may
// carry a sub-ID).
func TestLogger(t *testing.T) {
	in := fault.New(&counter{})
	out := &servertest.LogBuffer{}
	in.Logger = out.Logger()
	srv := httptest.NewServer(in)
	defer srv.Close()
	in.Set(fault.Status500)
	resp, err := postJSON(t, srv.URL+wire.PathLogin+"?subid=secret-sub", "", `{}`)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Contains(t, out.String(), "fault: now 500\n")
	assert.Contains(t, out.String(), "fault 500: POST /rest/auth/\n")
	assert.NotContains(t, out.String(), "secret-sub")
}
