package auth_test

import (
	"sync"
	"testing"

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
func (h *tabHub) open(t *testing.T, srv *pbxServer, origin auth.Storage) *fixture {
	h.mu.Lock()
	self := len(h.clients)
	h.clients = append(h.clients, nil)
	h.mu.Unlock()
	f := pageLoad(t, srv, origin, func(c *auth.Config) { c.Tabs = hubTab{h, self} })
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
