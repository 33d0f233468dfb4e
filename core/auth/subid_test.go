package auth_test

// Sub-IDs: one login per tab, against the local PBX.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
)

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
