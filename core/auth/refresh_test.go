package auth_test

// The hourly refresh of the user's properties, on the fake clock.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/clock"
	"github.com/pbxauth/pbxauth/core/native"
)

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
