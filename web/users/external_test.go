package users

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/testclock"
)

// clock is a fake time source that tests move by hand.
type clock = testclock.Manual

func newExternals(t *testing.T) (*Externals, *clock) {
	t.Helper()
	c := testclock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	x := NewExternals(NewDirectory(Demo()))
	x.Now = c.Now
	return x, c
}

func TestExternalCreate(t *testing.T) {
	x, _ := newExternals(t)
	u := x.Create("Guest", "acme", true)
	assert.Regexp(t, regexp.MustCompile(`^ext-[0-9a-f]{32}$`), u.Login)
	assert.Greater(t, u.ID, int64(103), "above every id of the directory")
	assert.Equal(t, "Guest", u.Name)
	assert.Equal(t, "acme", u.Company)
	assert.Equal(t, "acme", u.Home)
	assert.Equal(t, map[string]string{"chat": "yes"}, u.Perms)
	assert.True(t, u.External)
	assert.Empty(t, u.Keys)

	v := x.Create("Guest", "acme", true)
	assert.NotEqual(t, u.ID, v.ID)
	assert.NotEqual(t, u.Login, v.Login)
	got, ok := x.ByID(u.ID)
	require.True(t, ok)
	assert.Same(t, u, got)
	assert.True(t, x.Has(u.Login))
	assert.False(t, x.Has("alice"), "directory users are not external")
	assert.Equal(t, 2, x.Len())
}

func TestExternalAuthenticate(t *testing.T) {
	x, _ := newExternals(t)
	u := x.Create("Guest", "default", true)
	got, err := x.Authenticate(u.Login, "anything")
	require.NoError(t, err)
	assert.Same(t, u, got)
	for _, pw := range []string{"", "  ", strings.Repeat("x", MaxPasswordLen+1)} {
		_, err = x.Authenticate(u.Login, pw)
		assert.ErrorIs(t, err, ErrAuthFailed, "%q", pw)
	}
	_, err = x.Authenticate("ext-nobody", "x")
	assert.ErrorIs(t, err, ErrAuthFailed)
}

// TestExternalSingleUse: once a session has begun and ended, the user may
// not log in again; while it lasts, it may (a token login from another tab).
func TestExternalSingleUse(t *testing.T) {
	x, c := newExternals(t)
	u := x.Create("Guest", "default", false)
	x.End(u.ID) // no session yet: nothing to end
	require.NoError(t, x.Begin(u.ID))
	require.NoError(t, x.Begin(u.ID), "a second session while the first lasts")
	x.End(u.ID)
	_, err := x.Authenticate(u.Login, "x")
	assert.ErrorIs(t, err, ErrUsedUp)
	assert.ErrorIs(t, x.Begin(u.ID), ErrUsedUp)

	c.Add(24 * time.Hour)
	_, ok := x.ByID(u.ID)
	assert.True(t, ok, "without autodelete a used-up user stays, and stays used up")
	_, err = x.Authenticate(u.Login, "x")
	assert.ErrorIs(t, err, ErrUsedUp)
}

func TestExternalDeletion(t *testing.T) {
	t.Run("unused for 15 minutes", func(t *testing.T) {
		x, c := newExternals(t)
		u := x.Create("Guest", "default", false)
		c.Add(ExternalUnusedLife - time.Second)
		assert.True(t, x.Has(u.Login))
		c.Add(time.Second)
		assert.False(t, x.Has(u.Login))
		_, err := x.Authenticate(u.Login, "x")
		assert.ErrorIs(t, err, ErrAuthFailed)
		assert.ErrorIs(t, x.Begin(u.ID), ErrAuthFailed)
		assert.Zero(t, x.Len())
	})
	t.Run("used within 15 minutes", func(t *testing.T) {
		x, c := newExternals(t)
		u := x.Create("Guest", "default", true)
		c.Add(ExternalUnusedLife - time.Second)
		require.NoError(t, x.Begin(u.ID))
		c.Add(time.Hour)
		_, ok := x.ByID(u.ID)
		assert.True(t, ok, "a user in a session is kept")
	})
	t.Run("a minute after its session ends, with autodelete", func(t *testing.T) {
		x, c := newExternals(t)
		u := x.Create("Guest", "default", true)
		require.NoError(t, x.Begin(u.ID))
		c.Add(time.Hour)
		x.End(u.ID)
		c.Add(ExternalAfterEnd - time.Second)
		x.End(u.ID) // a second session ending does not postpone it
		_, ok := x.ByID(u.ID)
		assert.True(t, ok)
		c.Add(time.Second)
		_, ok = x.ByID(u.ID)
		assert.False(t, ok)
	})
}

func TestExternalSweep(t *testing.T) {
	x, c := newExternals(t)
	x.Create("Unused", "default", true)
	kept := x.Create("In a session", "default", true)
	require.NoError(t, x.Begin(kept.ID))
	c.Add(ExternalUnusedLife)
	assert.Equal(t, 1, x.Sweep())
	assert.Equal(t, 1, x.Len())
	x.End(kept.ID)
	c.Add(ExternalAfterEnd)
	assert.Equal(t, 1, x.Sweep())
	assert.Zero(t, x.Len())
}

func TestExternalConcurrentUse(t *testing.T) {
	x, c := newExternals(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			u := x.Create("Guest", "default", true)
			for range 50 {
				x.Authenticate(u.Login, "x")
				x.Begin(u.ID)
				c.Add(time.Second)
				x.Sweep()
			}
			x.End(u.ID)
		})
	}
	wg.Wait()
	c.Add(ExternalAfterEnd)
	x.Sweep()
	assert.Zero(t, x.Len())
}

func TestDirectoryLookups(t *testing.T) {
	d := NewDirectory(Demo())
	assert.Equal(t, int64(103), d.MaxID())
	assert.Zero(t, NewDirectory(nil).MaxID())
	u, ok := d.ByLogin("bob")
	require.True(t, ok)
	assert.Equal(t, int64(102), u.ID)
	_, ok = d.ByLogin("mallory")
	assert.False(t, ok)
}

// TestExternalSnapshotRestore: a new store takes what Snapshot returned,
// each user in the state it was in; those whose time has come, or whose id
// or login the directory now has, are dropped, and new ids stay above every
// id given before.
func TestExternalSnapshotRestore(t *testing.T) {
	x, c := newExternals(t)
	unused := x.Create("Unused", "acme", true)
	active := x.Create("Active", "default", false)
	require.NoError(t, x.Begin(active.ID))
	done := x.Create("Done", "default", true)
	require.NoError(t, x.Begin(done.ID))
	x.End(done.ID)
	gone := x.Create("Gone", "default", true)
	require.NoError(t, x.Begin(gone.ID))
	x.End(gone.ID)
	last := x.Create("Last", "default", true)
	c.Add(ExternalAfterEnd)
	assert.False(t, x.Has(gone.Login), "deleted a minute after its end")
	snap := x.Snapshot()
	assert.Equal(t, last.ID, snap.LastID)
	assert.Len(t, snap.Users, 4)

	r, c2 := newExternals(t)
	c2.Add(c.Now().Add(ExternalUnusedLife - ExternalAfterEnd - time.Second).Sub(c2.Now()))
	assert.Equal(t, 3, r.Restore(snap), "done is gone: a minute after its end")
	got, ok := r.ByID(unused.ID)
	require.True(t, ok)
	assert.Equal(t, unused, got)
	assert.NoError(t, r.Begin(active.ID))
	_, err := r.Authenticate(active.Login, "x")
	assert.NoError(t, err)
	assert.False(t, r.Has(done.Login))
	assert.Greater(t, r.Create("New", "default", true).ID, last.ID, "an id is never given twice")
	c2.Add(time.Second)
	assert.False(t, r.Has(unused.Login), "still deleted 15 minutes after its creation")

	// A directory that now has the id or the login of an external user wins.
	dir := NewDirectory([]*User{{ID: active.ID, Login: "new-user"}, {ID: 1, Login: last.Login}})
	y := NewExternals(dir)
	y.Now = c2.Now
	assert.Zero(t, y.Restore(SavedExternals{Users: []SavedExternal{
		{ID: active.ID, Login: active.Login, Name: "Active", Company: "default"},
		{ID: last.ID, Login: last.Login, Name: "Last", Company: "default"},
	}}))
	assert.Zero(t, y.Len())
}
