package auth_test

// Logging in, checking a login, and API keys, against the local PBX.

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

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

// TestDebugOnlyWhileDebugging: Debug hears each step (never the password)
// while Debugging reports true, and nothing while it reports false.
func TestDebugOnlyWhileDebugging(t *testing.T) {
	srv := startPBX(t)
	var mu sync.Mutex
	var steps []string
	on := false
	f := newFixture(t, srv, nil, func(c *auth.Config) {
		c.Debug = func(msg string) { mu.Lock(); steps = append(steps, msg); mu.Unlock() }
		c.Debugging = func() bool { mu.Lock(); defer mu.Unlock(); return on }
	})
	loginAs(t, f.c, "alice", "wonderland")
	mu.Lock()
	assert.Empty(t, steps, "no message while Debugging reports false")
	on = true
	mu.Unlock()
	require.NoError(t, f.c.Logout(ctx))
	mu.Lock()
	defer mu.Unlock()
	joined := strings.Join(steps, "\n")
	assert.Contains(t, joined, "logout")
	assert.Contains(t, joined, "/rest/auth/")
	assert.NotContains(t, joined, "wonderland")
}
