package connlimit_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/connlimit"
)

// server accepts on a capped listener and hands out what it accepts.
type server struct {
	ln       *connlimit.Listener
	accepted chan net.Conn
	refused  chan string
}

func newServer(t *testing.T, max, perClient int) *server {
	t.Helper()
	return newServerWith(t, max, perClient, false)
}

func newServerWith(t *testing.T, max, perClient int, silent bool) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &server{accepted: make(chan net.Conn, 100), refused: make(chan string, 100)}
	s.ln = &connlimit.Listener{Listener: inner, Max: max, PerClient: perClient,
		OnRefuse: func(client string, perClient bool) {
			what := "total"
			if perClient {
				what = "client"
			}
			s.refused <- client + " " + what
		}, Silent: silent}
	t.Cleanup(func() { s.ln.Close() })
	go func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				close(s.accepted)
				return
			}
			s.accepted <- c
		}
	}()
	return s
}

// dial connects from the loopback address from (127.0.0.x).
func (s *server) dial(t *testing.T, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", s.ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// refusedWith reads what a refused connection hears: a 503 and its end.
func refusedWith(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestCapPerClient(t *testing.T) {
	s := newServer(t, 0, 2)
	a1, a2 := s.dial(t, "127.0.0.1"), s.dial(t, "127.0.0.1")
	held := []net.Conn{<-s.accepted, <-s.accepted}
	_, _ = a1, a2

	over := s.dial(t, "127.0.0.1")
	resp, body := refusedWith(t, over)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Contains(t, body, "too many connections from your address")
	assert.Equal(t, "127.0.0.1 client", <-s.refused)

	other := s.dial(t, "127.0.0.2")
	<-s.accepted
	_ = other
	total, mine := s.ln.Open("127.0.0.1")
	assert.Equal(t, 3, total)
	assert.Equal(t, 2, mine)

	// A closed connection makes room.
	require.NoError(t, held[0].Close())
	_ = held[0].Close() // a second Close releases nothing more
	_, mine = s.ln.Open("127.0.0.1")
	assert.Equal(t, 1, mine)
	s.dial(t, "127.0.0.1")
	<-s.accepted
	_, mine = s.ln.Open("127.0.0.1")
	assert.Equal(t, 2, mine)
}

func TestCapInAll(t *testing.T) {
	s := newServer(t, 2, 0)
	s.dial(t, "127.0.0.1")
	s.dial(t, "127.0.0.2")
	<-s.accepted
	<-s.accepted
	resp, body := refusedWith(t, s.dial(t, "127.0.0.3"))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, body, "holds too many connections")
	assert.Equal(t, "127.0.0.3 total", <-s.refused)
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000":                "127.0.0.1",
		"[::ffff:10.0.0.1]:80":          "10.0.0.1",
		"[2001:db8:1:2:3:4:5:6]:443":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443":    "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":              "fe80::/64",
		"[::1]:8080":                    "::/64",
		"not an address":                "not an address",
		strings.Repeat("x", 3) + ":bad": "xxx:bad",
	} {
		assert.Equal(t, want, connlimit.ClientKey(in), in)
	}
}

// TestSilentRefusal: behind TLS a refused connection is closed with nothing
// written, since a plain-text 503 would read as a broken handshake.
func TestSilentRefusal(t *testing.T) {
	s := newServerWith(t, 1, 0, true)
	s.dial(t, "127.0.0.1")
	<-s.accepted
	over := s.dial(t, "127.0.0.2")
	got, err := io.ReadAll(over)
	require.NoError(t, err, "the refused connection is closed")
	assert.Empty(t, got, "and hears nothing")
	assert.Equal(t, "127.0.0.2 total", <-s.refused)
}
