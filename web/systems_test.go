package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
)

// token runs the token command and returns its exit code, stdout and stderr.
func token(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"token"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// call sends a request with an Authorization header ("" for none) and
// returns the status and the body.
func call(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	r := servertest.Do(t, servertest.Plain, method, url, body, "Content-Type", contentType, "Authorization", auth)
	return r.Status, string(r.Body)
}

// basic is the Authorization header of "login:password".
func basic(loginPassword string) string {
	login, password, _ := strings.Cut(loginPassword, ":")
	return servertest.Basic(login, password)
}

// TestRunOtherSystems: the server speaks Vodia and Ping with the flags'
// admin and key, and the token command's tokens work on it.
func TestRunOtherSystems(t *testing.T) {
	key := filepath.Join(t.TempDir(), "ping.key")
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-ping-key", key, "-vodia-admin", "root:s3cret:pw")

	code, tok, errs := token(t, "-user", "bob", "-ping-key", key, "-ttl", "1h")
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs)
	tok = strings.TrimSuffix(tok, "\n")
	assert.Equal(t, 2, strings.Count(tok, "."), "one JWT on one line: %q", tok)

	status, body := call(t, http.MethodGet, url+pingserver.PathExtensions, "Bearer "+tok, "")
	require.Equal(t, http.StatusOK, status, body)
	var list []pingserver.Extension
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list, 2, "alice and bob, of domain default")
	assert.Equal(t, "40", list[0].Extension)
	assert.Equal(t, "alice@example.com", list[0].Email)
	assert.True(t, list[0].Available)
	require.NotNil(t, list[1].Profile)
	assert.Equal(t, "At lunch", *list[1].Profile, "the demo users' presence")
	assert.False(t, list[1].Available)
	assert.NotEqual(t, pingserver.NoUntil, list[1].Until)
	assert.Len(t, list[1].Calls, 1)

	status, body = call(t, http.MethodPost, url+pingserver.PathLogin, basic("42:carolpass"), "")
	assert.Equal(t, http.StatusOK, status, body)

	ask := `{"name":"3rd","username":"42","domain":"acme"}`
	status, body = call(t, http.MethodPost, url+vodiaserver.Path, basic(vodiaserver.DemoAdmin), ask)
	assert.Equal(t, http.StatusUnauthorized, status, "-vodia-admin replaces the demo admin: %s", body)
	status, body = call(t, http.MethodPost, url+vodiaserver.Path, basic("root:s3cret:pw"), ask)
	require.Equal(t, http.StatusOK, status, body)
	var temp string
	require.NoError(t, json.Unmarshal([]byte(body), &temp))
	exchange, _ := json.Marshal(map[string]string{"name": "session", "value": temp})
	status, body = call(t, http.MethodPost, url+vodiaserver.Path, "", string(exchange))
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"name":"Carol Acme"`)

	assert.Equal(t, 0, stop())
	for _, secret := range []string{"s3cret", tok, temp, "carolpass"} {
		assert.NotContains(t, stderr.String(), secret)
	}
}

// TestRunDefaultPingKey: without -ping-key the server and the token command
// share the key in the user's configuration directory (TestMain points it
// at a temporary one).
func TestRunDefaultPingKey(t *testing.T) {
	file, err := pingserver.DefaultKeyFile()
	require.NoError(t, err)
	url, _, stop := start(t, "-addr", "127.0.0.1:0")
	defer stop()
	info, err := os.Stat(file)
	require.NoError(t, err, "the server made the key")
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	code, tok, errs := token(t, "-user", "alice")
	require.Equal(t, 0, code, errs)
	status, body := call(t, http.MethodGet, url+pingserver.PathExtensions+"me", "Bearer "+strings.TrimSpace(tok), "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"extension":"40"`)

	status, _ = call(t, http.MethodPost, url+vodiaserver.Path, basic(vodiaserver.DemoAdmin), `{"name":"3rd","domain":"default"}`)
	assert.Equal(t, http.StatusOK, status, "the demo admin by default")
}

// TestRunUsersFilePresence: the demo presence belongs to the demo users; a
// users file's users are all available.
func TestRunUsersFilePresence(t *testing.T) {
	dir := t.TempDir()
	usersFile := filepath.Join(dir, "users.json")
	require.NoError(t, os.WriteFile(usersFile, []byte(`[{"id": 1, "login": "bob", "password": "pw", "home": "h",
		"extension": "012345678", "email": "bob@h.example", "domain": "h.example"}]`), 0o600))
	key := filepath.Join(dir, "ping.key")
	url, _, stop := start(t, "-addr", "127.0.0.1:0", "-users", usersFile, "-ping-key", key)
	defer stop()

	status, body := call(t, http.MethodPost, url+pingserver.PathLogin, basic("012345678:pw"), "")
	require.Equal(t, http.StatusOK, status, body)
	var login struct{ Session string }
	require.NoError(t, json.Unmarshal([]byte(body), &login))
	status, body = call(t, http.MethodGet, url+pingserver.PathExtensions+"me", "session "+login.Session, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"name":"bob","email":"bob@h.example","extension":"012345678","profile":null,"available":true,
		"until":"0000-00-00 00:00:00","message":"","calls":[],"keyWords":[],"domain":"h.example"}`, body)

	code, tok, errs := token(t, "-user", "bob", "-users", usersFile, "-ping-key", key)
	require.Equal(t, 0, code, errs)
	status, _ = call(t, http.MethodGet, url+pingserver.PathExtensions, "Bearer "+strings.TrimSpace(tok), "")
	assert.Equal(t, http.StatusOK, status)
}

func TestRunTokenFails(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "ping.key")
	noExt := filepath.Join(dir, "users.json")
	require.NoError(t, os.WriteFile(noExt, []byte(`[{"id": 1, "login": "dave", "password": "pw", "home": "h"}]`), 0o600))
	badKey := filepath.Join(dir, "bad.key")
	require.NoError(t, os.WriteFile(badKey, []byte("short"), 0o600))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, 0, "usage: web token -user LOGIN"},
		{"help lists -ttl", []string{"-h"}, 0, "-ttl DURATION"},
		{"no user", []string{"-ping-key", key}, 2, "give the user: web token -user LOGIN"},
		{"unknown user", []string{"-user", "mallory", "-ping-key", key}, 1, `no user "mallory"`},
		{"an extension instead of a login", []string{"-user", "40", "-ping-key", key}, 1, `no user "40"`},
		{"user without extension", []string{"-user", "dave", "-users", noExt, "-ping-key", key}, 1, `user "dave" has no extension`},
		{"zero ttl", []string{"-user", "bob", "-ttl", "0s", "-ping-key", key}, 2, "give a positive duration"},
		{"bad ttl", []string{"-user", "bob", "-ttl", "tomorrow"}, 2, "invalid value"},
		{"bad key", []string{"-user", "bob", "-ping-key", badKey}, 1, "holds no key"},
		{"extra arguments", []string{"-user", "bob", "now"}, 2, `unexpected arguments ["now"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := token(t, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr, tt.stderr)
			assert.Empty(t, stdout, "no token")
		})
	}
}
