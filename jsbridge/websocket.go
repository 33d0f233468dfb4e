//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/feed"
)

// WebSockets is the feed's Dialer over the browser's WebSocket: a thin
// wrapper that keeps the server's close code and reason, which
// coder/websocket loses under GOOS=js (and it would link net/http). In
// Node.js it takes any constructor of the same API, such as the ws package's.
type WebSockets struct {
	// From is the object whose property WebSocket is the constructor, read
	// at each Dial; the zero Value stands for the global object.
	From safejs.Value
}

// Dial opens a WebSocket and returns once it is open, or fails.
func (w WebSockets) Dial(ctx context.Context, url string) (feed.Socket, error) {
	from := w.From
	if absent(from) {
		from = global
	}
	ctor := mustGet(from, "WebSocket")
	if absent(ctor) {
		return nil, errors.New("there is no WebSocket here (in Node.js, give one: configure({WebSocket}) with the ws package)")
	}
	ws, err := ctor.New(url)
	if err != nil {
		return nil, err
	}
	s := &socket{ws: ws, msgs: make(chan []byte, 64), opened: make(chan struct{}), closed: make(chan struct{})}
	for _, l := range []struct {
		event string
		fn    func(ev safejs.Value)
	}{
		{"open", func(safejs.Value) { s.once(&s.openOnce, s.opened) }},
		{"message", s.onMessage},
		{"close", s.onClose},
		// A close event follows every error; the ws package of Node.js
		// throws an error event that has no listener.
		{"error", func(safejs.Value) {}},
	} {
		if err := s.listen(l.event, l.fn); err != nil {
			s.Close(1000, "")
			return nil, err
		}
	}
	select {
	case <-s.opened:
		return s, nil
	case <-s.closed:
		s.release()
		return nil, s.closeErr
	case <-ctx.Done():
		s.Close(1000, "")
		return nil, ctx.Err()
	}
}

// socket is one browser WebSocket. Its JS listeners only put what they see
// on channels: a JS callback must not block.
type socket struct {
	ws                 safejs.Value
	msgs               chan []byte
	opened, closed     chan struct{}
	openOnce, doneOnce sync.Once
	closeErr           *feed.CloseError
	mu                 sync.Mutex
	funcs              []safejs.Func
}

func (s *socket) once(o *sync.Once, ch chan struct{}) { o.Do(func() { close(ch) }) }

func (s *socket) listen(event string, fn func(ev safejs.Value)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		_, _ = guard(func() (any, error) { fn(arg(args, 0)); return nil, nil })
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := s.ws.Call("addEventListener", event, f); err != nil {
		f.Release()
		return err
	}
	s.mu.Lock()
	s.funcs = append(s.funcs, f)
	s.mu.Unlock()
	return nil
}

func (s *socket) onMessage(ev safejs.Value) {
	data := mustGet(ev, "data")
	if kind(data) != "string" {
		return // the feed sends text only
	}
	str, err := data.String()
	if err != nil {
		return
	}
	select {
	case s.msgs <- []byte(str):
	case <-s.closed:
	default: // a reader that stopped reading: drop, as a full buffer
	}
}

func (s *socket) onClose(ev safejs.Value) {
	code, _ := mustGet(ev, "code").Int()
	reason, _ := mustGet(ev, "reason").String()
	if code == 0 {
		code = feed.CodeAbnormal
	}
	s.doneOnce.Do(func() {
		s.closeErr = &feed.CloseError{Code: code, Reason: reason}
		close(s.closed)
	})
	s.release()
}

// release removes the listeners once the socket is closed.
func (s *socket) release() {
	s.mu.Lock()
	funcs := s.funcs
	s.funcs = nil
	s.mu.Unlock()
	for _, f := range funcs {
		f.Release()
	}
}

// Send sends a text message.
func (s *socket) Send(ctx context.Context, msg []byte) error {
	select {
	case <-s.closed:
		return s.closeErr
	default:
	}
	_, err := s.ws.Call("send", string(msg))
	return err
}

// Receive returns the next message, or the *feed.CloseError once closed.
func (s *socket) Receive(ctx context.Context) ([]byte, error) {
	select {
	case m := <-s.msgs:
		return m, nil
	case <-s.closed:
		select {
		case m := <-s.msgs: // what arrived before the close
			return m, nil
		default:
		}
		return nil, s.closeErr
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close closes the socket; the close event releases the listeners.
func (s *socket) Close(code int, reason string) {
	select {
	case <-s.closed:
		return
	default:
	}
	if _, err := s.ws.Call("close", code, reason); err != nil {
		_, _ = s.ws.Call("close")
	}
	// Stop handing messages to a reader that has gone.
	s.doneOnce.Do(func() {
		s.closeErr = &feed.CloseError{Code: code, Reason: reason}
		close(s.closed)
	})
}
