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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/auth"
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
