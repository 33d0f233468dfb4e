//go:build !js

package native

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/pbxauth/pbxauth/core/feed"
)

// MaxFeedMessage bounds a message read from the feed; a longer one closes
// the connection with 1009 (message too big).
const MaxFeedMessage = 64 << 10

// WebSockets is a feed.Dialer over github.com/coder/websocket. Its sockets
// carry text messages and keep the close code and reason the server sent,
// which the feed needs to tell a logout (4001) from a drop.
type WebSockets struct {
	// HTTP makes the handshake (nil: http.DefaultClient). Its cookie jar
	// sends the session cookie of a login made without a sub-ID, as a
	// browser does.
	HTTP *http.Client
}

// Dial opens a WebSocket to url (ws, wss, http or https); ctx bounds the
// handshake only.
func (w *WebSockets) Dial(ctx context.Context, url string) (feed.Socket, error) {
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: w.HTTP})
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(MaxFeedMessage)
	s := &socket{conn: conn, msgs: make(chan []byte), gone: make(chan struct{}), closing: make(chan struct{})}
	go s.read()
	return s, nil
}

// socket is a feed.Socket on a *websocket.Conn. One goroutine reads the
// connection for as long as it is open, without a deadline: a Receive whose
// context ends returns, but does not cut the connection as a read of
// coder/websocket under that context would, so that Close can still close
// it cleanly with its code.
type socket struct {
	conn    *websocket.Conn
	msgs    chan []byte   // the messages, unbuffered: one at a time, in order
	gone    chan struct{} // closed once the connection has ended, after its last message
	closing chan struct{} // closed by Close: nobody takes messages any more

	closeOnce sync.Once
	mu        sync.Mutex
	end       *feed.CloseError // how the connection ended: set before gone is closed
}

// read hands the messages to Receive until the connection ends.
func (s *socket) read() {
	for {
		typ, msg, err := s.conn.Read(context.Background())
		if err != nil {
			s.ended(closeErrorOf(err))
			return
		}
		if typ != websocket.MessageText {
			const reason = "the feed carries text messages only"
			s.ended(&feed.CloseError{Code: int(websocket.StatusUnsupportedData), Reason: reason})
			_ = s.conn.Close(websocket.StatusUnsupportedData, reason)
			return
		}
		select {
		case s.msgs <- msg:
		case <-s.closing:
			return
		}
	}
}

// ended records how the connection ended and lets Receive return it.
func (s *socket) ended(e *feed.CloseError) {
	s.mu.Lock()
	s.end = e
	s.mu.Unlock()
	close(s.gone)
}

// closeErrorOf returns how a connection ended from the error of a read:
// the close frame the server sent, or 1006 with the error's text when
// there was none.
func closeErrorOf(err error) *feed.CloseError {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return &feed.CloseError{Code: int(ce.Code), Reason: ce.Reason}
	case errors.Is(err, websocket.ErrMessageTooBig):
		return &feed.CloseError{Code: int(websocket.StatusMessageTooBig), Reason: err.Error()}
	}
	return &feed.CloseError{Code: feed.CodeAbnormal, Reason: err.Error()}
}

// Receive returns the next text message, or how the connection ended (a
// *feed.CloseError), or the error of ctx if it ends first.
func (s *socket) Receive(ctx context.Context) ([]byte, error) {
	select {
	case msg := <-s.msgs:
		return msg, nil
	case <-s.gone:
		s.mu.Lock()
		defer s.mu.Unlock()
		return nil, s.end
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Send writes msg as one text message. As coder/websocket does, a ctx that
// ends before the message is written closes the connection.
func (s *socket) Send(ctx context.Context, msg []byte) error {
	err := s.conn.Write(ctx, websocket.MessageText, msg)
	if err == nil {
		return nil
	}
	select {
	case <-s.gone: // the server's close code says more than the write's error
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.end
	default:
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return closeErrorOf(err)
}

// Close starts the close handshake and returns without waiting for it.
func (s *socket) Close(code int, reason string) {
	s.closeOnce.Do(func() {
		close(s.closing)
		go func() { _ = s.conn.Close(websocket.StatusCode(code), reason) }()
	})
}
