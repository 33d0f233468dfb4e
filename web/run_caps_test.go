package main

// The connection caps of the running server.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawRequest sends one request on c and reads its reply.
func rawRequest(t *testing.T, c net.Conn, r *bufio.Reader, header string) *http.Response {
	t.Helper()
	_, err := io.WriteString(c, "GET /api/api.d.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n"+header+"\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRunConnectionCaps: one address holds at most -max-conns-per-addr
// connections, idle keep-alive ones included; one more is answered 503 at
// once, and a closed one makes room. Headers over the limit get 431.
func TestRunConnectionCaps(t *testing.T) {
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-max-conns-per-addr", "2")
	addr := strings.TrimPrefix(url, "http://")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		resp := rawRequest(t, c, bufio.NewReader(c), "")
		require.NotEqual(t, http.StatusServiceUnavailable, resp.StatusCode)
		held = append(held, c) // now an idle keep-alive connection
	}
	over, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer over.Close()
	resp, err := http.ReadResponse(bufio.NewReader(over), nil)
	require.NoError(t, err, "the server answers before any request")
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "too many connections from your address")

	require.NoError(t, held[0].Close())
	require.Eventually(t, func() bool { // once the server has seen the close
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		_, err = io.WriteString(c, "GET /api/api.d.ts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		if err != nil {
			return false
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && resp.StatusCode != http.StatusServiceUnavailable
	}, 10*time.Second, 10*time.Millisecond, "a closed connection makes room")

	r := bufio.NewReader(held[1])
	resp = rawRequest(t, held[1], r, "X-Big: "+strings.Repeat("x", 100<<10)+"\r\n")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	assert.Equal(t, 0, stop())
	assert.Contains(t, stderr.String(), "refused 1 connection(s) over the caps; the last from 127.0.0.1: its address holds -max-conns-per-addr connections")
}
