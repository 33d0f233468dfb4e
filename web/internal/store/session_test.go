package store

import (
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/testclock"
)

// newSessions returns a store of sessions and one of tokens on a fake clock
// at start.
func newSessions() (*Sessions, *clock) {
	c := testclock.NewManual(start)
	s := NewSessions()
	s.Now = c.Now
	s.Tokens = NewTokens()
	s.Tokens.Now = c.Now
	return s, c
}

func TestSessionCreateGet(t *testing.T) {
	s, _ := newSessions()
	a := s.Create(101, "default", "")
	b := s.Create(101, "default", "tab1")
	assert.NotEqual(t, a.ID, b.ID)
	raw, err := base64.RawURLEncoding.DecodeString(a.ID)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
	assert.True(t, a.ChatOnline)
	assert.NotEmpty(t, a.PhonePassword)
	assert.NotEqual(t, a.PhonePassword, b.PhonePassword)

	got, ok := s.Get(b.ID)
	require.True(t, ok)
	assert.Equal(t, b, got)
	assert.Equal(t, "tab1", got.SubID)

	_, ok = s.Get("nope")
	assert.False(t, ok)
}

func TestSessionChanges(t *testing.T) {
	s, _ := newSessions()
	a := s.Create(101, "default", "")

	got, ok := s.SelectCompany(a.ID, "acme")
	require.True(t, ok)
	assert.Equal(t, "acme", got.Company)

	got, ok = s.Cleanup(a.ID)
	require.True(t, ok)
	assert.False(t, got.ChatOnline)
	assert.Empty(t, got.PhonePassword)

	got, ok = s.ResetPhonePassword(a.ID)
	require.True(t, ok)
	assert.NotEmpty(t, got.PhonePassword)
	again, _ := s.ResetPhonePassword(a.ID)
	assert.NotEqual(t, got.PhonePassword, again.PhonePassword)

	got, _ = s.Get(a.ID)
	assert.Equal(t, "acme", got.Company, "the session keeps its changes")

	_, ok = s.Cleanup("nope")
	assert.False(t, ok)
}

func TestSessionDelete(t *testing.T) {
	s, _ := newSessions()
	a := s.Create(101, "default", "")
	s.Delete(a.ID)
	_, ok := s.Get(a.ID)
	assert.False(t, ok)
	s.Delete(a.ID) // twice is fine
	assert.Equal(t, 0, s.Len())
}

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // each step is followed by a Get
		live  bool
	}{
		{"fresh", []time.Duration{0}, true},
		{"just under idle", []time.Duration{DefaultIdleTimeout - time.Second}, true},
		{"idle", []time.Duration{DefaultIdleTimeout}, false},
		{"use keeps it alive", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour}, true},
		{"max age despite use", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour, 3 * time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newSessions()
			a := s.Create(1, "c", "")
			ok := false
			for _, d := range tt.steps {
				c.Add(d)
				_, ok = s.Get(a.ID)
			}
			assert.Equal(t, tt.live, ok)
			if !tt.live {
				assert.Equal(t, 0, s.Len(), "an expired session is dropped when looked up")
			}
		})
	}
}

func TestSessionSweep(t *testing.T) {
	s, c := newSessions()
	old := s.Create(1, "c", "")
	c.Add(5 * time.Hour)
	young := s.Create(2, "c", "")
	c.Add(4 * time.Hour)

	assert.Equal(t, 1, s.Sweep())
	assert.Equal(t, 1, s.Len())
	_, ok := s.Get(old.ID)
	assert.False(t, ok)
	_, ok = s.Get(young.ID)
	assert.True(t, ok)
}

// TestConcurrentUse: sessions, with and without a token, and their tokens,
// used, swept and ended from goroutines at once (run it with -race); a
// lookup of a session made from a token takes the token store's lock under
// its own.
func TestConcurrentUse(t *testing.T) {
	s, c := newSessions()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tok := s.Tokens.Create(int64(i), wire.TokenRefreshable, "")
			a := s.CreateFromToken(tok.Value, int64(i), "c", "")
			b := s.Create(int64(i), "c", "")
			for range 100 {
				s.Get(a.ID)
				s.ResetPhonePassword(b.ID)
				s.Tokens.Use(tok.Value)
				s.Tokens.Get(tok.Value)
				c.Add(time.Second)
				s.Sweep()
				s.Tokens.Sweep()
			}
			s.Delete(a.ID)
			s.Delete(b.ID)
			s.Tokens.Revoke(tok.Value)
		})
	}
	wg.Wait()
	assert.Zero(t, s.Len())
	assert.Zero(t, s.Tokens.Len())
}

// TestTokenBound: a session made from a token lives no longer than the
// token, and its uses keep a refreshable token alive.
func TestTokenBound(t *testing.T) {
	t.Run("dies with its token", func(t *testing.T) {
		s, c := newSessions()
		tok := s.Tokens.Create(1, "", "")
		a := s.CreateFromToken(tok.Value, 1, "c", "")
		assert.Equal(t, tok.Value, a.Token)
		for range 3 { // used every 7 hours: the session itself would live 24 hours
			c.Add(7 * time.Hour)
			_, ok := s.Get(a.ID)
			require.True(t, ok)
		}
		s.Tokens.Revoke(tok.Value)
		_, ok := s.Get(a.ID)
		assert.False(t, ok, "the token is gone, so is the session")
		assert.Zero(t, s.Len())
	})
	t.Run("its use is the token's", func(t *testing.T) {
		s, c := newSessions()
		tok := s.Tokens.Create(1, wire.TokenRefreshable, "")
		a := s.CreateFromToken(tok.Value, 1, "c", "")
		c.Add(7 * time.Hour)
		_, ok := s.ResetPhonePassword(a.ID)
		require.True(t, ok)
		got, ok := s.Tokens.Get(tok.Value)
		require.True(t, ok)
		assert.Equal(t, c.Now(), got.LastUsed, "a call of the session used the token")
	})
	t.Run("the session's own limits stand", func(t *testing.T) {
		s, c := newSessions()
		tok := s.Tokens.Create(1, wire.TokenLongLogin, "")
		a := s.CreateFromToken(tok.Value, 1, "c", "")
		c.Add(DefaultIdleTimeout)
		_, ok := s.Get(a.ID)
		assert.False(t, ok)
		assert.True(t, s.Tokens.Alive(tok.Value), "the token outlives the session")
	})
	t.Run("no token store", func(t *testing.T) {
		s, _ := newSessions()
		s.Tokens = nil
		a := s.CreateFromToken("some-token", 1, "c", "")
		_, ok := s.Get(a.ID)
		assert.False(t, ok, "a token nobody can vouch for is dead")
		b := s.Create(1, "c", "")
		_, ok = s.Get(b.ID)
		assert.True(t, ok, "sessions without tokens do not need the store")
	})
}

func TestDeleteByToken(t *testing.T) {
	s, _ := newSessions()
	tok := s.Tokens.Create(1, "", "")
	a := s.CreateFromToken(tok.Value, 1, "c", "")
	b := s.CreateFromToken(tok.Value, 1, "c", "tab1")
	other := s.Create(1, "c", "")
	assert.Equal(t, 2, s.DeleteByToken(tok.Value))
	for _, id := range []string{a.ID, b.ID} {
		_, ok := s.Get(id)
		assert.False(t, ok)
	}
	_, ok := s.Get(other.ID)
	assert.True(t, ok)
	assert.Zero(t, s.DeleteByToken(""), "sessions without a token are not one token's")
	assert.Equal(t, 1, s.Len())
}

func TestSweepDeadTokens(t *testing.T) {
	s, c := newSessions()
	tok := s.Tokens.Create(1, wire.TokenRefreshable, "")
	a := s.CreateFromToken(tok.Value, 1, "c", "")
	c.Add(time.Hour)
	assert.Zero(t, s.Sweep())
	got, _ := s.Tokens.Get(tok.Value)
	assert.NotEqual(t, c.Now(), got.LastUsed, "sweeping is no use")
	s.Tokens.Revoke(tok.Value)
	assert.Equal(t, 1, s.Sweep())
	_, ok := s.Get(a.ID)
	assert.False(t, ok)
}

// TestSessionOnEnd: every way a session ends is reported once.
func TestSessionOnEnd(t *testing.T) {
	s, c := newSessions()
	var mu sync.Mutex
	var ended []string
	s.OnEnd = func(ss Session) {
		mu.Lock()
		defer mu.Unlock()
		ended = append(ended, ss.SubID)
	}
	deleted := s.Create(1, "c", "deleted")
	s.Delete(deleted.ID)
	s.Delete(deleted.ID)

	tok := s.Tokens.Create(1, "", "")
	s.CreateFromToken(tok.Value, 1, "c", "revoked")
	s.DeleteByToken(tok.Value)

	idle := s.Create(1, "c", "idle")
	s.Create(1, "c", "swept")
	c.Add(DefaultIdleTimeout)
	s.Get(idle.ID)
	s.Sweep()

	tok = s.Tokens.Create(1, "", "")
	died := s.CreateFromToken(tok.Value, 1, "c", "token died")
	s.Tokens.Revoke(tok.Value)
	s.Get(died.ID)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"deleted", "revoked", "idle", "swept", "token died"}, ended)
}

// TestSessionPeek: a look is no use of the session nor of its token, and a look
// at an ended session ends it as Get would.
func TestSessionPeek(t *testing.T) {
	s, c := newSessions()
	var ended []string
	s.OnEnd = func(ss Session) { ended = append(ended, ss.SubID) }
	tok := s.Tokens.Create(1, wire.TokenRefreshable, "")
	a := s.CreateFromToken(tok.Value, 1, "c", "peeked")

	c.Add(time.Hour)
	got, ok := s.Peek(a.ID)
	require.True(t, ok)
	assert.Equal(t, a, got, "unchanged: LastUsed is the creation")
	tk, ok := s.Tokens.Get(tok.Value)
	require.True(t, ok)
	assert.Equal(t, a.Created, tk.LastUsed, "nor is the token used")

	for range 6 { // a look every hour, up to 7 hours
		c.Add(time.Hour)
		_, ok = s.Peek(a.ID)
		require.True(t, ok)
	}
	c.Add(time.Hour)
	_, ok = s.Peek(a.ID)
	assert.False(t, ok, "8 hours of looks are 8 hours idle")
	assert.Zero(t, s.Len())
	assert.Equal(t, []string{"peeked"}, ended)

	b := s.CreateFromToken(tok.Value, 1, "c", "token")
	s.Tokens.Revoke(tok.Value)
	_, ok = s.Peek(b.ID)
	assert.False(t, ok, "its token died")
	assert.Equal(t, []string{"peeked", "token"}, ended)

	_, ok = s.Peek("nope")
	assert.False(t, ok)
}

// TestSessionSnapshotRestore: a new store takes what Snapshot returned; the
// sessions that have expired, or whose token is not alive, are dropped and
// OnEnd hears of them.
func TestSessionSnapshotRestore(t *testing.T) {
	s, c := newSessions()
	tok := s.Tokens.Create(101, wire.TokenRefreshable, "")
	fromToken := s.CreateFromToken(tok.Value, 101, "acme", "tab1")
	orphan := s.CreateFromToken("gone", 102, "default", "") // its token is not restored
	idle := s.Create(103, "default", "")
	c.Add(2 * time.Hour)
	fromToken, ok := s.Cleanup(fromToken.ID)
	require.True(t, ok)
	plain := s.Create(101, "default", "")
	snap := s.Snapshot()
	assert.Len(t, snap, 4)

	r, c2 := newSessions()
	c2.Add(c.Now().Add(DefaultIdleTimeout - time.Hour).Sub(c2.Now()))
	var ended []string
	r.OnEnd = func(ss Session) { ended = append(ended, ss.ID) }
	r.Tokens.Restore(s.Tokens.Snapshot())
	assert.Equal(t, 2, r.Restore(snap))
	assert.ElementsMatch(t, []string{orphan.ID, idle.ID}, ended, "idle for 8 hours, and a session without its token")
	got, ok := r.Peek(fromToken.ID)
	require.True(t, ok)
	assert.Equal(t, fromToken, got, "every field kept, the clean-up's too")
	got, ok = r.Get(plain.ID)
	require.True(t, ok)
	assert.Equal(t, c2.Now(), got.LastUsed)
	assert.Equal(t, 2, r.Len())
}

func TestCapPerUserEndsTheUsersOldest(t *testing.T) {
	s, c := newSessions()
	s.MaxPerUser = 3
	var ended []Session
	s.OnEnd = func(ss Session) { ended = append(ended, ss) }
	var alice []Session
	for range 3 {
		alice = append(alice, s.Create(101, "default", ""))
		c.Add(time.Second)
	}
	bob := s.Create(102, "default", "")
	require.Empty(t, ended)

	alice = append(alice, s.Create(101, "default", "tab"))
	require.Len(t, ended, 1, "the fourth session of alice ends her first")
	assert.Equal(t, alice[0].ID, ended[0].ID)
	_, ok := s.Get(alice[0].ID)
	assert.False(t, ok)
	for _, ss := range append(alice[1:], bob) {
		_, ok := s.Get(ss.ID)
		assert.True(t, ok, "the others stay")
	}
	assert.Equal(t, 3, s.Count(101))
	assert.Equal(t, 1, s.Count(102))

	// Oldest by creation, not by use: the first of alice's is used, and
	// still goes first.
	_, ok = s.Get(alice[1].ID)
	require.True(t, ok)
	s.Create(101, "default", "")
	require.Len(t, ended, 2)
	assert.Equal(t, alice[1].ID, ended[1].ID)
}

func TestCapInAllEndsTheOldest(t *testing.T) {
	s, _ := newSessions()
	s.MaxSessions = 2
	var ended []string
	s.OnEnd = func(ss Session) { ended = append(ended, ss.ID) }
	a := s.Create(101, "default", "")
	b := s.Create(102, "default", "")
	c := s.Create(103, "default", "")
	assert.Equal(t, []string{a.ID}, ended)
	assert.Equal(t, 2, s.Len())
	for _, ss := range []Session{b, c} {
		_, ok := s.Get(ss.ID)
		assert.True(t, ok)
	}
}

func TestSessionRestoreKeepsTheCaps(t *testing.T) {
	s, _ := newSessions()
	var list []Session
	for range 5 {
		list = append(list, s.Create(101, "default", ""))
	}
	r, _ := newSessions()
	r.Now = s.Now
	r.MaxPerUser = 2
	var ended []string
	r.OnEnd = func(ss Session) { ended = append(ended, ss.ID) }
	assert.Equal(t, 2, r.Restore(list))
	assert.Equal(t, []string{list[0].ID, list[1].ID, list[2].ID}, ended)
	assert.Equal(t, 2, r.Len())
}

// A session is found only by its whole id: the store keys them by digest,
// and neither a prefix nor a case variant finds one.
func TestLookupNeedsTheWholeID(t *testing.T) {
	s, _ := newSessions()
	a := s.Create(101, "default", "")
	for _, id := range []string{a.ID[:len(a.ID)-1], a.ID + "x", "", strings.ToUpper(a.ID)} {
		if id == a.ID {
			continue
		}
		_, ok := s.Peek(id)
		assert.False(t, ok, "%q", id)
	}
	_, ok := s.Peek(a.ID)
	assert.True(t, ok)
}
