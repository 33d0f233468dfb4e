package backendtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/backendtest"
)

func TestTransport(t *testing.T) {
	tr := &backendtest.Transport{Reply: backendtest.Reply{Status: 200, Body: []byte("other")},
		Paths: map[string]backendtest.Reply{"/login": {Status: 401, Body: []byte("login")}}}
	for url, want := range map[string]string{"https://pbx.example/login": "login", "https://pbx.example/me": "other"} {
		resp, err := tr.Do(context.Background(), &backend.Request{URL: url})
		require.NoError(t, err)
		assert.Equal(t, want, string(resp.Body), url)
	}
	assert.Len(t, tr.Sent, 2)
}

func TestStrings(t *testing.T) {
	var a, b string
	fields := map[string]*string{"a": &a, "b": &b}
	assert.True(t, backendtest.Strings([]byte(`{"a":"x","b":null,"c":1}`), fields))
	assert.Equal(t, "x", a)
	for _, body := range []string{`{"a":1}`, `[]`, `{"a":"x"} {}`, `{"a":"` + strings.Repeat("x", backend.MaxBody) + `"}`} {
		assert.False(t, backendtest.Strings([]byte(body), fields), body[:min(len(body), 20)])
	}
}

// TestHeaderSafe: the tests' statement of the rule agrees with the
// backends' own.
func TestHeaderSafe(t *testing.T) {
	for _, s := range []string{"", "a", "a b", "a\r\n", "é", "\x7f", "!~", strings.Repeat("s", 1024), strings.Repeat("s", 1025)} {
		assert.Equal(t, backend.ValidSession(s), backendtest.HeaderSafe(s), "%q", s)
	}
}
