package auth_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
)

// tabHub is the page's BroadcastChannel in memory: what one tab announces,
// every other tab hears.
type tabHub struct {
	mu      sync.Mutex
	clients []*auth.Client
	heard   []string
}

type hubTab struct {
	hub  *tabHub
	self int
}

func (t hubTab) Announce(host string) {
	t.hub.mu.Lock()
	t.hub.heard = append(t.hub.heard, host)
	others := make([]*auth.Client, 0, len(t.hub.clients))
	for i, c := range t.hub.clients {
		if i != t.self {
			others = append(others, c)
		}
	}
	t.hub.mu.Unlock()
	for _, c := range others {
		c.TabChanged(host)
	}
}

// open is a new tab of the page: the origin's storage is shared.
func (h *tabHub) open(t *testing.T, srv *pbxServer, origin auth.Storage, mods ...func(*auth.Config)) *fixture {
	h.mu.Lock()
	self := len(h.clients)
	h.clients = append(h.clients, nil)
	h.mu.Unlock()
	f := pageLoad(t, srv, origin, append([]func(*auth.Config){func(c *auth.Config) { c.Tabs = hubTab{h, self} }}, mods...)...)
	h.mu.Lock()
	h.clients[self] = f.c
	h.mu.Unlock()
	return f
}

func (h *tabHub) announced() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.heard...)
}

func TestTabsFollowALoginAndALogoutElsewhere(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	hub := &tabHub{}
	a, b := hub.open(t, srv, origin), hub.open(t, srv, origin)

	loginAs(t, a.c, "alice", "wonderland")
	require.NoError(t, b.c.Sync(ctx))
	assert.Equal(t, alice, b.c.User(), "the other tab picked the login up, from the token the login saved")
	assert.Equal(t, []string{srv.URL}, hub.announced(), "only the tab whose call changed the login announces it")

	require.NoError(t, a.c.Logout(ctx))
	require.NoError(t, b.c.Sync(ctx))
	assert.Nil(t, b.c.User(), "the other tab followed the logout")
	assert.Nil(t, b.seen.last(t), "and told its page")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(b.c)), "the server agrees")

	require.NoError(t, a.c.Login(ctx, auth.Options{Username: "bob", Password: "builder"}))
	require.NoError(t, b.c.Sync(ctx))
	assert.Equal(t, bob, b.c.User(), "and a change of user")
}

func TestATabWithALoginOfItsOwnKeepsIt(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	hub := &tabHub{}
	a, b := hub.open(t, srv, origin), hub.open(t, srv, origin)
	_, err := b.c.GetSubID()
	require.NoError(t, err)
	loginAs(t, b.c, "bob", "builder")
	loginAs(t, a.c, "alice", "wonderland")
	require.NoError(t, b.c.Sync(ctx))
	assert.Equal(t, bob, b.c.User(), "a sub-ID's login is the tab's own")

	require.NoError(t, a.c.Logout(ctx))
	require.NoError(t, b.c.Sync(ctx))
	assert.Equal(t, bob, b.c.User(), "another tab's logout did not end it")
	require.NoError(t, checkOnly(b.c))
}

func TestNewsOfAnotherPBXIsIgnored(t *testing.T) {
	srv := startPBX(t)
	hub := &tabHub{}
	a := hub.open(t, srv, auth.NewMemoryStorage())
	loginAs(t, a.c, "alice", "wonderland")
	n := len(a.seen.all())
	a.c.TabChanged("https://other-pbx.example")
	a.c.TabChanged("")
	require.NoError(t, a.c.Sync(ctx))
	assert.Equal(t, alice, a.c.User())
	assert.Len(t, a.seen.all(), n, "nothing was checked again")
}

// A tab whose overlay waits for the person follows a login made in another
// tab, when that login saved a token (the default): the overlay closes and
// its login() settles as logged in. News that gives it no token (a logout,
// a login without a token) leaves the overlay up; a token the PBX refuses
// shows it again.
func TestAnOverlayClosesWhenAnotherTabLogsIn(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	hub := &tabHub{}
	pr := newWaitingPrompt()
	a := hub.open(t, srv, origin)
	b := hub.open(t, srv, origin, func(c *auth.Config) { c.Prompt = pr })
	overlay := showOverlay(t, b, pr)
	closed := func(what string) error {
		t.Helper()
		select {
		case err := <-pr.ended:
			return err
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not close the overlay", what)
			return nil
		}
	}
	stillUp := func(what string) {
		t.Helper()
		select { // the news was taken when the call that made it returned
		case err := <-pr.ended:
			t.Fatalf("%s closed the overlay (%v)", what, err)
		default:
		}
	}

	require.NoError(t, a.c.Login(ctx, auth.Options{Username: "bob", Password: "builder", NoToken: true}))
	stillUp("a login elsewhere that saved no token")
	require.NoError(t, a.c.Logout(ctx))
	stillUp("a logout elsewhere")

	require.NoError(t, (&auth.Sessions{Tokens: origin}).KeepToken(srv.URL, "", "", "not-a-token"))
	hubTab{hub, 0}.Announce(srv.URL)
	assert.Error(t, closed("a token saved elsewhere"))
	select {
	case <-pr.shown:
	case <-time.After(20 * time.Second):
		t.Fatal("the PBX refused the token, and the overlay was not shown again")
	}
	stillUp("a token the PBX refused")

	loginAs(t, a.c, "alice", "wonderland")
	require.NoError(t, settle(t, overlay), "the overlay's login settles as logged in")
	assert.Equal(t, alice, b.c.User())
	assert.Error(t, closed("a login elsewhere"), "the overlay was told to close")
	assert.Equal(t, alice, b.seen.last(t), "and the page was told")
}
