package overlay

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

const pbx = "https://pbx.example:8443"

func frame(t testing.TB) Frame {
	f, err := NewFrame(pbx)
	require.NoError(t, err)
	return f
}

func TestLimitsMatchTheCore(t *testing.T) {
	assert.Equal(t, auth.MaxTokenLen, MaxToken, "a token the overlay hands over must be one login accepts again")
	assert.Equal(t, int64(MaxExpires), time.UnixMilli(MaxExpires).UnixMilli())
	assert.Contains(t, string(ErrSize), " "+strconv.Itoa(MaxMessage)+" ")
	assert.Contains(t, string(ErrSession), " "+strconv.Itoa(backend.MaxSession)+" ")
	assert.Contains(t, string(ErrTokenValue), " "+strconv.Itoa(MaxToken)+" ")
	assert.Contains(t, string(ErrSubID), " "+strconv.Itoa(wire.MaxSubIDLen)+" ")
}

func TestOrigin(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"https://pbx.example", "https://pbx.example"},
		{"https://pbx.example/", "https://pbx.example"},
		{"https://PBX.Example", "https://pbx.example"},
		{"HTTPS://pbx.example:443", "https://pbx.example"},
		{"http://pbx.example:80", "http://pbx.example"},
		{"http://pbx.example:443", "http://pbx.example:443"},
		{"https://pbx.example:80", "https://pbx.example:80"},
		{"pbx.example", "https://pbx.example"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
	} {
		got, err := Origin(tc.host)
		if assert.NoError(t, err, tc.host) {
			assert.Equal(t, tc.want, got, tc.host)
			assert.True(t, IsOrigin(got), got)
		}
	}
	for _, host := range []string{"", "ftp://pbx.example", "https://pbx.example/api", "https://u@pbx.example", "https://pbx.example:0"} {
		_, err := Origin(host)
		assert.Error(t, err, host)
		_, err = NewFrame(host)
		assert.Error(t, err, host)
	}
	for _, s := range []string{"https://pbx.example/", "https://PBX.example", "https://pbx.example:443", "http://pbx.example:80",
		"pbx.example", "null", "", "wss://pbx.example", "https://pbx.example/x", "https://pbx.example?"} {
		assert.False(t, IsOrigin(s), s)
	}
}

func TestPageURL(t *testing.T) {
	f := frame(t)
	assert.Equal(t, "https://pbx.example:8443", f.Origin())
	assert.Equal(t, "https://pbx.example:8443/api/login.html#parent=http%3A%2F%2F%5B%3A%3A1%5D%3A3000", f.PageURL("http://[::1]:3000"))
	assert.Equal(t, "https://pbx.example:8443/api/login.html#parent=a-_.!~*'()%20%26%23%C3%A9", f.PageURL("a-_.!~*'() &#é"))
	f, err := NewFrame("https://pbx.example:443/")
	require.NoError(t, err)
	assert.Equal(t, "https://pbx.example/api/login.html#parent=null", f.PageURL("null"))
}

func TestParse(t *testing.T) {
	f := frame(t)
	expires := time.UnixMilli(1767225600000)
	long := strings.Repeat("é", 150) // 300 bytes
	for _, tc := range []struct {
		name, data string
		want       Message
	}{
		{"ready", `{"pbxauth":"ready"}`, Message{Kind: KindReady}},
		{"close", `{"pbxauth":"close"}`, Message{Kind: KindClose}},
		{"result with a token", `{"pbxauth":"result","session":"S1","token":{"value":"T1","expires":1767225600000}}`,
			Message{Kind: KindResult, Session: "S1", Token: &backend.Token{Value: "T1", Expires: expires}}},
		{"result, token null", `{"pbxauth":"result","session":"S1","token":null}`, Message{Kind: KindResult, Session: "S1"}},
		{"result, no token", `{"session":"S1","pbxauth":"result"}`, Message{Kind: KindResult, Session: "S1"}},
		{"failed", `{"pbxauth":"failed","code":"auth_failed","message":"wrong username or password, 3 times"}`,
			Message{Kind: KindFailed, Code: CodeAuthFailed, Text: "wrong username or password, 3 times"}},
		{"failed without a message", `{"pbxauth":"failed","code":"auth_failed"}`, Message{Kind: KindFailed, Code: CodeAuthFailed}},
		{"failed, message null", `{"pbxauth":"failed","code":"auth_failed","message":null}`, Message{Kind: KindFailed, Code: CodeAuthFailed}},
		{"failed, long message clipped at a character", `{"pbxauth":"failed","code":"auth_failed","message":"` + long + `"}`,
			Message{Kind: KindFailed, Code: CodeAuthFailed, Text: long[:200]}},
		{"failed, odd clip", `{"pbxauth":"failed","code":"auth_failed","message":"x` + long + `"}`,
			Message{Kind: KindFailed, Code: CodeAuthFailed, Text: "x" + long[:198]}},
		{"failed, controls kept", `{"pbxauth":"failed","code":"auth_failed","message":"a\nb\u0000c\u007fd\u0085e"}`,
			Message{Kind: KindFailed, Code: CodeAuthFailed, Text: "a\nb\x00c\x7fd\u0085e"}},
		{"fields of other kinds are dropped", `{"pbxauth":"ready","session":"S","code":"x","message":"m","token":null}`, Message{Kind: KindReady}},
		{"unknown keys are ignored", `{"pbxauth":"close","later":[1,{"a":2}]}`, Message{Kind: KindClose}},
		{"space around", " \n{ \"pbxauth\" : \"close\" }\t", Message{Kind: KindClose}},
		{"escapes", `{"pbxauth":"r\u0065sult","session":"S\/1"}`, Message{Kind: KindResult, Session: "S/1"}},
		{"longest session and token", `{"pbxauth":"result","session":"` + strings.Repeat("s", backend.MaxSession) + `","token":{"value":"` + strings.Repeat("~", MaxToken) + `","expires":8640000000000000}}`,
			Message{Kind: KindResult, Session: strings.Repeat("s", backend.MaxSession), Token: &backend.Token{Value: strings.Repeat("~", MaxToken), Expires: time.UnixMilli(MaxExpires)}}},
		{"other token keys ignored", `{"pbxauth":"result","session":"S","token":{"expires":1,"value":"!","class":"refreshable"}}`,
			Message{Kind: KindResult, Session: "S", Token: &backend.Token{Value: "!", Expires: time.UnixMilli(1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Parse(pbx, true, tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := f.Parse(pbx, true, got.Encode())
			require.NoError(t, err, got.Encode())
			assert.Equal(t, got, again)
		})
	}
}

func TestParseRefuses(t *testing.T) {
	f := frame(t)
	ready := `{"pbxauth":"ready"}`
	result := func(session, token string) string {
		return `{"pbxauth":"result","session":` + session + `,"token":` + token + `}`
	}
	for _, tc := range []struct {
		name, origin string
		fromFrame    bool
		data, want   string
		foreign      bool
		kind         Kind // what Parse says the broken message was
	}{
		{"another host", "https://evil.example:8443", true, ready, string(ErrOrigin), true, ""},
		{"http", "http://pbx.example:8443", true, ready, string(ErrOrigin), true, ""},
		{"no port", "https://pbx.example", true, ready, string(ErrOrigin), true, ""},
		{"trailing slash", pbx + "/", true, ready, string(ErrOrigin), true, ""},
		{"upper case", "https://PBX.example:8443", true, ready, string(ErrOrigin), true, ""},
		{"suffix", pbx + ".evil.example", true, ready, string(ErrOrigin), true, ""},
		{"null", "null", true, ready, string(ErrOrigin), true, ""},
		{"empty", "", true, ready, string(ErrOrigin), true, ""},
		{"path", pbx + "/api/login.html", true, ready, string(ErrOrigin), true, ""},
		{"another window", pbx, false, ready, string(ErrWindow), true, ""},

		{"oversize", pbx, true, `{"pbxauth":"close","pad":"` + strings.Repeat("x", MaxMessage) + `"}`, string(ErrSize), false, ""},
		{"not JSON", pbx, true, `ready`, "not one strict JSON object", false, ""},
		{"empty data", pbx, true, ``, "not one strict JSON object", false, ""},
		{"a string", pbx, true, `"ready"`, "not one strict JSON object", false, ""},
		{"an array", pbx, true, `[{"pbxauth":"ready"}]`, "not one strict JSON object", false, ""},
		{"data after", pbx, true, `{"pbxauth":"ready"}{}`, "not one strict JSON object", false, KindReady},
		{"duplicate kind", pbx, true, `{"pbxauth":"ready","pbxauth":"close"}`, `duplicate key "pbxauth"`, false, KindReady},
		{"duplicate session", pbx, true, `{"pbxauth":"result","session":"a","session":"b"}`, `duplicate key "session"`, false, KindResult},
		{"duplicate token key", pbx, true, result(`"S"`, `{"value":"a","value":"b","expires":1}`), `duplicate key "value"`, false, KindResult},
		{"case variant key", pbx, true, `{"pbxauth":"result","Session":"S"}`, `differs from "session" in case`, false, KindResult},
		{"case variant kind key", pbx, true, `{"PBXAuth":"ready"}`, `differs from "pbxauth" in case`, false, ""},
		{"invalid UTF-8", pbx, true, "{\"pbxauth\":\"failed\",\"code\":\"auth_failed\",\"message\":\"\xff\"}", "invalid UTF-8", false, KindFailed},
		{"lone surrogate", pbx, true, `{"pbxauth":"failed","code":"auth_failed","message":"\ud800"}`, "lone surrogate", false, KindFailed},

		{"no kind", pbx, true, `{"session":"S"}`, string(ErrKind), false, ""},
		{"kind null", pbx, true, `{"pbxauth":null}`, string(ErrKind), false, ""},
		{"kind not a string", pbx, true, `{"pbxauth":1}`, "pbxauth is not a string", false, ""},
		{"unknown kind", pbx, true, `{"pbxauth":"login"}`, string(ErrKind), false, ""},
		{"kind in another case", pbx, true, `{"pbxauth":"Ready"}`, string(ErrKind), false, ""},
		{"options from the page", pbx, true, `{"pbxauth":"options"}`, string(ErrKind), false, ""},

		{"result without session", pbx, true, `{"pbxauth":"result","token":null}`, string(ErrSession), false, KindResult},
		{"session null", pbx, true, result(`null`, `null`), string(ErrSession), false, KindResult},
		{"session empty", pbx, true, result(`""`, `null`), string(ErrSession), false, KindResult},
		{"session a number", pbx, true, result(`1`, `null`), "session is not a string", false, KindResult},
		{"session with a space", pbx, true, result(`"a b"`, `null`), string(ErrSession), false, KindResult},
		{"session with a newline", pbx, true, result(`"a\nb"`, `null`), string(ErrSession), false, KindResult},
		{"session not ASCII", pbx, true, result(`"é"`, `null`), string(ErrSession), false, KindResult},
		{"session too long", pbx, true, result(`"`+strings.Repeat("s", backend.MaxSession+1)+`"`, `null`), string(ErrSession), false, KindResult},

		{"token a string", pbx, true, result(`"S"`, `"T"`), string(ErrToken), false, KindResult},
		{"token an array", pbx, true, result(`"S"`, `["T",1]`), string(ErrToken), false, KindResult},
		{"token without value", pbx, true, result(`"S"`, `{"expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value null", pbx, true, result(`"S"`, `{"value":null,"expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value empty", pbx, true, result(`"S"`, `{"value":"","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value a number", pbx, true, result(`"S"`, `{"value":5,"expires":1}`), "token.value is not a string", false, KindResult},
		{"token value with a space", pbx, true, result(`"S"`, `{"value":"a b","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value with a tab", pbx, true, result(`"S"`, `{"value":"a\tb","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value with DEL", pbx, true, result(`"S"`, `{"value":"a\u007f","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value not ASCII", pbx, true, result(`"S"`, `{"value":"tök","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token value too long", pbx, true, result(`"S"`, `{"value":"`+strings.Repeat("t", MaxToken+1)+`","expires":1}`), string(ErrTokenValue), false, KindResult},
		{"token without expiry", pbx, true, result(`"S"`, `{"value":"T"}`), string(ErrExpires), false, KindResult},
		{"token expiry null", pbx, true, result(`"S"`, `{"value":"T","expires":null}`), string(ErrExpires), false, KindResult},
		{"token expiry a string", pbx, true, result(`"S"`, `{"value":"T","expires":"1"}`), string(ErrExpires), false, KindResult},
		{"token expiry fractional", pbx, true, result(`"S"`, `{"value":"T","expires":1.5}`), string(ErrExpires), false, KindResult},
		{"token expiry exponent", pbx, true, result(`"S"`, `{"value":"T","expires":1e12}`), string(ErrExpires), false, KindResult},
		{"token expiry huge", pbx, true, result(`"S"`, `{"value":"T","expires":99999999999999999999}`), string(ErrExpires), false, KindResult},
		{"token expiry zero", pbx, true, result(`"S"`, `{"value":"T","expires":0}`), string(ErrExpires), false, KindResult},
		{"token expiry negative", pbx, true, result(`"S"`, `{"value":"T","expires":-1}`), string(ErrExpires), false, KindResult},
		{"token expiry past a Date", pbx, true, result(`"S"`, `{"value":"T","expires":8640000000000001}`), string(ErrExpires), false, KindResult},
		{"token case variant", pbx, true, result(`"S"`, `{"Value":"T","expires":1}`), `differs from "value" in case`, false, KindResult},
		{"bad token on another kind", pbx, true, `{"pbxauth":"close","token":{"value":" "}}`, string(ErrTokenValue), false, KindClose},

		{"failed without code", pbx, true, `{"pbxauth":"failed","message":"m"}`, string(ErrCode), false, KindFailed},
		{"failed, other code", pbx, true, `{"pbxauth":"failed","code":"server","message":"m"}`, string(ErrCode), false, KindFailed},
		{"failed, code a number", pbx, true, `{"pbxauth":"failed","code":401}`, "code is not a string", false, KindFailed},
		{"failed, message an object", pbx, true, `{"pbxauth":"failed","code":"auth_failed","message":{}}`, "message is not a string", false, KindFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := f.Parse(tc.origin, tc.fromFrame, tc.data)
			require.Error(t, err)
			assert.Equal(t, Message{Kind: tc.kind}, m, "what Parse says the broken message was")
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "overlay: "), err.Error())
			assert.Equal(t, tc.foreign, err == ErrOrigin || err == ErrWindow, err.Error())
			assert.Equal(t, tc.foreign, f.Check(tc.origin, tc.fromFrame) != nil)
			assert.LessOrEqual(t, len(err.Error()), 300, "an error as long as the message")
			assert.NotContains(t, err.Error(), "\"T\"", "an error repeats a token")
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{SubID: "tab-1_A", NoToken: true, Application: "longLogin", Origin: "https://app.example"},
		{SubID: strings.Repeat("a", 64), Application: "refreshable", Origin: "http://localhost:3000"},
	} {
		data := o.Encode()
		got, err := ParseOptions(data)
		require.NoError(t, err, data)
		assert.Equal(t, o, got)
	}
	assert.Equal(t, `{"pbxauth":"options","subid":"","notoken":false,"application":"","origin":""}`, Options{}.Encode())
	assert.Equal(t, `{"pbxauth":"options","subid":"t","notoken":true,"application":"refreshable","origin":"http://[::1]:8080"}`,
		Options{SubID: "t", NoToken: true, Application: "refreshable", Origin: "http://[::1]:8080"}.Encode())

	got, err := ParseOptions(`{"pbxauth":"options","subid":null,"notoken":null,"application":null,"origin":null,"later":1}`)
	require.NoError(t, err)
	assert.Equal(t, Options{}, got)
	got, err = ParseOptions(`{"pbxauth":"options"}`)
	require.NoError(t, err)
	assert.Equal(t, Options{}, got)

	for _, tc := range []struct{ data, want string }{
		{`{"pbxauth":"ready"}`, string(ErrOptionsKind)},
		{`{"subid":"a"}`, string(ErrOptionsKind)},
		{`{"pbxauth":"options","subid":"a b"}`, string(ErrSubID)},
		{`{"pbxauth":"options","subid":"` + strings.Repeat("a", 65) + `"}`, string(ErrSubID)},
		{`{"pbxauth":"options","subid":1}`, "subid is not a string"},
		{`{"pbxauth":"options","notoken":"true"}`, "notoken is not a boolean"},
		{`{"pbxauth":"options","notoken":1}`, "notoken is not a boolean"},
		{`{"pbxauth":"options","application":"forever"}`, string(ErrApplication)},
		{`{"pbxauth":"options","application":"LongLogin"}`, string(ErrApplication)},
		{`{"pbxauth":"options","origin":"https://app.example/"}`, string(ErrOptOrigin)},
		{`{"pbxauth":"options","origin":"https://app.example:443"}`, string(ErrOptOrigin)},
		{`{"pbxauth":"options","origin":"null"}`, string(ErrOptOrigin)},
		{`{"pbxauth":"options","origin":"app.example"}`, string(ErrOptOrigin)},
		{`{"pbxauth":"options","subid":"a","subid":"b"}`, `duplicate key "subid"`},
		{`{"pbxauth":"options","NoToken":true}`, `differs from "notoken" in case`},
		{`{"pbxauth":"options","pad":"` + strings.Repeat("x", MaxMessage) + `"}`, string(ErrSize)},
	} {
		_, err := ParseOptions(tc.data)
		if assert.Error(t, err, tc.data) {
			assert.Contains(t, err.Error(), tc.want, tc.data)
		}
	}
}

func TestEncodeEscapes(t *testing.T) {
	m := Message{Kind: KindFailed, Code: CodeAuthFailed, Text: "<\"&\\\u2028\b\t\n\f\r\x00\x1f\x7fé\xff"}
	assert.Equal(t, `{"pbxauth":"failed","code":"auth_failed","message":"<\"&\\`+"\u2028"+`\b\t\n\f\r\u0000\u001f`+"\x7fé\ufffd"+`"}`, m.Encode(), "as JSON.stringify")
	// The longest session and token, all escaped, stay within MaxMessage.
	m = Message{Kind: KindResult, Session: strings.Repeat(`"`, backend.MaxSession), Token: &backend.Token{Value: strings.Repeat(`\`, MaxToken), Expires: time.UnixMilli(MaxExpires)}}
	assert.Less(t, len(m.Encode()), 3200)
	got, err := frame(t).Parse(pbx, true, m.Encode())
	require.NoError(t, err)
	assert.Equal(t, m, got)
	m = Message{Kind: KindResult, Session: strings.Repeat("<", backend.MaxSession)}
	assert.Len(t, m.Encode(), backend.MaxSession+len(`{"pbxauth":"result","session":"","token":null}`), "no HTML escaping")
	assert.Equal(t, `{"pbxauth":"result","session":"S","token":null}`, Message{Kind: KindResult, Session: "S"}.Encode())
	assert.Equal(t, `{"pbxauth":"close"}`, Message{Kind: KindClose, Session: "dropped"}.Encode())
}

// TestLoginPageVectors checks the package against testdata/login_page.json,
// which web/internal/site/testdata/login_test.js checks login.js against:
// the options the login page takes and refuses, and the messages it posts.
func TestLoginPageVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/login_page.json")
	require.NoError(t, err)
	var v struct {
		Options  struct{ Accept, Refuse []json.RawMessage }
		FromPage []json.RawMessage
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	require.NotEmpty(t, v.Options.Accept)
	require.NotEmpty(t, v.Options.Refuse)
	for _, o := range v.Options.Accept {
		got, err := ParseOptions(string(o))
		if assert.NoError(t, err, "%s", o) {
			again, err := ParseOptions(got.Encode())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		}
	}
	for _, o := range v.Options.Refuse {
		_, err := ParseOptions(string(o))
		assert.Error(t, err, "%s", o)
	}
	f := frame(t)
	kinds := map[Kind]bool{}
	for _, m := range v.FromPage {
		got, err := f.Parse(pbx, true, string(m))
		if assert.NoError(t, err, "%s", m) {
			kinds[got.Kind] = true
			var compact bytes.Buffer
			require.NoError(t, json.Compact(&compact, m))
			assert.Equal(t, compact.String(), got.Encode(), "Encode writes what login.js posts")
		}
	}
	assert.Len(t, kinds, 4, "every kind the page posts")
}
