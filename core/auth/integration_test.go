package auth_test

// These tests drive the core against the REAL local PBX server (web/pbx) over
// real HTTP, through native.NewTransport(). Time moves only through a fake
// clock; nothing sleeps.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/clock"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/users"
)

const aliceKey = "demo-key-alice-6f1c2a9e"

var demoDir *users.Directory

func TestMain(m *testing.M) {
	users.HashCost = bcrypt.MinCost // bcrypt is slow, above all under -race
	demoDir = users.NewDirectory(users.Demo())
	os.Exit(m.Run())
}

var epoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// pbxServer is the real local PBX in an httptest server that counts the
// requests reaching it.
type pbxServer struct {
	*httptest.Server
	requests atomic.Int64
}

func startPBX(t *testing.T) *pbxServer {
	t.Helper()
	s := &pbxServer{}
	h := pbxHandler()
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func pbxHandler() http.Handler { return pbx.New(pbx.Config{Users: demoDir}) }

func (s *pbxServer) count() int64 { return s.requests.Load() }

// changes records what OnChange reports.
type changes struct {
	mu  sync.Mutex
	got []*auth.User
}

func (c *changes) record(u *auth.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, u)
}

func (c *changes) all() []*auth.User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*auth.User(nil), c.got...)
}

func (c *changes) len() int { return len(c.all()) }

// last returns the last reported user; it fails the test if there is none.
func (c *changes) last(t *testing.T) *auth.User {
	t.Helper()
	all := c.all()
	require.NotEmpty(t, all, "OnChange was never called")
	return all[len(all)-1]
}

// fixture is a client of the real server with its transport, fake clock and
// OnChange record.
type fixture struct {
	c     *auth.Client
	tr    *native.Transport
	clk   *clock.Fake
	seen  *changes
	srv   *pbxServer
	store *auth.MemoryStorage
}

// newFixture returns a client of srv over tr (a new transport if nil); mods
// adjust its Config before New.
func newFixture(t *testing.T, srv *pbxServer, tr *native.Transport, mods ...func(*auth.Config)) *fixture {
	t.Helper()
	if tr == nil {
		tr = native.NewTransport()
	}
	f := &fixture{tr: tr, clk: clock.NewFake(epoch), seen: &changes{}, srv: srv, store: auth.NewMemoryStorage()}
	cfg := auth.Config{
		Transport: tr,
		Host:      srv.URL,
		Session:   f.store,
		Clock:     f.clk,
		Random:    native.Random,
		OnChange:  f.seen.record,
		Warn:      func(msg string) { t.Errorf("unexpected warning: %s", msg) },
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := auth.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	f.c = c
	return f
}

var ctx = context.Background()

func loginAs(t *testing.T, c *auth.Client, user, password string) {
	t.Helper()
	require.NoError(t, c.Login(ctx, auth.Options{Username: user, Password: password}))
}

func checkOnly(c *auth.Client) error { return c.Login(ctx, auth.Options{CheckOnly: true}) }

// cookies returns the cookies the transport's jar holds for the server.
func cookies(t *testing.T, tr *native.Transport, srvURL string) map[string]string {
	t.Helper()
	u, err := url.Parse(srvURL)
	require.NoError(t, err)
	out := map[string]string{}
	for _, ck := range tr.HTTP.Jar.Cookies(u) {
		out[ck.Name] = ck.Value
	}
	return out
}

var (
	alice = &auth.User{ID: 101, Login: "alice", Name: "Alice Example", Company: "default", Home: "default",
		Perms: map[string]string{"chat": "yes", "admin": "company"}}
	bob   = &auth.User{ID: 102, Login: "bob", Name: "Bob Builder", Company: "default", Home: "default", Perms: map[string]string{"chat": "yes"}}
	carol = &auth.User{ID: 103, Login: "carol", Name: "Carol Acme", Company: "acme", Home: "acme", Perms: map[string]string{"chat": "yes"}}
)

func withCompany(u *auth.User, co string) *auth.User {
	v := *u
	v.Company = co
	return &v
}

// ---- login ----

func TestLoginWithPassword(t *testing.T) {
	cases := []struct {
		login, password string
		want            *auth.User
	}{
		{"alice", "wonderland", alice},
		{"bob", "builder", bob},
		{"carol", "carolpass", carol},
	}
	for _, tc := range cases {
		t.Run(tc.login, func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			assert.Empty(t, cookies(t, f.tr, srv.URL))

			loginAs(t, f.c, tc.login, tc.password)

			u := f.c.User()
			require.NotNil(t, u)
			assert.Equal(t, tc.want, u)
			assert.Equal(t, []*auth.User{tc.want}, f.seen.all(), "OnChange is called once with the user")

			jar := cookies(t, f.tr, srv.URL)
			assert.Len(t, jar, 1)
			assert.NotEmpty(t, jar[wire.CookieName], "the session lives in the Red60urne cookie of the transport's jar")
		})
	}
}

func TestUserIsACopy(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	u := f.c.User()
	u.Perms["admin"] = "yes"
	u.Company = "changed"
	assert.Equal(t, alice, f.c.User(), "changing a returned User changes nothing in the client")
	f.seen.last(t).Perms["chat"] = "no"
	assert.Equal(t, alice, f.c.User(), "nor does changing what OnChange got")
}

func TestLoginRefused(t *testing.T) {
	cases := []struct{ name, login, password string }{
		{"wrong password", "alice", "not-wonderland"},
		{"unknown user", "mallory", "wonderland"},
		{"password of another user", "bob", "wonderland"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" when logged out", func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			err := f.c.Login(ctx, auth.Options{Username: tc.login, Password: tc.password})
			assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err), "%v", err)
			assert.Nil(t, f.c.User())
			assert.Empty(t, f.seen.all(), "the user did not change")
			assert.Empty(t, cookies(t, f.tr, srv.URL))
			assert.Zero(t, f.clk.Pending(), "no refresh without a login")
		})
		t.Run(tc.name+" when logged in", func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			loginAs(t, f.c, "carol", "carolpass")
			err := f.c.Login(ctx, auth.Options{Username: tc.login, Password: tc.password})
			assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err), "%v", err)
			assert.Equal(t, carol, f.c.User(), "a refused login keeps the user")
			assert.Len(t, f.seen.all(), 1)
			require.NoError(t, checkOnly(f.c), "the session is still valid")
			assert.Equal(t, carol, f.c.User())
		})
	}
}

func TestLoginBadOptionsNeverReachTheServer(t *testing.T) {
	cases := []struct {
		name string
		o    auth.Options
		msg  string
	}{
		{"blank password", auth.Options{Username: "alice", Password: "  \t"}, "blank"},
		{"username without password", auth.Options{Username: "alice"}, "without a password"},
		{"password without username", auth.Options{Password: "wonderland"}, "without a username"},
		{"sub-ID with a space", auth.Options{Username: "alice", Password: "wonderland", SubID: "tab 1"}, "not valid"},
		{"sub-ID with a slash", auth.Options{SubID: "a/b"}, "not valid"},
		{"sub-ID too long", auth.Options{SubID: strings.Repeat("a", wire.MaxSubIDLen+1)}, "not valid"},
		{"sub-ID with a query", auth.Options{SubID: "x&subid=y"}, "not valid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			err := f.c.Login(ctx, tc.o)
			require.Error(t, err)
			assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Zero(t, srv.count(), "no request reached the server")
			assert.Nil(t, f.c.User())
			assert.Empty(t, f.c.SubID(), "a refused sub-ID is not taken")
			_, stored, _ := f.store.Get(auth.SubIDKey)
			assert.False(t, stored)
		})
	}
}

func TestLoginValidOptions(t *testing.T) {
	t.Run("a dummy password that is not blank", func(t *testing.T) {
		o := auth.Options{Username: "external-user", Password: "x"}
		assert.NoError(t, o.Validate())
	})
	t.Run("sub-ID at the maximum length", func(t *testing.T) {
		o := auth.Options{SubID: strings.Repeat("Z", wire.MaxSubIDLen)}
		assert.NoError(t, o.Validate())
	})
}

func TestLoginWithSubIDOption(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	require.NoError(t, f.c.Login(ctx, auth.Options{Username: "bob", Password: "builder", SubID: "tab_1-A"}))
	assert.Equal(t, bob, f.c.User())
	assert.Equal(t, "tab_1-A", f.c.SubID(), "the sub-ID qualifies this and later calls")
	v, ok, err := f.store.Get(auth.SubIDKey)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "tab_1-A", v, "and is kept in Config.Session")
	assert.Empty(t, cookies(t, f.tr, srv.URL), "a sub-ID's session sets no cookie")
	held, _, err := f.store.Get("IPCortex.PBX.Auth.session:tab_1-A@" + srv.URL)
	require.NoError(t, err)
	assert.NotEmpty(t, held, "the client keeps it, per sub-ID and host, in Config.Session")

	require.NoError(t, checkOnly(f.c), "later calls carry the sub-ID")

	other := newFixture(t, srv, f.tr)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(other.c)), "a client without the sub-ID has no login")
}

// ---- checkonly and Login without credentials ----

func TestCheckOnly(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)

	err := checkOnly(f.c)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "%v", err)
	assert.Nil(t, f.c.User())

	loginAs(t, f.c, "alice", "wonderland")
	require.NoError(t, checkOnly(f.c))
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, alice, f.seen.last(t))

	// a fresh client on the same jar sees the login and learns the user
	g := newFixture(t, srv, f.tr)
	require.NoError(t, checkOnly(g.c))
	assert.Equal(t, alice, g.c.User())
	assert.Equal(t, alice, g.seen.last(t), "OnChange is told about the user a check found")
	assert.Equal(t, 1, g.clk.Pending(), "a check that finds a login starts the refresh")
}

func TestCheckOnlyIgnoresOtherOptions(t *testing.T) {
	ignored := []auth.Options{
		{CheckOnly: true, Username: "alice"},
		{CheckOnly: true, Password: "x"},
		{CheckOnly: true, Username: "alice", Password: "wonderland"},
		{CheckOnly: true, Username: "alice", Password: " "},
		{CheckOnly: true, SubID: "not valid!"},
		{CheckOnly: true, SubID: "valid-but-ignored"},
	}
	for _, o := range ignored {
		t.Run("", func(t *testing.T) {
			assert.NoError(t, o.Validate())
			srv := startPBX(t)
			f := newFixture(t, srv, nil)

			err := f.c.Login(ctx, o)
			assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "checkonly never logs in: %v", err)
			assert.Nil(t, f.c.User())
			assert.Empty(t, f.c.SubID(), "checkonly ignores subid")
			assert.Empty(t, cookies(t, f.tr, srv.URL))

			loginAs(t, f.c, "bob", "builder")
			require.NoError(t, f.c.Login(ctx, o))
			assert.Equal(t, bob, f.c.User(), "checkonly with a session succeeds with the session's user")
			assert.Empty(t, f.c.SubID())
		})
	}
}

func TestLoginWithoutCredentials(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	err := f.c.Login(ctx, auth.Options{})
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "%v", err)
	assert.Contains(t, err.Error(), "not logged in")
	assert.Nil(t, f.c.User())

	loginAs(t, f.tr2Client(t, srv), "alice", "wonderland") // another client on the same jar logs in
	require.NoError(t, f.c.Login(ctx, auth.Options{}))
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, alice, f.seen.last(t))
}

// tr2Client returns another client that shares f's transport (its cookie jar).
func (f *fixture) tr2Client(t *testing.T, srv *pbxServer) *auth.Client {
	return newFixture(t, srv, f.tr).c
}

// ---- logout and exit ----

func TestLogout(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	require.Equal(t, 1, f.clk.Pending())

	require.NoError(t, f.c.Logout(ctx))
	assert.Nil(t, f.c.User())
	assert.Nil(t, f.seen.last(t), "OnChange(nil)")
	assert.Zero(t, f.clk.Pending(), "logout stops the refresh")
	if stale := cookies(t, f.tr, srv.URL)[wire.CookieName]; stale != "" { // the logout carried the session explicitly
		g := newFixture(t, srv, f.tr)
		assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(g.c)), "the cookie left in the jar names an ended session")
	}

	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)), "the session has ended")
}

func TestLogoutEndsTheSessionOnTheServer(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	stolen := cookies(t, f.tr, srv.URL)[wire.CookieName]
	require.NotEmpty(t, stolen)
	require.NoError(t, f.c.Logout(ctx))

	// a jar that kept the old cookie does not revive the session
	tr := native.NewTransport()
	u, _ := url.Parse(srv.URL)
	tr.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: wire.CookieName, Value: stolen, Path: "/"}})
	g := newFixture(t, srv, tr)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(g.c)))
}

func TestLogoutWithoutSession(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	require.NoError(t, f.c.Logout(ctx))
	assert.Nil(t, f.c.User())
	assert.Equal(t, int64(1), srv.count())
}

func TestLogoutWhenServerDown(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	srv.Close()

	err := f.c.Logout(ctx)
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err), "%v", err)
	assert.Equal(t, alice, f.c.User(), "the user stays so that the caller can retry")
	assert.Len(t, f.seen.all(), 1, "OnChange was not called")
	assert.Equal(t, 1, f.clk.Pending(), "the refresh goes on")
}

func TestExit(t *testing.T) {
	t.Run("without logout the session stays", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		loginAs(t, f.c, "alice", "wonderland")

		require.NoError(t, f.c.Exit(ctx, auth.ExitOptions{}))
		assert.Nil(t, f.c.User())
		assert.Nil(t, f.seen.last(t))
		assert.Zero(t, f.clk.Pending())
		assert.NotEmpty(t, cookies(t, f.tr, srv.URL)[wire.CookieName])

		require.NoError(t, checkOnly(f.c), "the session is still valid")
		assert.Equal(t, alice, f.c.User())
	})
	t.Run("with logout the session ends", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		loginAs(t, f.c, "alice", "wonderland")

		require.NoError(t, f.c.Exit(ctx, auth.ExitOptions{Logout: true}))
		assert.Nil(t, f.c.User())
		assert.Nil(t, f.seen.last(t))
		assert.Zero(t, f.clk.Pending())
		assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)))
	})
	for _, logout := range []bool{false, true} {
		t.Run("not logged in", func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			require.NoError(t, f.c.Exit(ctx, auth.ExitOptions{Logout: logout}))
			assert.Nil(t, f.c.User())
		})
	}
	t.Run("server down", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		loginAs(t, f.c, "alice", "wonderland")
		srv.Close()
		err := f.c.Exit(ctx, auth.ExitOptions{Logout: true})
		assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err), "%v", err)
		assert.Equal(t, alice, f.c.User(), "nothing was cleaned up, so the user stays")
	})
}

// ---- company ----

func TestSetCompany(t *testing.T) {
	t.Run("alice selects acme", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		loginAs(t, f.c, "alice", "wonderland")
		require.NoError(t, f.c.SetCompany(ctx, "acme"))
		want := withCompany(alice, "acme")
		assert.Equal(t, want, f.c.User())
		assert.Equal(t, "default", f.c.User().Home)
		assert.Equal(t, want, f.seen.last(t))
		assert.Equal(t, 1, f.clk.Pending(), "one refresh, restarted")

		require.NoError(t, checkOnly(f.c))
		assert.Equal(t, want, f.c.User(), "the session keeps the company")

		require.NoError(t, f.c.SetCompany(ctx, "default"))
		assert.Equal(t, alice, f.c.User(), "and back")
	})
	t.Run("bob may not select acme", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		loginAs(t, f.c, "bob", "builder")
		err := f.c.SetCompany(ctx, "acme")
		assert.Equal(t, auth.CodeForbidden, auth.CodeOf(err), "%v", err)
		assert.Contains(t, err.Error(), "acme")
		assert.Equal(t, bob, f.c.User())
	})
	for _, co := range []string{"", " ", "\t\n"} {
		t.Run("empty company "+strconvQuote(co), func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil)
			loginAs(t, f.c, "alice", "wonderland")
			n := srv.count()
			err := f.c.SetCompany(ctx, co)
			assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err), "%v", err)
			assert.Equal(t, n, srv.count(), "no request")
			assert.Equal(t, alice, f.c.User())
		})
	}
	t.Run("not logged in", func(t *testing.T) {
		srv := startPBX(t)
		f := newFixture(t, srv, nil)
		err := f.c.SetCompany(ctx, "acme")
		assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "%v", err)
		assert.Nil(t, f.c.User())
	})
}

func strconvQuote(s string) string {
	return "[" + strings.NewReplacer("\t", `\t`, "\n", `\n`).Replace(s) + "]"
}

// ---- rtcreset ----

func TestRTCReset(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)

	_, err := f.c.RTCReset(ctx, true)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "without a login: %v", err)

	loginAs(t, f.c, "alice", "wonderland")
	p1, err := f.c.RTCReset(ctx, true)
	require.NoError(t, err)
	assert.NotEmpty(t, p1)
	p2, err := f.c.RTCReset(ctx, true)
	require.NoError(t, err)
	assert.NotEmpty(t, p2)
	assert.NotEqual(t, p1, p2, "every reset randomises the password")

	p3, err := f.c.RTCReset(ctx, false)
	require.NoError(t, err)
	assert.Empty(t, p3, "without getnew the password is given up")
	assert.Equal(t, alice, f.c.User(), "a reset does not touch the user")
}

// ---- sub-IDs through one transport ----

func TestSubIDsAreIndependentInOneJar(t *testing.T) {
	srv := startPBX(t)
	tr := native.NewTransport()
	a := newFixture(t, srv, tr)
	b := newFixture(t, srv, tr)
	require.NoError(t, a.c.SetSubID("tab-a"))
	require.NoError(t, b.c.SetSubID("tab-b"))

	loginAs(t, a.c, "alice", "wonderland")
	loginAs(t, b.c, "bob", "builder")

	assert.Empty(t, cookies(t, tr, srv.URL), "sessions under sub-IDs travel in the Authorization header, not in cookies")

	require.NoError(t, checkOnly(a.c))
	require.NoError(t, checkOnly(b.c))
	assert.Equal(t, alice, a.c.User(), "each client keeps its own login")
	assert.Equal(t, bob, b.c.User())

	// a third client without a sub-ID has no login at all
	plain := newFixture(t, srv, tr)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(plain.c)))

	// logging out one sub-ID leaves the other
	require.NoError(t, a.c.Logout(ctx))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(a.c)))
	require.NoError(t, checkOnly(b.c))
	assert.Equal(t, bob, b.c.User())
}

func TestWithoutSubIDClientsShareOneLogin(t *testing.T) {
	srv := startPBX(t)
	tr := native.NewTransport()
	a := newFixture(t, srv, tr)
	b := newFixture(t, srv, tr)

	loginAs(t, a.c, "alice", "wonderland")
	require.NoError(t, checkOnly(b.c))
	assert.Equal(t, alice, b.c.User(), "the other client sees the same login")

	// a login in one replaces the shared session
	loginAs(t, b.c, "carol", "carolpass")
	require.NoError(t, checkOnly(a.c))
	assert.Equal(t, carol, a.c.User())

	require.NoError(t, a.c.Logout(ctx))
	err := checkOnly(b.c)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "a logout in one ends the other's login: %v", err)
	assert.Nil(t, b.c.User())
	assert.Nil(t, b.seen.last(t))
}

// ---- GetSubID / SetSubID ----

func TestGetSubID(t *testing.T) {
	srv := startPBX(t)
	store := auth.NewMemoryStorage()
	f := newFixture(t, srv, nil, func(c *auth.Config) { c.Session = store })
	assert.Empty(t, f.c.SubID())

	s1, err := f.c.GetSubID()
	require.NoError(t, err)
	assert.True(t, wire.ValidSubID(s1))
	assert.Len(t, s1, 32, "128 random bits as hex")
	assert.Equal(t, s1, f.c.SubID(), "GetSubID activates the sub-ID")
	s2, err := f.c.GetSubID()
	require.NoError(t, err)
	assert.Equal(t, s1, s2, "repeated calls return the same value")

	v, ok, err := store.Get(auth.SubIDKey)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, s1, v, "kept in Config.Session under SubIDKey")

	// a second client with the same session storage (a reloaded tab)
	g := newFixture(t, srv, f.tr, func(c *auth.Config) { c.Session = store })
	s3, err := g.c.GetSubID()
	require.NoError(t, err)
	assert.Equal(t, s1, s3)

	// and it shares the login of that sub-ID
	loginAs(t, f.c, "alice", "wonderland")
	assert.Empty(t, cookies(t, f.tr, srv.URL), "the sub-ID's session is in the storage, not in a cookie")
	require.NoError(t, checkOnly(g.c))
	assert.Equal(t, alice, g.c.User())

	// a client with its own storage gets another sub-ID, and no login
	h := newFixture(t, srv, f.tr)
	s4, err := h.c.GetSubID()
	require.NoError(t, err)
	assert.NotEqual(t, s1, s4)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(h.c)))
}

func TestGetSubIDIsHexOfTheRandomBytes(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil, func(c *auth.Config) {
		c.Random = func(b []byte) error {
			for i := range b {
				b[i] = byte(i * 17)
			}
			return nil
		}
	})
	s, err := f.c.GetSubID()
	require.NoError(t, err)
	assert.Equal(t, "00112233445566778899aabbccddeeff", s)
}

func TestGetSubIDReplacesAnInvalidStoredValue(t *testing.T) {
	for _, bad := range []string{"", "has space", "a/b", strings.Repeat("x", wire.MaxSubIDLen+1)} {
		t.Run(bad, func(t *testing.T) {
			srv := startPBX(t)
			store := auth.NewMemoryStorage()
			require.NoError(t, store.Set(auth.SubIDKey, bad))
			f := newFixture(t, srv, nil, func(c *auth.Config) { c.Session = store })
			s, err := f.c.GetSubID()
			require.NoError(t, err)
			assert.True(t, wire.ValidSubID(s))
			assert.NotEqual(t, bad, s)
			v, _, _ := store.Get(auth.SubIDKey)
			assert.Equal(t, s, v, "the new value replaces the stored one")
		})
	}
	t.Run("a valid stored value is used", func(t *testing.T) {
		srv := startPBX(t)
		store := auth.NewMemoryStorage()
		require.NoError(t, store.Set(auth.SubIDKey, "kept-from-before"))
		f := newFixture(t, srv, nil, func(c *auth.Config) { c.Session = store; c.Random = nil })
		s, err := f.c.GetSubID()
		require.NoError(t, err, "no randomness is needed for a stored value")
		assert.Equal(t, "kept-from-before", s)
	})
}

// ---- API keys ----

func TestAPIKey(t *testing.T) {
	for _, inHeader := range []bool{false, true} {
		name := map[bool]string{false: "key in body", true: "key in header"}[inHeader]
		t.Run(name, func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil, func(c *auth.Config) { c.Credentials = auth.APIKey{Key: aliceKey, InHeader: inHeader} })

			require.NoError(t, f.c.Login(ctx, auth.Options{}))
			assert.Equal(t, alice, f.c.User())
			assert.Equal(t, alice, f.seen.last(t))
			assert.Empty(t, cookies(t, f.tr, srv.URL), "a key call sets no cookie")

			require.NoError(t, checkOnly(f.c))
			assert.Equal(t, alice, f.c.User())

			p1, err := f.c.RTCReset(ctx, true)
			require.NoError(t, err)
			assert.NotEmpty(t, p1)
			p2, err := f.c.RTCReset(ctx, false)
			require.NoError(t, err)
			assert.Empty(t, p2)

			require.NoError(t, f.c.SetCompany(ctx, "acme"))
			assert.Equal(t, withCompany(alice, "acme"), f.c.User())

			require.NoError(t, f.c.Exit(ctx, auth.ExitOptions{}))
			assert.Nil(t, f.c.User())
			assert.Empty(t, cookies(t, f.tr, srv.URL))

			// a login with credentials uses them, not the key
			loginAs(t, f.c, "bob", "builder")
			assert.Equal(t, bob, f.c.User())
			assert.NotEmpty(t, cookies(t, f.tr, srv.URL)[wire.CookieName])
		})
		t.Run(name+", wrong key", func(t *testing.T) {
			srv := startPBX(t)
			f := newFixture(t, srv, nil, func(c *auth.Config) { c.Credentials = auth.APIKey{Key: "not-a-key", InHeader: inHeader} })

			_, err := f.c.RTCReset(ctx, true)
			assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err), "rtcreset: %v", err)
			err = f.c.SetCompany(ctx, "acme")
			assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err), "setCompany: %v", err)

			err = f.c.Login(ctx, auth.Options{})
			assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(err), "login with a wrong key: %v", err)
			assert.Nil(t, f.c.User())
			assert.Empty(t, cookies(t, f.tr, srv.URL))
		})
	}
}

func TestAPIKeyRefresh(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil, func(c *auth.Config) { c.Credentials = auth.APIKey{Key: aliceKey, InHeader: true} })
	require.NoError(t, f.c.Login(ctx, auth.Options{}))
	require.Equal(t, 1, f.clk.Pending())
	n := srv.count()
	f.clk.Advance(time.Hour)
	assert.Equal(t, n+1, srv.count(), "the refresh asked the server")
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, 1, f.clk.Pending())
}

// ---- hourly refresh ----

func TestRefreshSeesACompanyChange(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	require.Equal(t, 1, f.clk.Pending(), "a login starts the hourly refresh")

	other := newFixture(t, srv, f.tr)
	require.NoError(t, other.c.SetCompany(ctx, "acme"))
	assert.Equal(t, "default", f.c.User().Company, "not seen before the refresh")

	n := f.seen.len()
	f.clk.Advance(59 * time.Minute)
	assert.Equal(t, "default", f.c.User().Company, "nothing before the hour")
	assert.Equal(t, n, f.seen.len())

	f.clk.Advance(time.Minute)
	assert.Equal(t, withCompany(alice, "acme"), f.c.User())
	assert.Equal(t, withCompany(alice, "acme"), f.seen.last(t), "OnChange fired")
	assert.Equal(t, 1, f.clk.Pending(), "and the next refresh is scheduled")

	require.NoError(t, other.c.SetCompany(ctx, "default"))
	f.clk.Advance(time.Hour)
	assert.Equal(t, alice, f.c.User(), "every hour")
}

func TestRefreshUsesTheConfiguredInterval(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil, func(c *auth.Config) { c.RefreshInterval = 5 * time.Minute })
	loginAs(t, f.c, "alice", "wonderland")
	require.NoError(t, newFixture(t, srv, f.tr).c.SetCompany(ctx, "acme"))
	f.clk.Advance(5 * time.Minute)
	assert.Equal(t, "acme", f.c.User().Company)
}

func TestRefreshSeesALogout(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")

	require.NoError(t, newFixture(t, srv, f.tr).c.Logout(ctx))
	assert.Equal(t, alice, f.c.User(), "not seen before the refresh")

	f.clk.Advance(time.Hour)
	assert.Nil(t, f.c.User())
	assert.Nil(t, f.seen.last(t), "OnChange(nil)")
	assert.Zero(t, f.clk.Pending(), "no refresh without a login")
}

func TestRefreshKeepsTheUserWhenTheServerIsDown(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	n := f.seen.len()
	srv.Close()

	f.clk.Advance(time.Hour)
	assert.Equal(t, alice, f.c.User(), "the user is kept")
	assert.Equal(t, n, f.seen.len(), "OnChange was not called")
	assert.Equal(t, 1, f.clk.Pending(), "the refresh is tried again next interval")

	f.clk.Advance(time.Hour)
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, 1, f.clk.Pending())
}

func TestCloseStopsTheRefresh(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	require.Equal(t, 1, f.clk.Pending())

	f.c.Close()
	assert.Zero(t, f.clk.Pending())
	assert.Equal(t, alice, f.c.User(), "the login itself is left as it is")
	n := srv.count()
	f.clk.Advance(3 * time.Hour)
	assert.Equal(t, n, srv.count(), "no refresh after Close")
	f.c.Close() // twice is fine

	require.NoError(t, checkOnly(f.c), "the session is still valid")
	assert.Equal(t, 1, f.clk.Pending(), "a later login starts the refresh again")
}

func TestLogoutStopsTheRefresh(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	require.NoError(t, f.c.Logout(ctx))
	assert.Zero(t, f.clk.Pending())
	n := srv.count()
	f.clk.Advance(2 * time.Hour)
	assert.Equal(t, n, srv.count())
}

func TestLoginTwiceKeepsOneRefresh(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	loginAs(t, f.c, "bob", "builder")
	require.NoError(t, checkOnly(f.c))
	require.NoError(t, f.c.SetCompany(ctx, "default"))
	assert.Equal(t, 1, f.clk.Pending(), "every change of user replaces the refresh")
}

// gateTransport holds the exchange it is armed for after the server has
// answered, until released: a refresh that is in flight.
type gateTransport struct {
	auth.Transport
	mu               sync.Mutex
	armed            bool
	entered, release chan struct{}
}

func (g *gateTransport) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.entered, g.release = true, make(chan struct{}), make(chan struct{})
}

func (g *gateTransport) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	resp, err := g.Transport.Do(ctx, req)
	g.mu.Lock()
	armed, entered, release := g.armed, g.entered, g.release
	g.armed = false
	g.mu.Unlock()
	if armed {
		close(entered)
		<-release
	}
	return resp, err
}

// inFlightRefresh runs the refresh of f's client in the background, makes
// the calls of during while the refresh's reply is held, then lets the
// refresh finish and waits for the calls.
func inFlightRefresh(t *testing.T, clk *clock.Fake, g *gateTransport, during func() []*auth.Pending) {
	t.Helper()
	g.arm()
	done := make(chan struct{})
	go func() {
		defer close(done)
		clk.Advance(time.Hour)
	}()
	<-g.entered
	calls := during()
	close(g.release)
	<-done
	for _, p := range calls {
		_, err := p.Wait(ctx)
		require.NoError(t, err)
	}
}

func TestALogoutDuringARefreshHolds(t *testing.T) {
	srv := startPBX(t)
	tr := native.NewTransport()
	g := &gateTransport{Transport: tr}
	f := newFixture(t, srv, tr, func(c *auth.Config) { c.Transport = g })
	loginAs(t, f.c, "alice", "wonderland")

	inFlightRefresh(t, f.clk, g, func() []*auth.Pending {
		return []*auth.Pending{f.c.Start(ctx, auth.LogoutCall())}
	})
	assert.Nil(t, f.c.User(), "the refresh that read alice before the logout does not bring her back")
	assert.Nil(t, f.seen.last(t))
	assert.Zero(t, f.clk.Pending())
}

func TestALoginDuringARefreshHolds(t *testing.T) {
	srv := startPBX(t)
	tr := native.NewTransport()
	g := &gateTransport{Transport: tr}
	f := newFixture(t, srv, tr, func(c *auth.Config) { c.Transport = g })
	loginAs(t, f.c, "alice", "wonderland")

	inFlightRefresh(t, f.clk, g, func() []*auth.Pending {
		return []*auth.Pending{f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "bob", Password: "builder"}))}
	})
	assert.Equal(t, bob, f.c.User(), "the refresh (alice) came first, the login last")
	assert.Equal(t, bob, f.seen.last(t))
	assert.Equal(t, 1, f.clk.Pending())
}

// Close documents that it stops the hourly refresh. A refresh that is in
// flight when Close is called must not start it again.
func TestCloseDuringARefreshStopsIt(t *testing.T) {
	srv := startPBX(t)
	tr := native.NewTransport()
	g := &gateTransport{Transport: tr}
	f := newFixture(t, srv, tr, func(c *auth.Config) { c.Transport = g })
	loginAs(t, f.c, "alice", "wonderland")

	inFlightRefresh(t, f.clk, g, func() []*auth.Pending { f.c.Close(); return nil })
	assert.Zero(t, f.clk.Pending(), "Close during a refresh must stop the refresh for good")
	assert.Equal(t, alice, f.c.User())
	n := srv.count()
	f.clk.Advance(3 * time.Hour)
	assert.Equal(t, n, srv.count(), "no request after Close")
}

// ---- native end to end ----

func TestNativeClientEndToEnd(t *testing.T) {
	srv := startPBX(t)
	c, err := native.NewClient(srv.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	assert.Equal(t, srv.URL, c.Host())
	s, err := c.GetSubID()
	require.NoError(t, err, "NewClient configures a random source")
	assert.Len(t, s, 32)
	loginAs(t, c, "alice", "wonderland")
	assert.Equal(t, alice, c.User())
	require.NoError(t, c.SetCompany(ctx, "acme"))
	p, err := c.RTCReset(ctx, true)
	require.NoError(t, err)
	assert.NotEmpty(t, p)
	require.NoError(t, c.Exit(ctx, auth.ExitOptions{Logout: true}))
	assert.Nil(t, c.User())
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(c)))
}
