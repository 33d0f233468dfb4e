package pbx

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

func TestCORS(t *testing.T) {
	e := newEnv(t, nil)
	login := loginReq("alice", "wonderland", "")

	withOrigin := func(r req, origin string) req {
		r.header = map[string]string{"Origin": origin}
		return r
	}

	t.Run("trusted", func(t *testing.T) {
		r := e.do(withOrigin(login, "http://localhost:3000"))
		require.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
		assert.Equal(t, "http://localhost:3000", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
		assert.Contains(t, r.header.Values("Vary"), "Origin")
	})
	t.Run("trusted failure carries CORS headers too", func(t *testing.T) {
		r := e.do(withOrigin(loginReq("alice", "x", ""), "https://127.0.0.1"))
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, "https://127.0.0.1", r.header.Get("Access-Control-Allow-Origin"), "or the page cannot read why")
	})
	t.Run("untrusted", func(t *testing.T) {
		r := e.do(withOrigin(login, "https://evil.example"))
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Equal(t, wire.CodeOriginNotAllowed, r.code())
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, r.header.Values("Set-Cookie"))
		assert.Contains(t, r.header.Values("Vary"), "Origin")
	})
	t.Run("untrusted static", func(t *testing.T) {
		r := e.do(withOrigin(req{method: http.MethodGet, path: "/api/api.js"}, "https://evil.example"))
		assert.NotEqual(t, http.StatusForbidden, r.status, "the module's files are public")
		assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, r.header.Get("Access-Control-Allow-Credentials"))
	})
	t.Run("null origin", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, e.do(withOrigin(login, "null")).status)
	})
	t.Run("same origin", func(t *testing.T) {
		r := e.do(withOrigin(login, e.srv.URL))
		assert.Equal(t, http.StatusOK, r.status)
	})
	t.Run("no origin", func(t *testing.T) {
		r := e.do(login)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, r.header.Values("Vary"), "Origin")
	})
	t.Run("preflight", func(t *testing.T) {
		r := e.do(req{method: http.MethodOptions, path: wire.PathLogin, contentType: "-", header: map[string]string{
			"Origin": "http://[::1]:5173", "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "content-type,authorization",
		}})
		assert.Equal(t, http.StatusNoContent, r.status)
		assert.Equal(t, "http://[::1]:5173", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "POST", r.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "Content-Type, Authorization", r.header.Get("Access-Control-Allow-Headers"))
		assert.Contains(t, r.header.Values("Vary"), "Origin")
	})
	t.Run("untrusted preflight", func(t *testing.T) {
		r := e.do(req{method: http.MethodOptions, path: wire.PathLogin, contentType: "-", header: map[string]string{
			"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
		}})
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Methods"))
	})
}

func TestConfiguredOrigins(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Origins = []string{"https://app.example"} })
	login := loginReq("alice", "wonderland", "")
	login.header = map[string]string{"Origin": "https://app.example"}
	assert.Equal(t, http.StatusOK, e.do(login).status)
	login.header["Origin"] = "http://localhost:3000"
	assert.Equal(t, http.StatusForbidden, e.do(login).status, "the loopback default is replaced")
}

func TestTrusts(t *testing.T) {
	s := New(Config{})
	tests := []struct {
		origin string
		want   bool
	}{
		{"http://localhost", true},
		{"http://localhost:8080", true},
		{"https://localhost:1", true},
		{"http://127.0.0.1:9", true},
		{"http://[::1]:9", true},
		{"http://localhost.evil.example", false},
		{"http://localhost:80.evil.example", false},
		{"http://localhost:", false},
		{"http://localhost:8080/", false},
		{"ftp://localhost", false},
		{"http://127.0.0.2", false},
		{"http://evil.example", false},
		{"null", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.trusts(tt.origin), tt.origin)
	}

	s = New(Config{Origins: []string{"https://app.example", "http://dev.example:*"}})
	assert.True(t, s.trusts("https://app.example"))
	assert.False(t, s.trusts("https://app.example:8443"), "without :* the port must match")
	assert.True(t, s.trusts("http://dev.example:3000"))
	assert.False(t, s.trusts("https://dev.example:3000"), "the scheme must match")
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://App.Example , http://localhost:*,,http://10.0.0.1:8080/ ")
	require.NoError(t, err)
	assert.Equal(t, []string{"https://app.example", "http://localhost:*", "http://10.0.0.1:8080"}, got)

	for _, bad := range []string{"", " , ", "app.example", "ftp://app.example", "https://app.example/path",
		"https://user@app.example", "https://app.example?x", "https://app.example:8080:*", "https://:*", "https://app.example:port"} {
		_, err := ParseOrigins(bad)
		assert.Error(t, err, "%q", bad)
	}
}
