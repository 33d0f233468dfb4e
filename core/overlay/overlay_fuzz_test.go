package overlay

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
)

// FuzzParse feeds Frame.Parse (and ParseOptions, Origin) any origin, source
// and data, and checks that whatever it accepts keeps the package's rules:
// the PBX's exact origin and the frame's window, at most MaxMessage bytes,
// a known kind with only its own fields, a session and a token of the
// allowed shape, a text clipped at a character; that encoding/json reads
// the same values from it; that Encode and Parse round-trip it. Refusals
// are ErrOrigin or ErrWindow exactly when the origin or source is wrong.
func FuzzParse(f *testing.F) {
	for _, s := range []struct {
		origin    string
		fromFrame bool
		data      string
	}{
		{pbx, true, `{"pbxauth":"ready"}`},
		{pbx, true, `{"pbxauth":"close"}`},
		{pbx, true, `{"pbxauth":"result","session":"S1","token":{"value":"T1","expires":1767225600000}}`},
		{pbx, true, `{"pbxauth":"result","session":"S1","token":null}`},
		{pbx, true, `{"pbxauth":"result","session":"` + strings.Repeat("<", 1024) + `","token":{"value":"` + strings.Repeat(`\"`, 512) + `","expires":1}}`},
		{pbx, true, `{"pbxauth":"failed","code":"auth_failed","message":"wrong username or password, 3 times"}`},
		{pbx, true, `{"pbxauth":"failed","code":"auth_failed","message":"` + strings.Repeat("é\n", 80) + `"}`},
		{pbx, true, `{"pbxauth":"result","session":"a","session":"b"}`},
		{pbx, true, `{"pbxauth":"result","Session":"S"}`},
		{pbx, true, `{"pbxauth":"result","session":"S","token":{"value":"a b","expires":1.5}}`},
		{pbx, true, `{"pbxauth":"options","subid":"tab1","notoken":true,"application":"longLogin","origin":"https://app.example"}`},
		{pbx, true, `{"pbxauth":"options","origin":"https://app.example:443"}`},
		{pbx, false, `{"pbxauth":"ready"}`},
		{pbx + "/", true, `{"pbxauth":"ready"}`},
		{"https://PBX.example:8443", true, `{"pbxauth":"ready"}`},
		{"null", true, `{"pbxauth":"ready"}`},
		{"http://[::1]:80", true, `"ready"`},
		{pbx, true, `{"pbxauth":"ready","x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`},
	} {
		f.Add(s.origin, s.fromFrame, s.data)
	}
	fr, err := NewFrame(pbx)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, origin string, fromFrame bool, data string) {
		m, err := fr.Parse(origin, fromFrame, data)
		foreign := origin != fr.Origin() || !fromFrame
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "overlay: "), err.Error())
			assert.Equal(t, foreign, err == ErrOrigin || err == ErrWindow, err.Error())
			assert.LessOrEqual(t, len(err.Error()), 400, "an error as long as its input")
			switch m.Kind {
			case "":
			case KindReady, KindResult, KindFailed, KindClose:
				assert.False(t, foreign)
				assert.NotEqual(t, ErrKind, err)
				assert.Equal(t, Message{Kind: m.Kind}, m)
			default:
				t.Fatalf("kind %q with %v", m.Kind, err)
			}
		} else {
			require.False(t, foreign, "accepted from %q (window %v)", origin, fromFrame)
			checkMessage(t, m, data)
			enc := m.Encode()
			assert.LessOrEqual(t, len(enc), MaxMessage)
			again, err := fr.Parse(fr.Origin(), true, enc)
			require.NoError(t, err, enc)
			assert.Equal(t, m, again, enc)
		}

		if o, err := ParseOptions(data); err == nil {
			require.LessOrEqual(t, len(data), MaxMessage)
			require.NoError(t, o.Check())
			var std map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &std), data)
			assert.Equal(t, string(KindOptions), std[KindKey])
			again, err := ParseOptions(o.Encode())
			require.NoError(t, err, o.Encode())
			assert.Equal(t, o, again)
		}

		// Any strings as a message's fields: the encoding parses back to
		// the same message exactly when they have the allowed shape.
		exp := time.UnixMilli(int64(len(data)) * 1e9)
		result := Message{Kind: KindResult, Session: data, Token: &backend.Token{Value: origin, Expires: exp}}
		got, err := fr.Parse(fr.Origin(), true, result.Encode())
		shaped := backend.ValidSession(data) && origin != "" && len(origin) <= MaxToken && backend.ValidSession(origin) && len(data) > 0
		require.Equal(t, shaped, err == nil, "%v", err)
		if err == nil {
			assert.Equal(t, data, got.Session)
			assert.Equal(t, origin, got.Token.Value)
			assert.Equal(t, exp.UnixMilli(), got.Token.Expires.UnixMilli())
		}
		failed := Message{Kind: KindFailed, Code: CodeAuthFailed, Text: data}
		got, err = fr.Parse(fr.Origin(), true, failed.Encode())
		if len(failed.Encode()) <= MaxMessage {
			require.NoError(t, err)
			var valid []byte
			for _, r := range data { // each invalid byte is U+FFFD, as Encode writes it
				valid = utf8.AppendRune(valid, r)
			}
			assert.Equal(t, clipText(string(valid)), got.Text)
		} else {
			require.Error(t, err)
		}

		// An origin as a host: its serialisation is an origin, and stable.
		if o, err := Origin(origin); err == nil {
			assert.True(t, IsOrigin(o), "Origin(%q) = %q", origin, o)
			again, err := Origin(o)
			require.NoError(t, err)
			assert.Equal(t, o, again)
		}
		if IsOrigin(origin) {
			fo, err := NewFrame(origin)
			require.NoError(t, err)
			assert.Equal(t, origin, fo.Origin())
		}
	})
}

// checkMessage checks an accepted message against the rules and against
// what encoding/json reads from its data.
func checkMessage(t *testing.T, m Message, data string) {
	require.LessOrEqual(t, len(data), MaxMessage)
	var std map[string]any
	require.NoError(t, json.Unmarshal([]byte(data), &std), "encoding/json refuses what Parse took: %q", data)
	require.Equal(t, string(m.Kind), std[KindKey])
	switch m.Kind {
	case KindReady, KindClose:
		require.Equal(t, Message{Kind: m.Kind}, m)
	case KindResult:
		require.True(t, backend.ValidSession(m.Session), "session %q", m.Session)
		require.Equal(t, m.Session, std["session"])
		require.Empty(t, m.Code)
		require.Empty(t, m.Text)
		if m.Token == nil {
			require.Nil(t, std["token"])
			break
		}
		v := m.Token.Value
		require.True(t, v != "" && len(v) <= MaxToken && backend.ValidSession(v), "token %q", v)
		ms := m.Token.Expires.UnixMilli()
		require.True(t, ms > 0 && ms <= MaxExpires, "expires %d", ms)
		tok, ok := std["token"].(map[string]any)
		require.True(t, ok, "token %v", std["token"])
		require.Equal(t, v, tok["value"])
		require.Equal(t, float64(ms), tok["expires"])
	case KindFailed:
		require.Equal(t, CodeAuthFailed, m.Code)
		require.Equal(t, CodeAuthFailed, std["code"])
		require.Empty(t, m.Session)
		require.Nil(t, m.Token)
		require.LessOrEqual(t, len(m.Text), MaxText)
		require.True(t, utf8.ValidString(m.Text))
		if s, ok := std["message"].(string); ok {
			require.Equal(t, clipText(s), m.Text)
			require.LessOrEqual(t, utf8.RuneCountInString(m.Text), utf8.RuneCountInString(s))
		} else {
			require.Empty(t, m.Text)
		}
	default:
		t.Fatalf("accepted kind %q", m.Kind)
	}
}
