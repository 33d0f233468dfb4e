package pbxtest_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/pbxtest"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// checkBody asks /rest/auth/ who the caller is: 401 without a login.
const checkBody = `{"auth": {"type": "auth"}}`

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// login logs c in with a password and fails the test if it cannot.
func login(t *testing.T, c *auth.Client, username, password string) {
	t.Helper()
	require.NoError(t, c.Login(testCtx(t), auth.Options{Username: username, Password: password}))
}

func checkOnly(t *testing.T, c *auth.Client) error {
	return c.Login(testCtx(t), auth.Options{CheckOnly: true})
}

// post sends a JSON body to the server, with an Origin header unless origin
// is "", and returns the reply with its body read.
func post(t *testing.T, s *pbxtest.Server, path, origin, body string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/json")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return do(t, s, r)
}

func get(t *testing.T, s *pbxtest.Server, path string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	require.NoError(t, err)
	return do(t, s, r)
}

func do(t *testing.T, s *pbxtest.Server, r *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.HTTP.Client().Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestNewServerDefaults(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.Option{}) // the zero Option changes nothing
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"), s.URL)
	assert.Equal(t, bcrypt.MinCost, users.HashCost, "the start lowers the bcrypt cost")

	for _, u := range []struct{ login, password, company string }{
		{"alice", "wonderland", "default"}, {"bob", "builder", "default"}, {"carol", "carolpass", "acme"},
	} {
		c := s.Client()
		assert.Equal(t, s.URL, c.Host())
		login(t, c, u.login, u.password)
		assert.Equal(t, u.login, c.User().Login)
		assert.Equal(t, u.company, c.User().Company)
	}
	_, ok := s.Users().ByLogin("alice")
	assert.True(t, ok)

	// The demo users' Ping presence: bob is at lunch.
	jwt, err := s.PingToken("bob", time.Hour)
	require.NoError(t, err)
	r, err := http.NewRequest(http.MethodGet, s.URL+pingserver.PathExtensions+"me", nil)
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+jwt)
	resp, body := do(t, s, r)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "At lunch")
}

func TestNewServerClosesAtCleanup(t *testing.T) {
	var url string
	t.Run("server", func(t *testing.T) {
		s := pbxtest.NewServer(t)
		url = s.URL
		resp, body := post(t, s, wire.PathLogin, "", checkBody)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	})
	_, err := http.Post(url+wire.PathLogin, "application/json", strings.NewReader(`{}`))
	assert.Error(t, err, "the server is closed when its test ends")
}

// fakeTB records a Fatal and ends the goroutine as testing.T does.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprint(args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

func TestNewServerFailsTheTest(t *testing.T) {
	f := &fakeTB{TB: t}
	done := make(chan *pbxtest.Server)
	go func() {
		defer close(done)
		done <- pbxtest.NewServer(f, pbxtest.WithUsersJSON(`[{"id": 1, "login": "x"}]`))
	}()
	s := <-done
	assert.Nil(t, s)
	assert.Contains(t, f.fatal, "WithUsersJSON")
	assert.Contains(t, f.fatal, `"password" must not be empty`)
	assert.Empty(t, f.cleanups)
}

func TestStartRefusesBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opt  pbxtest.Option
		want string
	}{
		"no users":        {pbxtest.WithUsers(), "WithUsers: no users"},
		"bad users file":  {pbxtest.WithUsersJSON(`[{"id": 1, "login": "x", "password": "p", "home": "h", "colour": "red"}]`), `"colour"`},
		"not an array":    {pbxtest.WithUsersJSON(`{}`), "JSON array"},
		"nil clock":       {pbxtest.WithClock(nil), "WithClock"},
		"short ping key":  {pbxtest.WithPingKey([]byte("short")), "WithPingKey: the key is 5 bytes; it must be 32"},
		"colon in admin":  {pbxtest.WithVodiaAdmin("ad:min", "pw"), "colon"},
		"empty admin":     {pbxtest.WithVodiaAdmin("", ""), "WithVodiaAdmin"},
		"bad origin":      {pbxtest.WithOrigins("ftp://app.example"), "WithOrigins"},
		"no origins":      {pbxtest.WithOrigins(), "WithOrigins"},
		"nil config func": {pbxtest.WithConfig(nil), "WithConfig"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := pbxtest.Start(tc.opt)
			assert.Nil(t, s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWithUsers(t *testing.T) {
	pbxtest.LowerHashCost() // before loading users of our own
	us, err := users.Load(strings.NewReader(`[{"id": 7, "login": "dave", "password": "secret", "name": "Dave", "home": "labs", "extension": "70"}]`))
	require.NoError(t, err)
	s := pbxtest.NewServer(t, pbxtest.WithUsers(us...))

	c := s.Client()
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(c.Login(testCtx(t), auth.Options{Username: "alice", Password: "wonderland"})), "no demo users")
	login(t, c, "dave", "secret")
	assert.Equal(t, &auth.User{ID: 7, Login: "dave", Name: "Dave", Company: "labs", Home: "labs", Perms: map[string]string{}}, c.User())
}

func TestWithUsersJSON(t *testing.T) {
	pbxtest.LowerHashCost()                                       // before users.Demo
	s := pbxtest.NewServer(t, pbxtest.WithUsers(users.Demo()...), // replaced by the later option
		pbxtest.WithUsersJSON(`[
			{"id": 1, "login": "erin", "password": "pw1", "home": "default", "extension": "10"},
			{"id": 2, "login": "frank", "password": "pw2", "home": "default"}
		]`))
	c := s.Client()
	login(t, c, "erin", "pw1")
	assert.Equal(t, int64(1), c.User().ID)
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(s.Client().Login(testCtx(t), auth.Options{Username: "bob", Password: "builder"})))

	// Ping needs an extension; the presence of the demo users is gone.
	_, err := s.PingToken("frank", time.Hour)
	assert.ErrorContains(t, err, "no extension")
	_, err = s.PingToken("nobody", time.Hour)
	assert.ErrorContains(t, err, `no user "nobody"`)
}

func TestAdvanceExpiresLogins(t *testing.T) {
	s := pbxtest.NewServer(t)
	c := s.Client()
	login(t, c, "alice", "wonderland")

	before := s.Now()
	after := s.Advance(7 * time.Hour)
	assert.GreaterOrEqual(t, after.Sub(before), 7*time.Hour)
	assert.WithinDuration(t, after, s.Now(), time.Minute)
	require.NoError(t, checkOnly(t, c), "a session lives 8 hours after its last use")

	s.Advance(9 * time.Hour)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(t, c)), "9 hours idle")

	defer func() {
		assert.Contains(t, fmt.Sprint(recover()), "pbxtest: advance -1s: the clock moves forward only")
	}()
	s.Advance(-time.Second)
	t.Error("a negative Advance did not panic")
}

// Advance closes the live feed of a session it ends, at once; Close stops
// the feeds of the clients it made.
func TestAdvanceEndsFeeds(t *testing.T) {
	s := pbxtest.NewServer(t)
	c := s.Client()
	ctx := testCtx(t)
	login(t, c, "bob", "builder")
	errs := make(chan int, 10)
	require.NoError(t, c.StartFeed(ctx, feed.Options{}, auth.FeedCallbacks{OnError: func(errno int, _ string) { errs <- errno }}))

	s.Advance(25 * time.Hour)
	select {
	case errno := <-errs:
		assert.Equal(t, feed.ErrLoggedOut, errno)
	case <-ctx.Done():
		t.Fatal("the feed did not end with the session")
	}
	assert.Nil(t, c.User())

	d := s.Client()
	login(t, d, "alice", "wonderland")
	require.NoError(t, d.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, auth.FeedCallbacks{}))
	start := time.Now()
	s.Close()
	s.Close() // again: nothing to do
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestWithClock(t *testing.T) {
	clock := testclock.New()
	a := pbxtest.NewServer(t, pbxtest.WithClock(clock))
	b := pbxtest.NewServer(t, pbxtest.WithClock(clock))
	assert.Same(t, clock, a.Clock())

	c := b.Client()
	login(t, c, "carol", "carolpass")
	a.Advance(25 * time.Hour) // b runs on the same clock
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(t, c)))
	assert.GreaterOrEqual(t, clock.Offset(), 25*time.Hour)

	// The clock is served at POST /test/clock, for browser tests.
	resp, body := post(t, a, testclock.Path, "", `{"advance": "1h"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.GreaterOrEqual(t, clock.Offset(), 26*time.Hour)
	assert.Contains(t, body, `"now":`)
}

// The token expires on the server's clock; a key of the test's own signs
// tokens that the server takes.
func TestWithPingKey(t *testing.T) {
	key := make([]byte, pingserver.KeySize)
	_, _ = rand.Read(key)
	s := pbxtest.NewServer(t, pbxtest.WithPingKey(key))
	alice, ok := s.Users().ByLogin("alice")
	require.True(t, ok)
	mine, err := pingserver.Mint(key, alice, s.Now(), time.Hour)
	require.NoError(t, err)
	theirs, err := s.PingToken("alice", time.Hour)
	require.NoError(t, err)

	for _, jwt := range []string{mine, theirs} {
		c := s.Client()
		require.NoError(t, c.SetHostFor(s.URL, "ping"))
		require.NoError(t, c.Login(testCtx(t), auth.Options{Tokens: []string{jwt}}))
		assert.Equal(t, "Alice Example", c.User().Name)
	}

	other := pbxtest.NewServer(t) // a random key of its own
	c := other.Client()
	require.NoError(t, c.SetHostFor(other.URL, "ping"))
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(c.Login(testCtx(t), auth.Options{Tokens: []string{mine}})))

	short, err := s.PingToken("bob", time.Minute)
	require.NoError(t, err)
	s.Advance(time.Minute)
	c = s.Client()
	require.NoError(t, c.SetHostFor(s.URL, "ping"))
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(c.Login(testCtx(t), auth.Options{Tokens: []string{short}})))
	_, err = s.PingToken("bob", 0)
	assert.ErrorContains(t, err, "not positive")
}

func TestVodiaAdmin(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		s := pbxtest.NewServer(t)
		id, err := s.VodiaTemporaryID("default", "40")
		require.NoError(t, err)
		c := s.Client()
		require.NoError(t, c.SetHostFor(s.URL, "vodia"))
		require.NoError(t, c.Login(testCtx(t), auth.Options{Tokens: []string{id}}))
		assert.Equal(t, "Alice Example", c.User().Name)

		domain, err := s.VodiaTemporaryID("acme", "")
		require.NoError(t, err)
		d := s.Client()
		require.NoError(t, d.SetHostFor(s.URL, "vodia"))
		require.NoError(t, d.Login(testCtx(t), auth.Options{Tokens: []string{domain}}))
		assert.Equal(t, "acme", d.User().Company)

		_, err = s.VodiaTemporaryID("nowhere", "")
		assert.EqualError(t, err, "pbxtest: VodiaTemporaryID: 404 Not Found: no such domain")

		late, err := s.VodiaTemporaryID("default", "41")
		require.NoError(t, err)
		s.Advance(vodiaserver.TempLife)
		e := s.Client()
		require.NoError(t, e.SetHostFor(s.URL, "vodia"))
		assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(e.Login(testCtx(t), auth.Options{Tokens: []string{late}})), "a temporary id lives 10 seconds")
	})
	t.Run("chosen", func(t *testing.T) {
		s := pbxtest.NewServer(t, pbxtest.WithVodiaAdmin("root", "s3cret"))
		_, err := s.VodiaTemporaryID("default", "41")
		require.NoError(t, err, "the kit asks with the chosen credentials")

		r, err := http.NewRequest(http.MethodPost, s.URL+vodiaserver.Path, strings.NewReader(`{"name":"3rd","domain":"default"}`))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		r.SetBasicAuth("admin", "vodia-demo")
		resp, body := do(t, s, r)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the demo admin is gone: %s", body)
	})
}

func TestWithOrigins(t *testing.T) {
	const app = "https://app.example"
	def := pbxtest.NewServer(t)
	mine := pbxtest.NewServer(t, pbxtest.WithOrigins(app, "http://localhost:5173"))
	for _, tc := range []struct {
		s      *pbxtest.Server
		origin string
		ok     bool
	}{
		{def, "http://localhost:3000", true},
		{def, "http://127.0.0.1:9", true},
		{def, app, false},
		{mine, app, true},
		{mine, "http://localhost:5173", true},
		{mine, "http://localhost:3000", false},
		{mine, mine.URL, true}, // its own pages
	} {
		resp, body := post(t, tc.s, wire.PathLogin, tc.origin, checkBody)
		if tc.ok {
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: %s", tc.origin, body)
			if tc.origin != tc.s.URL {
				assert.Equal(t, tc.origin, resp.Header.Get("Access-Control-Allow-Origin"), tc.origin)
			}
		} else {
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, "%s: %s", tc.origin, body)
			assert.Contains(t, body, wire.CodeOriginNotAllowed)
		}
	}

	// The trusted pages may frame the login overlay, and the loader is served.
	resp, body := get(t, mine, "/api/login.html")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' "+app+" http://localhost:5173")
	resp, body = get(t, mine, "/api/api.js")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, "IPCortex")
}

func TestWithConfig(t *testing.T) {
	var logged servertest.LogBuffer
	s := pbxtest.NewServer(t,
		pbxtest.WithConfig(func(c *pbx.Config) { c.Logger = logged.Logger() }),
		pbxtest.WithConfig(func(c *pbx.Config) {
			c.TokenClasses = map[string]string{"http://localhost:*": "longLogin"}
			assert.NotNil(t, c.Logger, "the functions run in order, on the config the options made")
			assert.NotNil(t, c.TestClock)
		}))
	resp, body := post(t, s, wire.PathLogin, "", checkBody)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	assert.Contains(t, logged.String(), "POST /rest/auth/ 401")
}

// Servers in parallel tests are independent.
func TestParallelServers(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := pbxtest.NewServer(t)
			c := s.Client()
			login(t, c, "alice", "wonderland")
			s.Advance(25 * time.Hour)
			assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(t, c)))
		})
	}
}
