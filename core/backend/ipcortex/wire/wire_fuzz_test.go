package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxErrorLen bounds a decoding error's message, whatever the reply.
const maxErrorLen = 200

// FuzzDecodeResponse checks the reply decoder against encoding/json:
// whatever it accepts, encoding/json accepts with the same result, and the
// result encodes (json.Marshal, as the server writes replies) to a reply that
// decodes to it again, and its strings hold no more bytes than the reply;
// whatever it refuses, it refuses with ErrSyntax and a
// short message. Seeds: replySeeds and testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := DecodeResponse(data)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			require.Nil(t, ours)
			require.LessOrEqual(t, len(err.Error()), maxErrorLen, "%v", err)
			return
		}
		var theirs Response
		require.NoError(t, json.Unmarshal(data, &theirs), "encoding/json refuses what we accepted: %q", data)
		assert.Equal(t, &theirs, ours, "%q", data)

		again, err := json.Marshal(ours)
		require.NoError(t, err)
		back, err := DecodeResponse(again)
		require.NoError(t, err, "our own encoding of %q does not decode: %s", data, again)
		assert.Equal(t, ours, back)
		assert.LessOrEqual(t, decodedLen(ours), len(data), "%q decoded to more than its size", data)
	})
}

// decodedLen is the number of bytes of r's strings, keys included.
func decodedLen(r *Response) int {
	n := len(r.Result) + len(r.Password)
	if u := r.User; u != nil {
		n += len(u.Login) + len(u.Name) + len(u.Company) + len(u.Home) + len(u.Session)
		for k, v := range u.Perms {
			n += len(k) + len(v)
		}
	}
	if r.Token != nil {
		n += len(r.Token.Value)
	}
	if r.Error != nil {
		n += len(r.Error.Code) + len(r.Error.Message)
	}
	return n
}

// FuzzEncodeRequest checks the request encoder against json.Marshal, byte
// for byte, and that the server (encoding/json) reads back what was sent:
// the same fields when they are UTF-8.
func FuzzEncodeRequest(f *testing.F) {
	f.Add("auth", "alice", "wonderland", "", "", false, "", false, "", "")
	f.Add("auth", "<a&b>\"\\\x00\x1f\b\f\n\r\t", "\u2028\u2029\xff\xfe é😀", "k", "c", true, "t<", true, "longLogin", "https://app.example")
	f.Add("", "", "", "", "", false, "", false, "", "")
	f.Add("auth", "\xed\xa0\x80", "\xc0\xaf", "\x00", "\u0000", false, strings.Repeat("\\u00e9", 200), false, "\ufffd", "\x7f")
	f.Fuzz(func(t *testing.T, typ, user, pass, key, company string, getNew bool, token string, noToken bool, app, origin string) {
		r := Request{Auth: Auth{Type: typ, Username: user, Password: pass, Key: key, Company: company, GetNew: getNew,
			Token: token, NoToken: noToken, Application: app, Origin: origin}}
		want, err := json.Marshal(r)
		require.NoError(t, err)
		body := EncodeRequest(r)
		require.Equal(t, string(want), string(body))

		var got Request
		require.NoError(t, json.Unmarshal(body, &got))
		if valid := func(ss ...string) bool {
			for _, s := range ss {
				if !utf8.ValidString(s) {
					return false
				}
			}
			return true
		}; valid(typ, user, pass, key, company, token, app, origin) {
			assert.Equal(t, r, got)
		}
	})
}

// FuzzFeedMessage checks the feed's messages in both directions. From the
// server: DecodeFeedMessage agrees with encoding/json on what it accepts,
// refuses the rest with ErrSyntax, and reads the "ready" message the server
// writes (json.Marshal, as web/internal/feedserver does) whatever its version and user.
// To the server: EncodeFeedAuth writes one JSON object that encoding/json
// (web/internal/feedserver) reads as the auth message with the same session and pingtime.
func FuzzFeedMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"ready","version":"6.4.1","user":{"id":1,"perms":{}}}`, `{"type":"pong"}`, `{"type":"ping","x":[1,{"y":null}]}`,
		`{"type":1}`, `[]`, `{"type":"pong"} x`, `{"Type":"ready"}`, `{"type":"ready","type":"pong"}`, `{"tyṗe":"x"}`,
		`{"type":"ready","VERSION":"1"}`, `{"type":"\ud800"}`, `{"type":null,"version":null}`, `{"type":"` + "\xff" + `"}`,
		`{"type":"a` + "\x00" + `"}`, `{"x":` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `}`,
	} {
		f.Add([]byte(s), "s3cret", 540)
	}
	f.Add([]byte(`{}`), "<\"\\\u2028\xff\x00>", -1)
	f.Add([]byte(`{}`), "", 1<<62)
	f.Fuzz(func(t *testing.T, data []byte, session string, ping int) {
		m, err := DecodeFeedMessage(data)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			require.LessOrEqual(t, len(err.Error()), maxErrorLen, "%v", err)
		} else {
			var theirs struct{ Type, Version string }
			require.NoError(t, json.Unmarshal(data, &theirs), "encoding/json refuses what we accepted: %q", data)
			assert.Equal(t, &FeedMessage{Type: theirs.Type, Version: theirs.Version}, m, "%q", data)
			again, err := json.Marshal(map[string]string{"type": m.Type, "version": m.Version})
			require.NoError(t, err)
			back, err := DecodeFeedMessage(again)
			require.NoError(t, err)
			assert.Equal(t, m, back)
		}

		// What the server sends: web/internal/feedserver's readyMessage.
		ready, err := json.Marshal(struct {
			Type    string `json:"type"`
			Version string `json:"version"`
			User    User   `json:"user"`
		}{FeedReady, session, User{ID: int64(ping), Login: session, Name: string(data), Perms: map[string]string{session: session}}})
		require.NoError(t, err)
		m, err = DecodeFeedMessage(ready)
		require.NoError(t, err, "the server's ready message %s", ready)
		assert.Equal(t, FeedReady, m.Type)
		if utf8.ValidString(session) {
			assert.Equal(t, session, m.Version)
		}

		// What the client sends: web/internal/feedserver's authMessage.
		hello := EncodeFeedAuth(session, ping)
		want, err := json.Marshal(struct {
			Type     string `json:"type"`
			Session  string `json:"session"`
			PingTime int    `json:"pingtime"`
		}{FeedAuth, session, ping})
		require.NoError(t, err)
		require.Equal(t, string(want), string(hello))
		var auth struct {
			Type     string `json:"type"`
			Session  string `json:"session"`
			PingTime *int   `json:"pingtime"`
		}
		require.NoError(t, json.Unmarshal(hello, &auth))
		assert.Equal(t, FeedAuth, auth.Type)
		require.NotNil(t, auth.PingTime)
		assert.Equal(t, ping, *auth.PingTime)
		if utf8.ValidString(session) {
			assert.Equal(t, session, auth.Session)
		}
	})
}
