package auth_test

// Logout, exit, company selection and the phone password, against the local PBX.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
)

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
