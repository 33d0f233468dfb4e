// Package connlimit caps the connections a server holds open, in all and per client address.
//
// The caps are there so that one client (20,000 idle keep-alive
// connections, a flood of WebSockets) cannot use up the process's open
// files and lock everyone else out. A connection over a cap is answered at
// once with a plain HTTP 503 and closed, before any request is read.
//
// A client is counted by its IP address, and an IPv6 client by its /64
// network, which one machine usually has whole (ClientKey).
package connlimit

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// refusal is what a connection over a cap hears, as HTTP/1.1.
const refusal = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: %d\r\n\r\n%s"

// refusalTimeout bounds writing the refusal: a client over the cap gets no
// more of the server's time.
const refusalTimeout = time.Second

// Listener wraps a net.Listener and holds at most Max connections at once,
// and at most PerClient from one client (ClientKey); 0 or less: no cap.
// Set the fields before the first Accept. A connection counts from its
// accept to its Close, hijacked ones (WebSockets) included.
type Listener struct {
	net.Listener
	Max       int
	PerClient int
	// OnRefuse, if set, hears of every connection refused, with the
	// client's key and whether its own cap (rather than the total) was
	// reached; it must not block.
	OnRefuse func(client string, perClient bool)
	// Silent closes a connection over a cap without the 503: set it when
	// the connections carry TLS, where a plain-text answer would only read
	// as a broken handshake.
	Silent bool

	mu     sync.Mutex
	total  int
	counts map[string]int
}

// Accept returns the next connection within the caps; those over a cap are
// refused (answered 503, unless Silent, and closed) and never returned.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := ClientKey(c.RemoteAddr().String())
		if ok, perClient := l.take(key); !ok {
			if l.OnRefuse != nil {
				l.OnRefuse(key, perClient)
			}
			if l.Silent {
				_ = c.Close()
				continue
			}
			go refuse(c, perClient)
			continue
		}
		return &conn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

// take counts a connection of client key if the caps allow it, and says
// whether they did and, if not, whether the client's own cap stopped it.
func (l *Listener) take(key string) (ok, perClient bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.PerClient > 0 && l.counts[key] >= l.PerClient {
		return false, true
	}
	if l.Max > 0 && l.total >= l.Max {
		return false, false
	}
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.total++
	l.counts[key]++
	return true, false
}

func (l *Listener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.counts[key]--; l.counts[key] <= 0 {
		delete(l.counts, key)
	}
}

// Open returns the number of connections held, and of those of client key.
func (l *Listener) Open(key string) (total, client int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.counts[key]
}

// refuse answers a connection over a cap and closes it.
func refuse(c net.Conn, perClient bool) {
	msg := "the server holds too many connections; try again in a moment\n"
	if perClient {
		msg = "too many connections from your address; close some (idle ones too) and try again\n"
	}
	_ = c.SetWriteDeadline(time.Now().Add(refusalTimeout))
	_, _ = c.Write([]byte(fmt.Sprintf(refusal, len(msg), msg)))
	_ = c.Close()
}

// conn is a counted connection: its first Close releases its place.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// ClientKey returns the key a client is counted under, from its address
// ("IP:port", as net.Conn.RemoteAddr and http.Request.RemoteAddr give it):
// its IP, an IPv4 one mapped into IPv6 as IPv4, and an IPv6 one as its /64
// network ("2001:db8::/64"). An address that does not parse is its own key.
func ClientKey(remote string) string {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return remote
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
