package fault

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// feedWriter lets the Injector keep the connection of a live feed that the
// PBX takes over (a WebSocket upgrade hijacks it), to cut it on DropFeed.
type feedWriter struct {
	http.ResponseWriter
	in *Injector
}

// Unwrap lets http.ResponseController reach the writer beneath.
func (fw *feedWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

// Hijack takes over the connection and keeps it until it closes.
func (fw *feedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(fw.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	fc := &feedConn{Conn: conn, in: fw.in}
	in := fw.in
	in.mu.Lock()
	in.feeds[fc] = struct{}{}
	drop := in.mode.k == kindDropFeed // switched on while this one opened
	in.mu.Unlock()
	if drop {
		in.faulted.Add(1)
		in.logf("fault %s: cut a live feed", DropFeed)
		fc.reset()
	}
	return fc, brw, nil
}

// feedConn is a live feed's connection, kept while it is open.
type feedConn struct {
	net.Conn
	in   *Injector
	once sync.Once
}

func (c *feedConn) forget() {
	c.in.mu.Lock()
	delete(c.in.feeds, c)
	c.in.mu.Unlock()
}

// Close closes the connection and forgets it.
func (c *feedConn) Close() error {
	c.once.Do(c.forget)
	return c.Conn.Close()
}

// reset cuts the connection with a TCP RST.
func (c *feedConn) reset() {
	c.once.Do(c.forget)
	rst(c.Conn)
}
