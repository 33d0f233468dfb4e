package pbx

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// TestDNSRebinding: a hostile page whose name was pointed at the server is
// same-origin with it, so the origin check lets it through; the Host check
// must not.
func TestDNSRebinding(t *testing.T) {
	static := func(c *Config) {
		c.Static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("static"))
		})
	}
	e := newEnv(t, static)
	u, err := url.Parse(e.srv.URL)
	require.NoError(t, err)
	evil := "evil.example:" + u.Port()
	rebound := func(r req) req {
		r.host = evil
		r.header = map[string]string{"Origin": "http://" + evil}
		return r
	}

	for name, r := range map[string]req{
		"login":     rebound(loginReq("alice", "wonderland", "")),
		"check":     rebound(checkReq("")),
		"static":    rebound(req{method: http.MethodGet, path: "/api/api.js"}),
		"not found": rebound(req{method: http.MethodGet, path: "/rest/other"}),
		"preflight": rebound(req{method: http.MethodOptions, path: wire.PathLogin, contentType: "-"}),
	} {
		t.Run(name, func(t *testing.T) {
			got := e.do(r)
			assert.Equal(t, http.StatusMisdirectedRequest, got.status, "body %s", got.raw)
			assert.Equal(t, "application/json", got.header.Get("Content-Type"))
			assert.Equal(t, wire.ResultFail, got.body.Result)
			assert.Equal(t, wire.CodeHostNotAllowed, got.code())
			assert.Contains(t, got.body.Error.Message, "-hosts")
			assert.Empty(t, got.header.Values("Set-Cookie"))
			assert.Empty(t, got.header.Get("Access-Control-Allow-Origin"))
		})
	}
	assert.Zero(t, e.sessions.Len(), "no session was created")

	e = newEnv(t, func(c *Config) { static(c); c.Hosts = []string{"evil.example"} })
	r := e.do(rebound(loginReq("alice", "wonderland", "")))
	require.Equal(t, http.StatusOK, r.status, "a host given with -hosts is served: %s", r.raw)
	assert.Equal(t, 1, e.sessions.Len())
	assert.Equal(t, "static", string(e.do(rebound(req{method: http.MethodGet, path: "/"})).raw))

	e = newEnv(t, func(c *Config) { c.Hosts = []string{"evil.example:1"} })
	assert.Equal(t, http.StatusMisdirectedRequest, e.do(rebound(loginReq("alice", "wonderland", ""))).status,
		"a host given with a port is served on that port only")
}

func TestServes(t *testing.T) {
	s := New(Config{Hosts: []string{"pbx.example.com", "10.0.0.5:8080", "[::]:9"}})
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"localhost:1", true},
		{"LocalHost:8080", true},
		{"127.0.0.1:8080", true},
		{"127.1.2.3", true},
		{"[::1]:80", true},
		{"[::1]", true},
		{"pbx.example.com", true},
		{"PBX.example.com:444", true},
		{"10.0.0.5:8080", true},
		{"[::]:9", true},
		{"10.0.0.5:8081", false},
		{"10.0.0.5", false},
		{"[::]:10", false},
		{"evil.example", false},
		{"localhost.evil.example", false},
		{"127.0.0.1.evil.example", false},
		{"pbx.example.com.evil.example", false},
		{"0.0.0.0:8080", false},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.serves(tt.host), "%q", tt.host)
	}
	assert.False(t, New(Config{}).serves("pbx.example.com"), "without Hosts, loopback names only")
}

func TestParseHosts(t *testing.T) {
	got, err := ParseHosts(" PBX.Example.com , 10.0.0.5:8080,,[::1]:9 ")
	require.NoError(t, err)
	assert.Equal(t, []string{"pbx.example.com", "10.0.0.5:8080", "[::1]:9"}, got)

	for _, bad := range []string{"", " , ", "http://pbx.example.com", "pbx.example.com/path", "user@pbx.example.com",
		"pbx.example.com:", "pbx.example.com:port", "pbx.example.com?x", ":8080", "pbx example"} {
		_, err := ParseHosts(bad)
		assert.Error(t, err, "%q", bad)
	}
}
