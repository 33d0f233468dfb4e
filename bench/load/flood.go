package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// idleFlood opens n connections from nAddrs addresses, makes one check
// on each (which fails with 401: no session) and leaves them idle; while
// they are held, it logs in and checks from addresses of their own, and
// then closes them.
func idleFlood(srv *pbxServer, addrs *addrPool, users *userRing, n, nAddrs int) Flood {
	f := Flood{Conns: n, Addresses: nAddrs, Answered: StatusCounts{}}
	host := strings.TrimPrefix(srv.url, "http://")
	from := addrs.take(nAddrs)
	conns := make([]net.Conn, n)
	var mu sync.Mutex
	sem := make(chan struct{}, floodDialers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			status, conn := idleConn(host, from[i%len(from)])
			mu.Lock()
			f.Answered[status]++
			mu.Unlock()
			conns[i] = conn
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	f.OpenAtLogin = countOpen(conns)

	// While they are held: logins, each from an address of its own, one at a
	// time, and checks.
	own := addrs.take(5)
	loginT := loginPhase(srv, 1, own[:1], users, 3*time.Second, 20, nil)
	f.Logins = loginT
	f.LoginGotThrough = loginT.Statuses["200"] > 0
	checkT := checkPhaseRun(srv, 1, own[1:2], users, 2*time.Second)
	f.Checks = checkT
	f.OpenAfter = countOpen(conns)
	return f
}

// idleConn opens a connection from the address, sends one check on it, reads
// the reply and returns its status and the connection, left open (nil if it
// failed).
func idleConn(host string, from net.IP) (string, net.Conn) {
	c, err := dialerFrom(from).Dial("tcp", host)
	if err != nil {
		return failureKind(err), nil
	}
	c.SetDeadline(time.Now().Add(clientDeadline))
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nOrigin: %s\r\nContent-Length: %d\r\n\r\n%s",
		authPath, host, trustedOrigin, len(sessionBody), sessionBody)
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return failureKind(err), nil
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return failureKind(err), nil
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.SetDeadline(time.Time{})
	if resp.Close {
		c.Close()
		return strconv.Itoa(resp.StatusCode) + "-closed", nil
	}
	return strconv.Itoa(resp.StatusCode), c
}

// countOpen counts the connections the server has not closed: a read that
// waits a moment finds nothing to read instead of EOF.
func countOpen(conns []net.Conn) int {
	n := 0
	var buf [1]byte
	for _, c := range conns {
		if c == nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(buf[:])
		if errors.Is(err, os.ErrDeadlineExceeded) {
			n++
		}
	}
	return n
}
