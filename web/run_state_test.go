package main

// The -state file: what a restart keeps.

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

// authCall posts a REST call with the header "Authorization: session ID"
// and returns the status and the decoded reply.
func authCall(t *testing.T, url, id, body string) (int, map[string]any) {
	t.Helper()
	r := servertest.PostJSON(t, nil, url+wire.PathLogin, body, "Authorization", wire.SessionHeaderPrefix+id)
	return r.Status, r.JSON(t)
}

// TestRunState: with -state, a server run twice on the same file still
// accepts, after the restart, the session id and the login token it gave out
// before, and the live feed that the stop closed with 1012 reconnects to the
// same login.
func TestRunState(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-state", file)
	assert.Contains(t, stderr.String(), "state: "+file+" does not exist yet; starting empty")
	status, m := postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","username":"bob","password":"builder"}}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	id := m["user"].(map[string]any)["session"].(string)
	tok := m["token"].(map[string]any)["value"].(string)
	c, _ := dialFeed(t, url, id)
	code := make(chan websocket.StatusCode, 1)
	go func() { code <- servertest.CloseCode(t, c, closeWait) }()

	assert.Equal(t, 0, stop())
	assert.Equal(t, websocket.StatusCode(wire.FeedRestart), <-code)
	log := stderr.String()
	assert.Contains(t, log, "state: saved to "+file+": 1 session(s), 1 login token(s), 0 external user(s)")
	assert.Less(t, strings.Index(log, "feed 1 closed 1012"), strings.Index(log, "state: saved"), "the feeds close first")
	assert.NotContains(t, log, id)
	assert.NotContains(t, log, tok)
	if runtime.GOOS != "windows" {
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file holds session ids and tokens")
	}

	url, stderr, stop = start(t, "-addr", "127.0.0.1:0", "-state", file) // start's cleanup stops it if the test fails
	assert.Contains(t, stderr.String(), "state: restored from "+file+": 1 session(s), 1 login token(s), 0 external user(s)")
	assert.NoFileExists(t, file, "removed once read: a crash must not bring back a login that ends now")
	status, m = authCall(t, url, id, `{"auth":{"type":"auth"}}`)
	require.Equal(t, http.StatusOK, status, "the session made before the restart: %v", m)
	assert.Equal(t, "bob", m["user"].(map[string]any)["login"])
	_, ready := dialFeed(t, url, id)
	assert.Equal(t, "bob", ready["user"].(map[string]any)["login"], "the feed reconnects to the same login")
	status, m = postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","token":"`+tok+`"}}`)
	require.Equal(t, http.StatusOK, status, "the token made before the restart: %v", m)
	assert.Equal(t, "bob", m["user"].(map[string]any)["login"])
	status, _ = authCall(t, url, "not-a-session", `{"auth":{"type":"auth"}}`)
	assert.Equal(t, http.StatusUnauthorized, status)

	// A logout is final: the next restart does not bring the login back.
	r := servertest.PostJSON(t, nil, url+wire.PathLogout, `{"auth":{"type":"auth"}}`, "Authorization", wire.SessionHeaderPrefix+id)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, 0, stop())
	url, _, stop = start(t, "-addr", "127.0.0.1:0", "-state", file)
	defer stop()
	status, _ = authCall(t, url, id, `{"auth":{"type":"auth"}}`)
	assert.Equal(t, http.StatusUnauthorized, status, "logged out before the restart")
	status, _ = postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","token":"`+tok+`"}}`)
	assert.Equal(t, http.StatusUnauthorized, status, "the logout revoked the token")
}

// TestRunStateTestClock: with -test-clock and -state, the clock's advance
// survives the restart; a server without -test-clock refuses the file.
func TestRunStateTestClock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	url, _, stop := start(t, "-addr", "127.0.0.1:0", "-test-clock", "-state", file)
	before := time.Now()
	status, m := postJSON(t, url+"/test/clock", "", `{"advance":"20h"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	status, m = postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","username":"bob","password":"builder"}}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	tok := m["token"].(map[string]any)["value"].(string)
	require.Equal(t, 0, stop())

	url, _, stop = start(t, "-addr", "127.0.0.1:0", "-test-clock", "-state", file)
	status, m = postJSON(t, url+"/test/clock", "", `{}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	assert.GreaterOrEqual(t, int64(m["now"].(float64)), before.Add(20*time.Hour).UnixMilli(), "still 20 hours ahead")
	status, m = postJSON(t, url+"/test/clock", "", `{"advance":"5h"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	status, m = postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","token":"`+tok+`"}}`)
	assert.Equal(t, http.StatusOK, status, "made at +20h, the token lives until +44h: %v", m)
	require.Equal(t, 0, stop())

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"-addr", "127.0.0.1:0", "-state", file}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "state file "+file+" was saved by a server on the test clock, 25h0m0s ahead of the real one; start with -test-clock")
	assert.Empty(t, stdout.String())
}
