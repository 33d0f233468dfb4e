package endpoint

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAPIAccepts(t *testing.T) {
	cases := []struct{ in, want, ws string }{
		{"https://pabx.phone.voipcortex.co.uk", "https://pabx.phone.voipcortex.co.uk", "wss://pabx.phone.voipcortex.co.uk"},
		{"https://pbx.example.com:8443/", "https://pbx.example.com:8443", "wss://pbx.example.com:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "ws://127.0.0.1:8080"},
		{"HTTPS://PBX.Example.COM", "https://pbx.example.com", "wss://pbx.example.com"},
		{"pbx.example.com", "https://pbx.example.com", "wss://pbx.example.com"},
		{"pbx.example.com:444", "https://pbx.example.com:444", "wss://pbx.example.com:444"},
		{"http://[::1]:8080", "http://[::1]:8080", "ws://[::1]:8080"},
		{"[2001:db8::1]", "https://[2001:db8::1]", "wss://[2001:db8::1]"},
		{"localhost", "https://localhost", "wss://localhost"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			e, err := ParseAPI(c.in)
			require.NoError(t, err)
			assert.Equal(t, c.want, e.String())
			assert.Equal(t, c.ws, e.WebSocket().String())
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		"", "   ", "ftp://pbx", "wss://pbx", "javascript:alert(1)", "https://pbx/path", "https://pbx?x=1",
		"https://user@pbx", "https://pbx:0", "https://pbx:65536", "https://pbx:abc", "https://pbx:",
		"https://-pbx", "https://pb x", "https://[::1", "https://[::1]:", "https://[zz::1]", "https://[::1]x", "https://",
		"https://pbx#frag", "https://pbx:080", "https://pbx:+80", "https://pbx:-1", "https://a..b", "https://pbx\\evil",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseAPI(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Client.SetHost")
		})
	}
	_, err := ParseWS("https://pbx")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "wss://")
}

func TestParseWS(t *testing.T) {
	for in, want := range map[string]string{
		"wss://pbx.example.com":  "wss://pbx.example.com",
		"ws://127.0.0.1:8080/":   "ws://127.0.0.1:8080",
		"pbx.example.com:9443":   "wss://pbx.example.com:9443",
		"WS://LOCALHOST:1":       "ws://localhost:1",
		"wss://[::1]:8443":       "wss://[::1]:8443",
		"wss://feed.example.com": "wss://feed.example.com",
	} {
		e, err := ParseWS(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, e.String(), in)
	}
}

func TestInsecure(t *testing.T) {
	for in, want := range map[string]bool{
		"http://pbx.example.com":   true,
		"http://10.0.0.1":          true,
		"http://127.0.0.1:8080":    false,
		"http://127.1.2.3":         false,
		"http://localhost:80":      false,
		"http://app.localhost":     false,
		"http://[::1]":             false,
		"https://pbx.example.com":  false,
		"http://127.0.0.1.evil.co": true,
		"http://127.0.0.256":       true,
	} {
		e, err := ParseAPI(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, e.Insecure(), in)
	}
	assert.Equal(t, "", Endpoint{}.String())
}
