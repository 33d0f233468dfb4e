package auth_test

// Tests of the client's configuration, hosts, sub-ID storage and errors. Those
// that need a server use the real one (integration_test.go).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
)

// ---- New and hosts ----

func TestNewNeedsATransport(t *testing.T) {
	c, err := auth.New(auth.Config{Host: "https://pbx.example.com"})
	assert.Nil(t, c)
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
	assert.Contains(t, err.Error(), "Transport")
}

func TestNewRefusesBadHosts(t *testing.T) {
	cases := []struct {
		name string
		cfg  auth.Config
	}{
		{"host with a path", auth.Config{Host: "https://pbx.example.com/rest"}},
		{"host with a bad scheme", auth.Config{Host: "ftp://pbx.example.com"}},
		{"host with a user", auth.Config{Host: "https://u@pbx.example.com"}},
		{"host with a bad port", auth.Config{Host: "pbx.example.com:0"}},
		{"host that is blank", auth.Config{Host: "   "}},
		{"ws host with https", auth.Config{Host: "https://pbx.example.com", WSHost: "https://pbx.example.com"}},
		{"ws host with a query", auth.Config{WSHost: "wss://pbx.example.com/?x=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Transport = native.NewTransport()
			c, err := auth.New(tc.cfg)
			assert.Nil(t, c)
			assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
		})
	}
}

func TestNewWithHosts(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: "pbx.example.com:8443", WSHost: "wss://feed.example.com"})
	require.NoError(t, err)
	assert.Equal(t, "https://pbx.example.com:8443", c.Host())
	assert.Equal(t, "wss://feed.example.com", c.WSHost())

	c, err = auth.New(auth.Config{Transport: native.NewTransport()})
	require.NoError(t, err)
	assert.Empty(t, c.Host(), "no host is set")
	assert.Empty(t, c.WSHost())
	assert.Nil(t, c.User())
	assert.Empty(t, c.SubID())
}

func TestSetHostForms(t *testing.T) {
	cases := []struct{ in, host, ws string }{
		{"https://pbx.example.com", "https://pbx.example.com", "wss://pbx.example.com"},
		{"https://pbx.example.com:8443/", "https://pbx.example.com:8443", "wss://pbx.example.com:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "ws://127.0.0.1:8080"},
		{"http://localhost", "http://localhost", "ws://localhost"},
		{"pbx.example.com", "https://pbx.example.com", "wss://pbx.example.com"},
		{"PBX.Example.com:444", "https://pbx.example.com:444", "wss://pbx.example.com:444"},
		{"[::1]:9000", "https://[::1]:9000", "wss://[::1]:9000"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			c, err := auth.New(auth.Config{Transport: native.NewTransport()})
			require.NoError(t, err)
			require.NoError(t, c.SetHost(tc.in))
			assert.Equal(t, tc.host, c.Host())
			assert.Equal(t, tc.ws, c.WSHost(), "the feed host follows the API host")
		})
	}
}

func TestSetHostRefusalKeepsTheHost(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: "https://pbx.example.com"})
	require.NoError(t, err)
	for _, bad := range []string{"", "https://", "https://pbx.example.com/path", "ws://pbx.example.com", "pbx.example.com:99999", "https://bad_host"} {
		err := c.SetHost(bad)
		assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "SetHost(%q): %v", bad, err)
		assert.Equal(t, "https://pbx.example.com", c.Host())
		assert.Equal(t, "wss://pbx.example.com", c.WSHost())
	}
	for _, bad := range []string{"", "https://pbx.example.com", "wss://pbx.example.com/feed", "wss://[::1"} {
		err := c.SetWSHost(bad)
		assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "SetWSHost(%q): %v", bad, err)
		assert.Equal(t, "wss://pbx.example.com", c.WSHost())
	}
}

func TestExplicitWSHostWins(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: "https://a.example.com"})
	require.NoError(t, err)
	require.NoError(t, c.SetWSHost("feed.example.com:8443"))
	assert.Equal(t, "wss://feed.example.com:8443", c.WSHost(), "a bare feed host is wss")
	require.NoError(t, c.SetHost("https://b.example.com"))
	assert.Equal(t, "https://b.example.com", c.Host())
	assert.Equal(t, "wss://feed.example.com:8443", c.WSHost(), "a later SetHost does not override SetWSHost")

	c, err = auth.New(auth.Config{Transport: native.NewTransport(), WSHost: "ws://localhost:1234"})
	require.NoError(t, err)
	require.NoError(t, c.SetHost("https://b.example.com"))
	assert.Equal(t, "ws://localhost:1234", c.WSHost(), "Config.WSHost counts as set")
}

// warnings records what Config.Warn receives.
type warnings struct {
	mu  sync.Mutex
	got []string
}

func (w *warnings) warn(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, msg)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.got
	w.got = nil
	return out
}

func TestPlainHTTPWarnings(t *testing.T) {
	w := &warnings{}
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Warn: w.warn, Host: "http://pbx.example.com"})
	require.NoError(t, err)
	got := w.take()
	require.Len(t, got, 1, "New warns about a plain http host that is not loopback")
	assert.Contains(t, got[0], "http://pbx.example.com")
	assert.Contains(t, got[0], "https")

	cases := []struct {
		name string
		set  func() error
		warn bool
	}{
		{"http to a remote name", func() error { return c.SetHost("http://pbx.example.com:8080") }, true},
		{"http to a remote address", func() error { return c.SetHost("http://192.168.1.10") }, true},
		{"http to 127.0.0.1", func() error { return c.SetHost("http://127.0.0.1:8080") }, false},
		{"http to 127.1.2.3", func() error { return c.SetHost("http://127.1.2.3") }, false},
		{"http to localhost", func() error { return c.SetHost("http://localhost:8080") }, false},
		{"http to [::1]", func() error { return c.SetHost("http://[::1]:8080") }, false},
		{"https to a remote name", func() error { return c.SetHost("https://pbx.example.com") }, false},
		{"bare remote name", func() error { return c.SetHost("pbx.example.com") }, false},
		{"ws to a remote name", func() error { return c.SetWSHost("ws://pbx.example.com") }, true},
		{"ws to localhost", func() error { return c.SetWSHost("ws://localhost") }, false},
		{"wss to a remote name", func() error { return c.SetWSHost("wss://pbx.example.com") }, false},
		{"a refused host", func() error { return c.SetHost("http://pbx.example.com/x") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = tc.set()
			got := w.take()
			if tc.warn {
				assert.Len(t, got, 1, "%q", got)
			} else {
				assert.Empty(t, got)
			}
		})
	}
	t.Run("http to a remote host derives no second warning for the feed", func(t *testing.T) {
		require.NoError(t, c.SetHost("http://pbx2.example.com"))
		assert.Len(t, w.take(), 1)
	})
}

func TestNoWarnFunctionIsFine(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: "http://pbx.example.com"})
	require.NoError(t, err)
	assert.NoError(t, c.SetWSHost("ws://pbx.example.com"))
}

// countingTransport counts exchanges and refuses them all.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (t *countingTransport) Do(context.Context, *auth.Request) (*auth.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	return nil, errors.New("no exchange was expected")
}

func (t *countingTransport) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

func TestNoHostIsABadOption(t *testing.T) {
	tr := &countingTransport{}
	c, err := auth.New(auth.Config{Transport: tr})
	require.NoError(t, err)
	calls := map[string]func() error{
		"login":      func() error { return c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}) },
		"checkonly":  func() error { return checkOnly(c) },
		"logout":     func() error { return c.Logout(ctx) },
		"exit":       func() error { return c.Exit(ctx, auth.ExitOptions{Logout: true}) },
		"setCompany": func() error { return c.SetCompany(ctx, "acme") },
		"rtcReset":   func() error { _, err := c.RTCReset(ctx, true); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), "Client.SetHost")
		})
	}
	assert.Zero(t, tr.count(), "nothing was sent")
}

// ---- the request on the wire ----

// recordingTransport answers every exchange with a fixed reply and keeps the
// requests.
type recordingTransport struct {
	mu    sync.Mutex
	reqs  []*auth.Request
	reply string
}

func (t *recordingTransport) Do(_ context.Context, r *auth.Request) (*auth.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reqs = append(t.reqs, r)
	return &auth.Response{Status: 200, Body: []byte(t.reply)}, nil
}

func (t *recordingTransport) last() *auth.Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reqs[len(t.reqs)-1]
}

func TestRequestsOnTheWire(t *testing.T) {
	const userReply = `{"result":"success","user":{"id":7,"login":"x","name":"X","company":"c","home":"h","perms":{}}}`
	cases := []struct {
		name        string
		cfg         auth.Config
		subID       string
		do          func(c *auth.Client) error
		path, body  string
		auth        string
		reply       string
		wantSuccess bool
	}{
		{"login", auth.Config{}, "", func(c *auth.Client) error {
			return c.Login(ctx, auth.Options{Username: "al<ice", Password: "p\"w"})
		}, wire.PathLogin, `{"auth":{"type":"auth","username":"al\u003cice","password":"p\"w"}}`, "", userReply, true},
		{"login ignores the key", auth.Config{Credentials: auth.APIKey{Key: "k"}}, "", func(c *auth.Client) error {
			return c.Login(ctx, auth.Options{Username: "a", Password: "b"})
		}, wire.PathLogin, `{"auth":{"type":"auth","username":"a","password":"b"}}`, "", userReply, true},
		{"check with key in body", auth.Config{Credentials: auth.APIKey{Key: "k1"}}, "", func(c *auth.Client) error { return checkOnly(c) },
			wire.PathLogin, `{"auth":{"type":"auth","key":"k1"}}`, "", userReply, true},
		{"check with key in header", auth.Config{Credentials: auth.APIKey{Key: "k1", InHeader: true}}, "", func(c *auth.Client) error { return checkOnly(c) },
			wire.PathLogin, `{"auth":{"type":"auth"}}`, "token auth=k1", userReply, true},
		{"logout under a sub-ID", auth.Config{}, "S-1", func(c *auth.Client) error { return c.Logout(ctx) },
			wire.PathLogout + "?subid=S-1", `{"auth":{"type":"auth"}}`, "", `{"result":"success"}`, true},
		{"exit", auth.Config{}, "", func(c *auth.Client) error { return c.Exit(ctx, auth.ExitOptions{}) },
			wire.PathCleanup, `{"auth":{"type":"cleanup"}}`, "", `{"result":"success"}`, true},
		{"company", auth.Config{}, "", func(c *auth.Client) error { return c.SetCompany(ctx, "acme") },
			wire.PathCompany, `{"auth":{"type":"company","company":"acme"}}`, "", userReply, true},
		{"company without user in reply", auth.Config{}, "", func(c *auth.Client) error { return c.SetCompany(ctx, "acme") },
			wire.PathCompany, `{"auth":{"type":"company","company":"acme"}}`, "", `{"result":"success"}`, false},
		{"rtcreset getnew", auth.Config{}, "", func(c *auth.Client) error { _, err := c.RTCReset(ctx, true); return err },
			wire.PathRTCReset, `{"auth":{"type":"rtcreset","getnew":true}}`, "", `{"result":"success","password":"pw"}`, true},
		{"rtcreset getnew without password", auth.Config{}, "", func(c *auth.Client) error { _, err := c.RTCReset(ctx, true); return err },
			wire.PathRTCReset, `{"auth":{"type":"rtcreset","getnew":true}}`, "", `{"result":"success"}`, false},
		{"rtcreset", auth.Config{}, "", func(c *auth.Client) error { _, err := c.RTCReset(ctx, false); return err },
			wire.PathRTCReset, `{"auth":{"type":"rtcreset"}}`, "", `{"result":"success"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &recordingTransport{reply: tc.reply}
			tc.cfg.Transport, tc.cfg.Host = tr, "https://pbx.example.com:8443"
			c, err := auth.New(tc.cfg)
			require.NoError(t, err)
			t.Cleanup(c.Close)
			if tc.subID != "" {
				require.NoError(t, c.SetSubID(tc.subID))
			}
			err = tc.do(c)
			if tc.wantSuccess {
				require.NoError(t, err)
			} else {
				assert.Equal(t, auth.CodeServer, auth.CodeOf(err), "%v", err)
			}
			r := tr.last()
			assert.Equal(t, "POST", r.Method)
			assert.Equal(t, "https://pbx.example.com:8443"+tc.path, r.URL)
			assert.Equal(t, "application/json", r.ContentType)
			assert.Equal(t, tc.auth, r.Authorization)
			assert.JSONEq(t, tc.body, string(r.Body))
		})
	}
}

func TestServerReplyCodes(t *testing.T) {
	cases := []struct {
		name  string
		reply string
		code  auth.Code
		msg   string
	}{
		{"forbidden without message", `{"result":"fail","error":{"code":"forbidden","message":""}}`, auth.CodeForbidden, "not allowed"},
		{"auth_failed without message", `{"result":"fail","error":{"code":"auth_failed","message":""}}`, auth.CodeAuthFailed, "wrong username or password"},
		{"other code without message", `{"result":"fail","error":{"code":"bad_request","message":""}}`, auth.CodeServer, "no reason given"},
		{"login_required with message", `{"result":"fail","error":{"code":"login_required","message":"go away"}}`, auth.CodeLoginRequired, "go away"},
		{"long message", `{"result":"fail","error":{"code":"forbidden","message":"a` + strings.Repeat("é", 300) + `"}}`, auth.CodeForbidden, "é…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &recordingTransport{reply: tc.reply}
			c, err := auth.New(auth.Config{Transport: tr, Host: "pbx.example.com"})
			require.NoError(t, err)
			_, err = c.RTCReset(ctx, false)
			assert.Equal(t, tc.code, auth.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, utf8.ValidString(err.Error()), "a clipped message stays valid UTF-8")
			assert.Less(t, len(err.Error()), 300, "messages from the server are clipped")
		})
	}
}

// ---- sub-IDs without a server ----

// failingStorage fails as configured.
type failingStorage struct {
	getErr, setErr error
	value          string
}

func (s *failingStorage) Get(string) (string, bool, error) { return s.value, s.value != "", s.getErr }
func (s *failingStorage) Set(string, string) error         { return s.setErr }
func (s *failingStorage) Remove(string) error              { return nil }

func TestGetSubIDFailures(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name string
		cfg  auth.Config
		msg  string
		err  error
	}{
		{"no random source", auth.Config{}, "Config.Random", nil},
		{"random source fails", auth.Config{Random: func([]byte) error { return boom }}, "random source failed", boom},
		{"storage read fails", auth.Config{Random: native.Random, Session: &failingStorage{getErr: boom}}, "cannot read", boom},
		{"storage write fails", auth.Config{Random: native.Random, Session: &failingStorage{setErr: boom}}, "cannot write", boom},
		{"storage write fails for a kept value", auth.Config{Session: &failingStorage{setErr: boom, value: "kept"}}, "cannot write", boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Transport = &countingTransport{}
			c, err := auth.New(tc.cfg)
			require.NoError(t, err)
			s, err := c.GetSubID()
			require.Error(t, err)
			assert.Empty(t, s)
			assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err, "the cause is kept")
			}
			assert.Empty(t, c.SubID(), "nothing was activated")
		})
	}
}

func TestSetSubID(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: &countingTransport{}})
	require.NoError(t, err)
	for _, bad := range []string{"", "a b", "ä", "a.b", "a=b", strings.Repeat("1", wire.MaxSubIDLen+1)} {
		err := c.SetSubID(bad)
		assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "SetSubID(%q): %v", bad, err)
		assert.Empty(t, c.SubID())
	}
	long := strings.Repeat("<", 1000)
	err = c.SetSubID(long)
	assert.Less(t, len(err.Error()), 600, "a long refused value is clipped in the message")

	require.NoError(t, c.SetSubID("abc"))
	assert.Equal(t, "abc", c.SubID())
	s, err := c.GetSubID()
	require.NoError(t, err)
	assert.Equal(t, "abc", s, "GetSubID returns the sub-ID SetSubID kept")

	st := &failingStorage{setErr: io.ErrClosedPipe}
	c, err = auth.New(auth.Config{Transport: &countingTransport{}, Session: st})
	require.NoError(t, err)
	err = c.SetSubID("abc")
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err))
	assert.ErrorIs(t, err, io.ErrClosedPipe)
	assert.Empty(t, c.SubID(), "a sub-ID that cannot be kept is not activated")
	err = c.Login(ctx, auth.Options{SubID: "abc", Username: "a", Password: "b"})
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "login with a sub-ID it cannot keep")
}

func TestSetSubIDClearsTheUser(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	require.NoError(t, f.c.SetSubID("one"))
	loginAs(t, f.c, "alice", "wonderland")
	n := f.seen.len()

	require.NoError(t, f.c.SetSubID("one"))
	require.NoError(t, f.c.Sync(ctx))
	assert.Equal(t, alice, f.c.User(), "the same sub-ID keeps the user")
	assert.Equal(t, n, f.seen.len())
	assert.Equal(t, 1, f.clk.Pending())

	require.NoError(t, f.c.SetSubID("two"))
	require.NoError(t, f.c.Sync(ctx))
	assert.Nil(t, f.c.User(), "the login we knew belongs to the previous sub-ID")
	assert.Nil(t, f.seen.last(t), "OnChange(nil)")
	assert.Zero(t, f.clk.Pending(), "and its refresh stops")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)), "the new sub-ID has no login")

	require.NoError(t, f.c.SetSubID("one"))
	require.NoError(t, checkOnly(f.c), "the first sub-ID's login is still there")
	assert.Equal(t, alice, f.c.User())

	// via the login option
	require.NoError(t, f.c.Login(ctx, auth.Options{SubID: "three", Username: "bob", Password: "builder"}))
	assert.Equal(t, bob, f.c.User())
	assert.Equal(t, "three", f.c.SubID())
}

func TestMemoryStorage(t *testing.T) {
	s := auth.NewMemoryStorage()
	_, ok, err := s.Get("k")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.Set("k", "v"))
	v, ok, err := s.Get("k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "v", v)
	require.NoError(t, s.Set("k", ""))
	v, ok, _ = s.Get("k")
	assert.True(t, ok, "an empty value is kept")
	assert.Empty(t, v)
	require.NoError(t, s.Remove("k"))
	_, ok, _ = s.Get("k")
	assert.False(t, ok)
	require.NoError(t, s.Remove("never-set"))
}

// ---- errors ----

func TestErrorType(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	e := &auth.Error{Code: auth.CodeNetwork, Message: "cannot reach", Err: cause}
	assert.Equal(t, "cannot reach: "+cause.Error(), e.Error())
	assert.Equal(t, cause, e.Unwrap())
	assert.Equal(t, cause, errors.Unwrap(e))
	assert.ErrorIs(t, e, cause)
	assert.NotErrorIs(t, e, io.EOF)

	plain := &auth.Error{Code: auth.CodeBadOption, Message: "no host"}
	assert.Equal(t, "no host", plain.Error())
	assert.Nil(t, plain.Unwrap())
	assert.ErrorIs(t, plain, plain)

	wrapped := fmt.Errorf("while starting: %w", e)
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(wrapped))
	var ae *auth.Error
	require.ErrorAs(t, wrapped, &ae)
	assert.Same(t, e, ae)

	assert.Equal(t, auth.Code(""), auth.CodeOf(errors.New("foreign")))
	assert.Equal(t, auth.Code(""), auth.CodeOf(io.EOF))
	assert.Equal(t, auth.Code(""), auth.CodeOf(nil))
	assert.Equal(t, auth.CodeTimeout, auth.CodeOf(&auth.Error{Code: auth.CodeTimeout}))
}

func TestCodesAreStable(t *testing.T) {
	for code, want := range map[auth.Code]string{
		auth.CodeAuthFailed:    "auth_failed",
		auth.CodeLoginRequired: "login_required",
		auth.CodeForbidden:     "forbidden",
		auth.CodeNetwork:       "network",
		auth.CodeTimeout:       "timeout",
		auth.CodeServer:        "server",
		auth.CodeBadOption:     "bad_option",
		auth.CodeInternal:      "internal",
		auth.CodeRateLimited:   "rate_limited",
	} {
		assert.Equal(t, want, string(code))
	}
}

func TestErrorsFromTheRealServerMatchByCode(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	err := f.c.Login(ctx, auth.Options{Username: "alice", Password: "nope"})
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err))
	var ae *auth.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, auth.CodeAuthFailed, ae.Code)
	assert.NotEmpty(t, ae.Message)
}

func TestOversizedValuesAreBadOptions(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: lateTransport{}, Host: "https://pbx.example.com"})
	require.NoError(t, err)
	long := strings.Repeat("x", 2000)
	for name, o := range map[string]auth.Options{
		"username": {Username: long, Password: "pw"},
		"password": {Username: "alice", Password: long},
	} {
		err := c.Login(context.Background(), o)
		assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), name)
		assert.Contains(t, err.Error(), "bytes", name)
	}
	err = c.SetCompany(context.Background(), long)
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err))
}
