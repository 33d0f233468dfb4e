//go:build !js

package native_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbx"
)

// wsServer is a WebSocket server whose handler the test writes; it records
// how each connection was closed by the client.
type wsServer struct {
	*httptest.Server
	mu     sync.Mutex
	closed []error // the error of the server's read that saw the client's close
}

func serveWS(t *testing.T, handle func(ctx context.Context, c *websocket.Conn)) *wsServer {
	t.Helper()
	s := &wsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		handle(r.Context(), c)
	}))
	t.Cleanup(s.Close)
	return s
}

// readAll reads until the connection ends and records why.
func (s *wsServer) readAll(ctx context.Context, c *websocket.Conn) {
	for {
		if _, _, err := c.Read(ctx); err != nil {
			s.mu.Lock()
			s.closed = append(s.closed, err)
			s.mu.Unlock()
			return
		}
	}
}

func (s *wsServer) closes() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.closed...)
}

func wsURL(s *wsServer) string { return "ws" + strings.TrimPrefix(s.URL, "http") + wire.FeedPath }

func dial(t *testing.T, url string) feed.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sock, err := (&native.WebSockets{}).Dial(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { sock.Close(1000, "") })
	return sock
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// closeError returns err as a *feed.CloseError, failing the test if it is not one.
func closeError(t *testing.T, err error) *feed.CloseError {
	t.Helper()
	var ce *feed.CloseError
	require.True(t, errors.As(err, &ce), "%T %v is no *feed.CloseError", err, err)
	return ce
}

// The server reads the auth message, answers ready, then closes with code
// and reason: the socket reports exactly those.
func TestWebSocketsKeepTheServersCloseCode(t *testing.T) {
	for _, tc := range []struct {
		code   websocket.StatusCode
		reason string
	}{
		{wire.FeedLoggedOut, "logged out"},
		{wire.FeedRestart, "the server is shutting down"},
		{wire.FeedBadRequest, ""},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			srv := serveWS(t, func(ctx context.Context, c *websocket.Conn) {
				typ, msg, err := c.Read(ctx)
				if err != nil || typ != websocket.MessageText || string(msg) != `{"type":"auth","session":"S1"}` {
					_ = c.Close(websocket.StatusPolicyViolation, "unexpected first message")
					return
				}
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ready","version":"7.2"}`))
				_ = c.Close(tc.code, tc.reason)
			})
			ctx := testCtx(t)
			sock := dial(t, wsURL(srv))
			require.NoError(t, sock.Send(ctx, []byte(`{"type":"auth","session":"S1"}`)))
			msg, err := sock.Receive(ctx)
			require.NoError(t, err)
			assert.Equal(t, `{"type":"ready","version":"7.2"}`, string(msg))

			_, err = sock.Receive(ctx)
			assert.Equal(t, &feed.CloseError{Code: int(tc.code), Reason: tc.reason}, closeError(t, err))
			_, err = sock.Receive(ctx)
			assert.Equal(t, &feed.CloseError{Code: int(tc.code), Reason: tc.reason}, closeError(t, err), "and again")
			err = sock.Send(ctx, []byte(`{"type":"ping"}`))
			assert.Equal(t, int(tc.code), closeError(t, err).Code, "a send after the close says why too")
		})
	}
}

func TestWebSocketsAbnormalClosure(t *testing.T) {
	srv := serveWS(t, func(ctx context.Context, c *websocket.Conn) {
		_, _, _ = c.Read(ctx)
		_ = c.CloseNow() // no close frame: the TCP connection just ends
	})
	ctx := testCtx(t)
	sock := dial(t, wsURL(srv))
	require.NoError(t, sock.Send(ctx, []byte(`{}`)))
	_, err := sock.Receive(ctx)
	ce := closeError(t, err)
	assert.Equal(t, feed.CodeAbnormal, ce.Code)
	assert.NotEmpty(t, ce.Reason, "the reason says what failed")
}

// A Receive whose context ends returns, and the connection stays usable:
// the feed's handshake has a deadline, the running feed has none.
func TestWebSocketsReceiveHonoursItsContext(t *testing.T) {
	srv := serveWS(t, func(ctx context.Context, c *websocket.Conn) {
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			_ = c.Write(ctx, websocket.MessageText, msg) // echo
		}
	})
	ctx := testCtx(t)
	sock := dial(t, wsURL(srv))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := sock.Receive(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	require.NoError(t, sock.Send(ctx, []byte(`{"type":"ping"}`)))
	msg, err := sock.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, `{"type":"ping"}`, string(msg))
}

func TestWebSocketsCloseSendsTheCode(t *testing.T) {
	var srv *wsServer
	srv = serveWS(t, func(ctx context.Context, c *websocket.Conn) { srv.readAll(ctx, c) })
	sock := dial(t, wsURL(srv))
	sock.Close(1000, "")
	require.Eventually(t, func() bool { return len(srv.closes()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(srv.closes()[0]))
}

func TestWebSocketsTextOnly(t *testing.T) {
	var srv *wsServer
	srv = serveWS(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3})
		srv.readAll(ctx, c)
	})
	sock := dial(t, wsURL(srv))
	_, err := sock.Receive(testCtx(t))
	assert.Equal(t, int(websocket.StatusUnsupportedData), closeError(t, err).Code)
	require.Eventually(t, func() bool { return len(srv.closes()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, websocket.StatusUnsupportedData, websocket.CloseStatus(srv.closes()[0]), "the server is told why")
}

func TestWebSocketsReadLimit(t *testing.T) {
	srv := serveWS(t, func(ctx context.Context, c *websocket.Conn) {
		_ = c.Write(ctx, websocket.MessageText, []byte(`"`+strings.Repeat("a", native.MaxFeedMessage-2)+`"`))
		_ = c.Write(ctx, websocket.MessageText, []byte(`"`+strings.Repeat("a", native.MaxFeedMessage-1)+`"`))
		_, _, _ = c.Read(ctx)
	})
	ctx := testCtx(t)
	sock := dial(t, wsURL(srv))
	msg, err := sock.Receive(ctx)
	require.NoError(t, err)
	assert.Len(t, msg, native.MaxFeedMessage, "64 KiB is allowed")
	_, err = sock.Receive(ctx)
	assert.Equal(t, int(websocket.StatusMessageTooBig), closeError(t, err).Code, "one byte more is not")
}

func TestWebSocketsDialFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx := testCtx(t)
	_, err := (&native.WebSockets{}).Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+wire.FeedPath)
	assert.Error(t, err)

	_, err = (&native.WebSockets{HTTP: native.NewTransport().HTTP}).Dial(ctx, "ws://127.0.0.1:1/")
	assert.Error(t, err)
}

// The feed runs on the dialer against a server that closes with 4001.
func TestFeedOverWebSockets(t *testing.T) {
	srv := serveWS(t, func(ctx context.Context, c *websocket.Conn) {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"ready","version":"7.2"}`))
		_ = c.Close(wire.FeedLoggedOut, "logged out")
	})
	ev := make(chan string, 10)
	f := feed.New(feed.Config{
		Dialer:  &native.WebSockets{},
		Owner:   owner{url: wsURL(srv), ev: ev},
		OnUp:    func() { ev <- "up" },
		OnError: func(errno int, text string) { ev <- "error " + text },
	})
	defer f.Stop()
	require.NoError(t, f.Start(testCtx(t), feed.Options{MaxRetry: feed.RetryForever}))
	assert.Equal(t, "up", <-ev)
	for _, want := range []string{"relogin", "loggedout"} {
		select {
		case e := <-ev:
			assert.Equal(t, want, e)
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", want)
		}
	}
	assert.Contains(t, <-ev, "logged out")
	assert.False(t, f.Running())
}

type owner struct {
	url string
	ev  chan string
}

func (o owner) Connect(time.Duration) (string, []byte, error) {
	return o.url, []byte(`{"type":"auth","session":"S1","pingtime":10}`), nil
}
func (o owner) Relogin() bool { o.ev <- "relogin"; return false }
func (o owner) LoggedOut()    { o.ev <- "loggedout" }
func (o owner) Reconnected()  { o.ev <- "reconnected" }

// NewClient's feed against the local PBX: it comes up after the login, and
// the session's end (here by time passing) ends it with errno 2.
func TestNewClientFeed(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	srv := serve(t, pbx.New(pbx.Config{Users: demoDir, Now: now, Feed: pbx.FeedOptions{CheckEvery: 10 * time.Millisecond}}))
	c, err := native.NewClient(srv.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := testCtx(t)
	errs := make(chan int, 10)
	ups := make(chan struct{}, 10)
	cbs := auth.FeedCallbacks{OnUp: func() { ups <- struct{}{} }, OnError: func(errno int, _ string) { errs <- errno }}

	err = c.StartFeed(ctx, feed.Options{}, cbs)
	var fe *feed.Error
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, feed.ErrNotReady, fe.Errno, "no feed before the login")
	assert.Equal(t, feed.ErrNotReady, <-errs)

	require.NoError(t, c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	require.NoError(t, c.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, cbs), "the session cookie opens the feed")
	<-ups

	skew.Store(int64(25 * time.Hour)) // the session and its token expire
	select {
	case errno := <-errs:
		assert.Equal(t, feed.ErrLoggedOut, errno)
	case <-ctx.Done():
		t.Fatal("the feed did not report the end of the login")
	}
	assert.Nil(t, c.User(), "the login was cleared before the page heard of it")
}

// A new host stops the feed of the old one's login, as logout does: its end
// there must not log the client out of the new host.
func TestSetHostStopsTheFeed(t *testing.T) {
	var skew atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	srv := serve(t, pbx.New(pbx.Config{Users: demoDir, Now: now, Feed: pbx.FeedOptions{CheckEvery: 10 * time.Millisecond}}))
	other := serve(t, pbx.New(pbx.Config{Users: demoDir}))
	c, err := native.NewClient(srv.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := testCtx(t)
	errs := make(chan int, 10)
	cbs := auth.FeedCallbacks{OnError: func(errno int, _ string) { errs <- errno }}
	require.NoError(t, c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	require.NoError(t, c.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, cbs))

	require.NoError(t, c.SetHost(other.URL))
	require.NoError(t, c.Login(ctx, auth.Options{Username: "bob", Password: "builder"}))
	err = c.FeedUp(ctx)
	var fe *feed.Error
	require.True(t, errors.As(err, &fe), "the old host's feed was stopped: %v", err)
	assert.Contains(t, fe.Text, "stopped")
	assert.Empty(t, errs, "silently, as logout stops it")
	require.NoError(t, c.Login(ctx, auth.Options{CheckOnly: true}))
	assert.Equal(t, "bob", c.User().Login)
}

// logout() with the feed up stops the feed before it asks the PBX to end
// the login: the server's closing of the feed then finds it stopped, and
// the client asks nothing more (it used to check the login again after the
// logout, a POST that could only be refused).
func TestLogoutWithTheFeedUpAsksNothingMore(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	h := pbx.New(pbx.Config{Users: demoDir})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	c, err := native.NewClient(srv.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx := testCtx(t)
	errs := make(chan int, 10)
	cbs := auth.FeedCallbacks{OnError: func(errno int, _ string) { errs <- errno }}
	require.NoError(t, c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	require.NoError(t, c.StartFeed(ctx, feed.Options{MaxRetry: feed.RetryForever}, cbs))

	mu.Lock()
	before := len(asked)
	mu.Unlock()
	require.NoError(t, c.Logout(ctx))
	// A check after the logout runs after anything the feed queued.
	require.Error(t, c.Login(ctx, auth.Options{CheckOnly: true}))
	mu.Lock()
	after := append([]string(nil), asked[before:]...)
	mu.Unlock()
	assert.Equal(t, []string{"POST " + wire.PathLogout, "POST " + wire.PathLogin}, after,
		"logout, then the page's own check: nothing in between")
	assert.Empty(t, errs, "the page's own logout stops the feed silently")
}
