package feedserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/strictjson"
)

// feed is one open feed.
type feed struct {
	id     uint64 // numbers the feed's log lines
	conn   *websocket.Conn
	opened time.Time
	done   chan struct{} // closed when its handler has returned

	mu      sync.Mutex
	session string               // the session id its auth message named; "" before
	user    int64                // its session's user, once ready
	counted bool                 // among its user's ready feeds (Hub.byUser)
	code    websocket.StatusCode // the code the server closed it with; 0 while it has not
	why     string               // why, for the log
}

// reasons are the close reasons of the server's codes, as web/PROTOCOL.md
// gives them; the details go to the log only.
var reasons = map[websocket.StatusCode]string{
	wire.FeedBadRequest: "bad request",
	wire.FeedLoggedOut:  "logged out",
	wire.FeedRestart:    "restart",
	TooMany:             "too many feeds",
}

// close closes the feed with code, once: a later call, whatever its code,
// changes nothing. It does not wait: the close handshake runs in a goroutine
// of its own, bounded by coder/websocket (5 seconds to write the close frame,
// 5 to hear the client's), and ends the feed's read loop.
func (f *feed) close(code websocket.StatusCode, why string) {
	f.mu.Lock()
	if f.code != 0 {
		f.mu.Unlock()
		return
	}
	f.code, f.why = code, why
	f.mu.Unlock()
	go f.conn.Close(code, reasons[code])
}

// closed returns the code the server closed the feed with, 0 if it has not.
func (f *feed) closed() (websocket.StatusCode, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code, f.why
}

// authMessage is the client's first message.
type authMessage struct {
	Type     string `json:"type"`
	Session  string `json:"session"`
	PingTime *int   `json:"pingtime"`
}

// message is what the hub reads of every later message: its type.
type message struct {
	Type string `json:"type"`
}

// readyMessage answers a good auth message.
type readyMessage struct {
	Type    string    `json:"type"`
	Version string    `json:"version"`
	User    wire.User `json:"user"`
}

var pong = []byte(`{"type":"` + wire.FeedPong + `"}`)

// serve reads the feed's messages until its connection closes: the auth
// message first, within firstMessage, then pings, each within the silence
// its pingtime allows. Whoever closes the feed (this loop, End, the check,
// Shutdown) does it through f.close, and the loop ends when the connection
// has closed.
func (h *Hub) serve(f *feed, subID, cookie string) {
	var late atomic.Pointer[string] // why the timer closes the feed
	late.Store(ptr(fmt.Sprintf("no auth message within %s", h.firstMessage)))
	timer := time.AfterFunc(h.firstMessage, func() { f.close(wire.FeedBadRequest, *late.Load()) })
	defer timer.Stop()
	var silence time.Duration // 0 until the auth message has been taken
	var err error
	for {
		var typ websocket.MessageType
		var data []byte
		typ, data, err = f.conn.Read(context.Background())
		if err != nil {
			break
		}
		if code, _ := f.closed(); code != 0 {
			continue // closing: the client's last messages do not count
		}
		if silence > 0 {
			timer.Reset(silence)
		}
		if typ != websocket.MessageText || !isObject(data) {
			f.close(wire.FeedBadRequest, "a message that is no JSON object")
			continue
		}
		if silence == 0 {
			silence = h.auth(f, data, subID, cookie)
			if silence > 0 {
				late.Store(ptr(fmt.Sprintf("no message within %s", silence)))
				timer.Reset(silence)
			}
			continue
		}
		var m message
		if strictjson.UnmarshalLenient(data, &m) != nil {
			f.close(wire.FeedBadRequest, "a message that is no JSON object with a string type")
			continue
		}
		if m.Type == wire.FeedPing {
			h.send(f, pong)
		}
		// Other types, a later auth message included, are ignored: a newer
		// client may send what this server does not know.
	}
	code, why := f.closed()
	switch {
	case code != 0:
		h.log.Printf("feed %d closed %d (%s: %s) after %s", f.id, code, reasons[code], why, time.Since(f.opened).Round(time.Millisecond))
	case websocket.CloseStatus(err) != -1:
		h.log.Printf("feed %d closed %d by the client after %s", f.id, websocket.CloseStatus(err), time.Since(f.opened).Round(time.Millisecond))
	default:
		h.log.Printf("feed %d lost its connection (%v) after %s", f.id, err, time.Since(f.opened).Round(time.Millisecond))
	}
}

// auth takes the first message: the session it names (or the cookie's) must
// be live and of the feed's sub-ID. It answers ready and returns how long
// the feed may then stay silent, or closes the feed and returns 0.
func (h *Hub) auth(f *feed, data []byte, subID, cookie string) time.Duration {
	var m authMessage
	if err := strictjson.UnmarshalLenient(data, &m); err != nil || m.Type != wire.FeedAuth {
		f.close(wire.FeedBadRequest, `the first message is no {"type":"auth",...}`)
		return 0
	}
	ping := wire.FeedPingTimeDefault
	if m.PingTime != nil {
		ping = *m.PingTime
	}
	if ping < wire.FeedPingTimeMin || ping > wire.FeedPingTimeMax {
		f.close(wire.FeedBadRequest, fmt.Sprintf("pingtime %d is not %d to %d", ping, wire.FeedPingTimeMin, wire.FeedPingTimeMax))
		return 0
	}
	id := m.Session
	if id == "" && subID == "" {
		id = cookie
	}
	if id == "" {
		f.close(wire.FeedLoggedOut, "no session")
		return 0
	}
	h.follow(f, id)
	user, ok := h.sessions.Open(id, subID)
	if !ok {
		f.close(wire.FeedLoggedOut, "no live session of its sub-ID")
		return 0
	}
	user.Session = ""
	b, err := json.Marshal(readyMessage{Type: wire.FeedReady, Version: h.version, User: user})
	if err != nil { // a wire.User always encodes
		f.close(wire.FeedBadRequest, err.Error())
		return 0
	}
	// Counted before it hears it is ready, so that the user's feeds are
	// counted in the order their clients saw them open.
	if oldest := h.ready(f, user.ID); oldest != nil {
		oldest.close(TooMany, fmt.Sprintf("user %d opened more than %d feeds", user.ID, h.maxPerUser))
	}
	h.send(f, b)
	h.log.Printf("feed %d open: user %d, pingtime %ds", f.id, user.ID, ping)
	return h.silence(time.Duration(ping) * time.Second)
}

// send writes one message under its own deadline. A failed write leaves the
// connection closed, which ends the read loop.
func (h *Hub) send(f *feed, msg []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), h.writeTimeout)
	defer cancel()
	_ = f.conn.Write(ctx, websocket.MessageText, msg)
}

// drain reads a feed that is being closed until its connection has closed,
// so that the close handshake completes.
func (h *Hub) drain(f *feed) {
	for {
		if _, _, err := f.conn.Read(context.Background()); err != nil {
			return
		}
	}
}

// isObject reports whether data is a JSON object (valid JSON that starts
// with '{').
func isObject(data []byte) bool {
	return json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
}

func ptr[T any](v T) *T { return &v }
