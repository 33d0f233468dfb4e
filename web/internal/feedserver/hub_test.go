package feedserver

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

// fakeSessions knows the sessions it is given; a session leaves when the
// test kills it, and the hub finds out only by its check.
type fakeSessions struct {
	mu     sync.Mutex
	alive  map[string]bool
	looked chan string // Alive calls, as long as there is room
}

func (s *fakeSessions) Open(id, subID string) (wire.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return wire.User{ID: 7, Login: "u", Session: "must-not-be-sent"}, s.alive[id] && subID == ""
}

func (s *fakeSessions) Alive(id string) bool {
	s.mu.Lock()
	ok := s.alive[id]
	s.mu.Unlock()
	select {
	case s.looked <- id:
	default: // nobody is listening now
	}
	return ok
}

func (s *fakeSessions) kill(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alive[id] = false
}

func open(t *testing.T, url, id string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, servertest.FeedURL(url, ""), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"auth","session":"`+id+`"}`)))
	_, data, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"ready","version":"v","user":{"id":7,"login":"u","name":"","company":"","home":"","perms":null}}`, string(data))
	return c
}

// TestCheck: the check looks at each followed session once per round,
// closes the feeds of a session it finds dead, and runs only while some
// feed follows a session.
func TestCheck(t *testing.T) {
	sessions := &fakeSessions{alive: map[string]bool{"a": true, "b": true}, looked: make(chan string, 100)}
	h := New(sessions, Options{Version: "v", CheckEvery: time.Millisecond})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	a1, a2, b := open(t, srv.URL, "a"), open(t, srv.URL, "a"), open(t, srv.URL, "b")
	sessions.kill("a")
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), servertest.CloseCode(t, a1, 30*time.Second))
	assert.Equal(t, websocket.StatusCode(wire.FeedLoggedOut), servertest.CloseCode(t, a2, 30*time.Second))

	// b stays open and is looked at.
	for id := range sessions.looked {
		if id == "b" {
			break
		}
	}
	require.NoError(t, b.Close(websocket.StatusNormalClosure, ""))
	require.Eventually(t, func() bool { return h.Len() == 0 }, 30*time.Second, time.Millisecond)
	h.mu.Lock()
	assert.Nil(t, h.stopCheck, "no feed, no check")
	assert.Empty(t, h.bySession)
	h.mu.Unlock()
	h.End("a") // a session without feeds is no error
}

func TestBuildVersion(t *testing.T) {
	v := BuildVersion()
	assert.NotEmpty(t, v)
	assert.NotContains(t, v, "(devel)")
}
