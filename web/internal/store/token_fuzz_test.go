package store

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// stateTime maps a fuzzed number to a time a state file can hold (RFC 3339:
// the years 0000 to 9999), at millisecond precision or finer.
func stateTime(n int64) time.Time {
	const span = 9990 * 365 * 24 * int64(time.Hour/time.Millisecond) // about 9990 years, in ms
	ms := n % span
	if ms < 0 {
		ms += span
	}
	return time.UnixMilli(ms - 62135596800000).UTC() // from 0001-01-01
}

// FuzzTokens checks the token store against tokens as a state file gives
// them, whatever their value, class, origin and times: a token that
// Restore keeps is alive and found by its value alone (not by another
// value, not after its revocation), its expiry in a reply is after now and
// is Expires in milliseconds, a use makes a refreshable or longLogin token
// live a day or a week from now, what Restore reports kept is what the
// store holds, and a Snapshot, through JSON, restores to the same.
func FuzzTokens(f *testing.F) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixMilli() + 62135596800000
	f.Add("t0k", int64(1), "", "https://app.example", now-1000, now-1000, "t0k2", "other")
	f.Add("t0k", int64(1), wire.TokenRefreshable, "", now-int64(48*time.Hour/time.Millisecond), now-1, "t0k", "")
	f.Add("t0k", int64(-1), wire.TokenLongLogin, "\x00", int64(0), int64(1)<<62, "T0K", "t0k ")
	f.Add("\xff\x00", int64(1)<<62, "Refreshable", "é", now, now, "\xff", "\xff\x00")
	f.Add("a", int64(0), "longlogin", "", now+1000, now-1000, "a", "a")
	f.Fuzz(func(t *testing.T, value string, userID int64, class, origin string, created, lastUsed int64, other, probe string) {
		if value == "" || !utf8.ValidString(value) || !utf8.ValidString(other) {
			return // the state file refuses a token without a value; it holds only UTF-8, as JSON
		}
		clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		tok := Token{Value: value, UserID: userID, Class: class, Origin: origin, Created: stateTime(created), LastUsed: stateTime(lastUsed)}
		twin := tok
		twin.Value = other
		if other == "" {
			twin.Value = value // the same value twice
		}

		// Through JSON, as the state file carries them.
		data, err := json.Marshal([]Token{tok, twin})
		require.NoError(t, err)
		var list []Token
		require.NoError(t, json.Unmarshal(data, &list))
		tok, twin = list[0], list[1] // an origin that is not UTF-8 comes back with U+FFFD

		s := NewTokens()
		s.Now = func() time.Time { return clock }
		kept := s.Restore(list)
		assert.Equal(t, s.Len(), kept, "Restore reports %d kept of %d, and the store holds %d", kept, len(list), s.Len())
		alive := clock.Before(tok.Expires())
		got, ok := s.Get(value)
		require.Equal(t, alive || twin.Value == value && clock.Before(twin.Expires()), ok, "expires %v, now %v", tok.Expires(), clock)
		if !ok {
			return
		}
		if twin.Value == value {
			tok = twin // the later one replaces the first
		}
		assert.Equal(t, tok.Value, got.Value)
		assert.Equal(t, tok.UserID, got.UserID)
		assert.Equal(t, tok.Origin, got.Origin)
		w := got.Wire()
		assert.Equal(t, value, w.Value)
		assert.Equal(t, got.Expires().UnixMilli(), w.Expires)
		assert.Greater(t, w.Expires, clock.UnixMilli()-1)
		if probe != value && probe != twin.Value {
			_, found := s.Get(probe)
			assert.False(t, found, "%q found by %q", value, probe)
			assert.False(t, s.Revoke(probe))
			assert.True(t, s.Alive(value))
		}

		// Snapshot, JSON, Restore: the same tokens.
		data, err = json.Marshal(s.Snapshot())
		require.NoError(t, err)
		var saved []Token
		require.NoError(t, json.Unmarshal(data, &saved))
		s2 := NewTokens()
		s2.Now = s.Now
		assert.Equal(t, s.Len(), s2.Restore(saved))
		again, ok := s2.Get(value)
		require.True(t, ok)
		assert.True(t, got.Created.Equal(again.Created) && got.LastUsed.Equal(again.LastUsed))

		// A use, an hour later.
		clock = clock.Add(time.Hour)
		used, ok := s.Use(value)
		if !ok {
			assert.False(t, clock.Before(got.Expires()), "a live token died")
			return
		}
		switch class {
		case wire.TokenRefreshable:
			assert.Equal(t, clock.Add(RefreshableIdle), used.Expires())
		case wire.TokenLongLogin:
			assert.Equal(t, clock.Add(LongLoginIdle), used.Expires())
		default:
			assert.False(t, ValidTokenClass(class) && class != "", "%q", class)
			assert.Equal(t, tok.Created.Add(FixedLife), used.Expires())
		}
		assert.True(t, s.Revoke(value))
		assert.False(t, s.Alive(value))
		_, ok = s.Get(value)
		assert.False(t, ok)
	})
}

// TestTokensRestoreCountsTwice: Restore counts a value given twice once, as the
// store keeps it once (the later one), so that LoadState's log reports what
// was restored and dropped.
func TestTokensRestoreCountsTwice(t *testing.T) {
	s := NewTokens()
	now := s.Now()
	tok := Token{Value: "v", Created: now, LastUsed: now}
	assert.Equal(t, 1, s.Restore([]Token{tok, tok}))
	assert.Equal(t, 1, s.Len())
}
