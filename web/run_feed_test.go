package main

// The live feed of the running server: shutdown and the test clock.

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

// openFeed logs in as curl would, opens a live feed with the session from
// the reply, and returns it with the ready message.
func openFeed(t *testing.T, url string) (*websocket.Conn, map[string]any, string) {
	t.Helper()
	status, m := postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","username":"bob","password":"builder","notoken":true}}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	id := m["user"].(map[string]any)["session"].(string)
	c, ready := dialFeed(t, url, id)
	return c, ready, id
}

// dialFeed opens a live feed for the session id (made without a sub-ID)
// and returns it with the ready message.
func dialFeed(t *testing.T, url, id string) (*websocket.Conn, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, servertest.FeedURL(url, ""), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"auth","session":"`+id+`","pingtime":60}`)))
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	var ready map[string]any
	require.NoError(t, json.Unmarshal(data, &ready))
	require.Equal(t, "ready", ready["type"], "%s", data)
	return c, ready
}

// closeWait bounds the wait for a feed's close; it only keeps a broken test
// from hanging.
const closeWait = 30 * time.Second

// TestRunFeedShutdown: a graceful stop closes the live feeds with 1012
// (Service Restart), which http.Server.Shutdown alone would leave open.
func TestRunFeedShutdown(t *testing.T) {
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-server-version", "1.2.3-test")
	c, ready, id := openFeed(t, url)
	assert.Equal(t, "1.2.3-test", ready["version"])

	code := make(chan websocket.StatusCode, 1)
	go func() { code <- servertest.CloseCode(t, c, closeWait) }()
	assert.Equal(t, 0, stop())
	assert.Equal(t, websocket.StatusCode(wire.FeedRestart), <-code)
	log := stderr.String()
	assert.Contains(t, log, "feed 1 open: user 102")
	assert.Contains(t, log, "feed 1 closed 1012 (restart: the server is shutting down)")
	assert.NotContains(t, log, id)
}

// TestRunFeedTestClock: with -test-clock, moving the clock past a session's
// end closes its feed at the next check, within a second.
func TestRunFeedTestClock(t *testing.T) {
	url, _, stop := start(t, "-addr", "127.0.0.1:0", "-test-clock")
	defer stop()
	c, ready, _ := openFeed(t, url)
	assert.NotEmpty(t, ready["version"], "the build's")
	status, m := postJSON(t, url+"/test/clock", "", `{"advance":"9h"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), servertest.CloseCode(t, c, closeWait))
}
