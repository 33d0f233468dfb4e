package store

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/testclock"
)

// clock is a fake time source that tests move by hand.
type clock = testclock.Manual

// start is when the tests' clocks start.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newTokens returns a store of tokens on a fake clock at start.
func newTokens() (*Tokens, *clock) {
	c := testclock.NewManual(start)
	s := NewTokens()
	s.Now = c.Now
	return s, c
}

func TestTokenCreate(t *testing.T) {
	s, _ := newTokens()
	a := s.Create(101, wire.TokenRefreshable, "https://app.example")
	b := s.Create(101, "", "")
	assert.NotEqual(t, a.Value, b.Value)
	raw, err := base64.RawURLEncoding.DecodeString(a.Value)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
	assert.Equal(t, int64(101), a.UserID)
	assert.Equal(t, "https://app.example", a.Origin)
	assert.Equal(t, start, a.Created)

	got, ok := s.Get(a.Value)
	require.True(t, ok)
	assert.Equal(t, a, got)
	_, ok = s.Get("nope")
	assert.False(t, ok)
	assert.Equal(t, &wire.Token{Value: a.Value, Expires: start.Add(24 * time.Hour).UnixMilli()}, a.Wire())
}

func TestValidTokenClass(t *testing.T) {
	for _, c := range []string{"", "refreshable", "longLogin"} {
		assert.True(t, ValidTokenClass(c), c)
	}
	for _, c := range []string{"longlogin", "Refreshable", "forever", " "} {
		assert.False(t, ValidTokenClass(c), c)
	}
}

// TestTokenExpiry walks each class through uses (Use) and idle time; each step
// moves the clock and then uses the token, and the last step's use tells
// whether it lived.
func TestTokenExpiry(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name  string
		class string
		steps []time.Duration
		live  bool
	}{
		{"default fresh", "", []time.Duration{0}, true},
		{"default just under a day", "", []time.Duration{day - time.Millisecond}, true},
		{"default a day", "", []time.Duration{day}, false},
		{"default dies at a day despite use", "", []time.Duration{12 * time.Hour, 11 * time.Hour, time.Hour}, false},
		{"refreshable unused for a day", wire.TokenRefreshable, []time.Duration{day}, false},
		{"refreshable just under a day", wire.TokenRefreshable, []time.Duration{day - time.Millisecond}, true},
		{"a used refreshable token does not expire", wire.TokenRefreshable,
			[]time.Duration{23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour, 23 * time.Hour}, true},
		{"refreshable dies a day after its last use", wire.TokenRefreshable, []time.Duration{23 * time.Hour, day}, false},
		{"longLogin unused for six days", wire.TokenLongLogin, []time.Duration{6 * day}, true},
		{"longLogin unused for a week", wire.TokenLongLogin, []time.Duration{7 * day}, false},
		{"a used longLogin token does not expire", wire.TokenLongLogin,
			[]time.Duration{6 * day, 6 * day, 6 * day, 6 * day}, true},
		{"longLogin dies a week after its last use", wire.TokenLongLogin, []time.Duration{6 * day, 7 * day}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newTokens()
			tok := s.Create(1, tt.class, "")
			ok := false
			for _, d := range tt.steps {
				c.Add(d)
				_, ok = s.Use(tok.Value)
			}
			assert.Equal(t, tt.live, ok)
			if !tt.live {
				assert.Zero(t, s.Len(), "a dead token is dropped when looked up")
			}
		})
	}
}

// TestTokenGetIsNoUse: looking at a token (Get, Alive) does not keep it alive.
func TestTokenGetIsNoUse(t *testing.T) {
	s, c := newTokens()
	tok := s.Create(1, wire.TokenRefreshable, "")
	c.Add(23 * time.Hour)
	got, ok := s.Get(tok.Value)
	require.True(t, ok)
	assert.Equal(t, start, got.LastUsed)
	assert.True(t, s.Alive(tok.Value))
	c.Add(time.Hour)
	assert.False(t, s.Alive(tok.Value))
}

func TestTokenUseMovesExpiry(t *testing.T) {
	s, c := newTokens()
	tok := s.Create(1, wire.TokenLongLogin, "")
	c.Add(time.Hour)
	used, ok := s.Use(tok.Value)
	require.True(t, ok)
	assert.Equal(t, start.Add(time.Hour+LongLoginIdle), used.Expires())
	assert.Equal(t, start.Add(time.Hour+LongLoginIdle).UnixMilli(), used.Wire().Expires)

	fixed := s.Create(1, "", "")
	c.Add(time.Hour)
	used, _ = s.Use(fixed.Value)
	assert.Equal(t, start.Add(time.Hour+FixedLife), used.Expires(), "the default class counts from its creation")
}

func TestTokenRevoke(t *testing.T) {
	s, c := newTokens()
	tok := s.Create(1, "", "")
	assert.True(t, s.Revoke(tok.Value))
	assert.False(t, s.Alive(tok.Value))
	assert.False(t, s.Revoke(tok.Value), "twice is fine")
	assert.False(t, s.Revoke("nope"))

	dead := s.Create(1, "", "")
	c.Add(FixedLife)
	assert.False(t, s.Revoke(dead.Value), "a dead token was not alive")
	assert.Zero(t, s.Len())
}

func TestTokenSweep(t *testing.T) {
	s, c := newTokens()
	s.Create(1, "", "")
	s.Create(2, wire.TokenRefreshable, "")
	week := s.Create(3, wire.TokenLongLogin, "")
	c.Add(FixedLife)
	assert.Equal(t, 2, s.Sweep())
	assert.Equal(t, 1, s.Len())
	assert.True(t, s.Alive(week.Value))
}

// TestTokenSnapshotRestore: a new store takes what Snapshot returned, dead tokens
// (swept or not) dropped, and the live ones keep their times and bindings.
func TestTokenSnapshotRestore(t *testing.T) {
	s, c := newTokens()
	fixed := s.Create(1, "", "https://app.example")
	week := s.Create(2, wire.TokenLongLogin, "")
	dying := s.Create(3, wire.TokenRefreshable, "")
	c.Add(23 * time.Hour)
	week, _ = s.Use(week.Value)
	snap := s.Snapshot()
	assert.Len(t, snap, 3, "every token held")

	r, c2 := newTokens()
	c2.Add(c.Now().Add(2 * time.Hour).Sub(c2.Now())) // the restart took two hours
	assert.Equal(t, 1, r.Restore(snap), "the default token died at 24h, the refreshable one a day after its creation")
	got, ok := r.Get(week.Value)
	require.True(t, ok)
	assert.Equal(t, week, got)
	assert.False(t, r.Alive(fixed.Value))
	assert.False(t, r.Alive(dying.Value))
	assert.Equal(t, 1, r.Len())
	assert.Empty(t, NewTokens().Snapshot())
}

func TestCapPerUserKillsTheUsersOldest(t *testing.T) {
	s, c := newTokens()
	s.MaxPerUser = 2
	a := s.Create(101, "", "")
	c.Add(time.Second)
	b := s.Create(101, wire.TokenLongLogin, "")
	other := s.Create(102, "", "")
	d := s.Create(101, "", "")
	assert.False(t, s.Alive(a.Value), "alice's third token kills her first")
	for _, tok := range []Token{b, other, d} {
		assert.True(t, s.Alive(tok.Value))
	}
	assert.Equal(t, 2, s.Count(101))
	assert.Equal(t, 3, s.Len())
}

func TestCapInAllKillsTheOldest(t *testing.T) {
	s, _ := newTokens()
	s.MaxTokens = 2
	a := s.Create(101, "", "")
	b := s.Create(102, "", "")
	c := s.Create(103, "", "")
	assert.False(t, s.Alive(a.Value))
	assert.True(t, s.Alive(b.Value))
	assert.True(t, s.Alive(c.Value))
}

func TestLookupNeedsTheWholeValue(t *testing.T) {
	s, _ := newTokens()
	a := s.Create(101, "", "")
	for _, v := range []string{a.Value[:len(a.Value)-1], a.Value + "x", ""} {
		assert.False(t, s.Alive(v), "%q", v)
	}
	assert.True(t, s.Alive(a.Value))
}
