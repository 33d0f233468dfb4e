package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var replySeeds = []string{
	`{"result":"success","user":{"id":123,"login":"loginName","name":"realName","company":"company","home":"company","session":"abc","perms":{"chat":"yes","admin":"company"}}}`,
	`{"result":"fail","error":{"code":"auth_failed","message":"wrong username or password"}}`,
	`{"result":"fail"}`,
	`{"result":"success","password":"p4ss"}`,
	` { "result" : "success" , "user" : null , "extra" : [1, -2.5e+3, true, false, null, {"a":[]}, "\u00e9\ud83d\ude00\n"] } `,
	`{"result":"success","user":{"id":-0,"perms":null,"login":null}}`,
	`{"result":"success","user":{"id":1.5}}`,
	`{"result":"success","user":{"id":"1"}}`,
	`{"result":"success","user":{"id":99999999999999999999}}`,
	`{"result":"success","user":{"id":1e3}}`,
	`{"Result":"success"}`,
	`{"result":"success","result":"fail"}`,
	`{"result":"a\ud800"}`,
	`{"result":"\ud83d\ude00 \u0041\/\b\f\r\t"}`,
	`{"result":"success"} x`,
	`{"result":"success",}`,
	`{"result":01}`,
	`{"result":"` + "\x01" + `"}`,
	`{"result":"` + "\xff" + `"}`,
	`{"user":{"perms":{"a":null}}}`,
	`{"user":{"perms":{"a":1}}}`,
	`{"error":{"code":5}}`,
	`{"error":{"Code":"x"}}`,
	`[1,2]`, `null`, `"x"`, ``, `{`, `{"a":tru}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`,
	`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	`{"a":` + strings.Repeat("[", 30) + strings.Repeat("]", 30) + `}`,
	`{"reſult":"x"}`,
	`{"result":"success","token":{"value":"t0k","expires":1767225600000}}`,
	`{"result":"success","token":null}`,
	`{"token":{"value":1}}`,
	`{"token":{"expires":"soon"}}`,
	`{"token":{"Value":"x"}}`,
}

func TestDecodeResponse(t *testing.T) {
	r, err := DecodeResponse([]byte(replySeeds[0]))
	require.NoError(t, err)
	assert.Equal(t, &Response{Result: "success", User: &User{ID: 123, Login: "loginName", Name: "realName",
		Company: "company", Home: "company", Session: "abc", Perms: map[string]string{"chat": "yes", "admin": "company"}}}, r)

	r, err = DecodeResponse([]byte(replySeeds[1]))
	require.NoError(t, err)
	assert.Equal(t, &Error{Code: "auth_failed", Message: "wrong username or password"}, r.Error)

	r, err = DecodeResponse([]byte(`{"result":"success","token":{"value":"t0k","expires":1767225600000}}`))
	require.NoError(t, err)
	assert.Equal(t, &Token{Value: "t0k", Expires: 1767225600000}, r.Token)

	r, err = DecodeResponse([]byte(replySeeds[13]))
	require.NoError(t, err)
	assert.Equal(t, "😀 A/\b\f\r\t", r.Result)

	for _, bad := range []string{`{"Result":"success"}`, `{"result":"success","result":"fail"}`, `{"result":"a\ud800"}`,
		`[1,2]`, ``, `{"result":"success"} x`, `{"user":{"id":1.5}}`, `{"reſult":"x"}`} {
		_, err := DecodeResponse([]byte(bad))
		assert.ErrorIs(t, err, ErrSyntax, bad)
	}
}

func TestSubIDAndHeaders(t *testing.T) {
	assert.True(t, ValidSubID("abc-DEF_123"))
	assert.True(t, ValidSubID(strings.Repeat("a", MaxSubIDLen)))
	for _, bad := range []string{"", strings.Repeat("a", MaxSubIDLen+1), "a b", "a;b", "a=b", "é", "a/b"} {
		assert.False(t, ValidSubID(bad), bad)
	}
	k, ok := KeyFromHeader("token auth=abc ")
	assert.True(t, ok)
	assert.Equal(t, "abc", k)
	for _, bad := range []string{"Bearer abc", "token auth=", "token auth=  ", ""} {
		_, ok := KeyFromHeader(bad)
		assert.False(t, ok, bad)
	}
	sid, ok := SessionFromHeader("session s3cret")
	assert.True(t, ok)
	assert.Equal(t, "s3cret", sid)
	for _, bad := range []string{"token auth=abc", "session ", "Session abc", ""} {
		_, ok := SessionFromHeader(bad)
		assert.False(t, ok, bad)
	}
}

func TestFeedMessages(t *testing.T) {
	m, err := DecodeFeedMessage([]byte(`{"type":"ready","version":"6.4.1","user":{"id":1,"perms":{}}}`))
	require.NoError(t, err)
	assert.Equal(t, &FeedMessage{Type: FeedReady, Version: "6.4.1"}, m)
	for _, bad := range []string{`{"type":1}`, `[]`, `{"type":"pong"} x`, `{"Type":"ready"}`} {
		_, err := DecodeFeedMessage([]byte(bad))
		assert.ErrorIs(t, err, ErrSyntax, bad)
	}
	var v map[string]any
	require.NoError(t, json.Unmarshal(EncodeFeedAuth("s<\"x", 540), &v))
	assert.Equal(t, map[string]any{"type": "auth", "session": "s<\"x", "pingtime": 540.0}, v)
}
