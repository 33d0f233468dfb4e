package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The server's paths the clients post to. A login and a check are both
// posts to authPath: a check carries a session, a login a password.
const (
	authPath   = "/rest/auth/"
	logoutPath = "/rest/auth/logout"
)

// sessionBody is the body of a check and of a logout (the session goes in
// the Authorization header).
const sessionBody = `{"auth":{"type":"auth"}}`

func loginBody(login, password string) string {
	b, _ := json.Marshal(map[string]any{"auth": map[string]any{"type": "auth", "username": login, "password": password}})
	return string(b)
}

// addrPool hands out loopback addresses 127.x.y.z not used before.
type addrPool struct {
	mu   sync.Mutex
	next uint32 // the low 24 bits of the next address
}

func (p *addrPool) take(n int) []net.IP {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]net.IP, n)
	for i := range out {
		for p.next&0xff == 0 || p.next&0xff == 0xff {
			p.next++
		}
		out[i] = net.IPv4(127, byte(p.next>>16), byte(p.next>>8), byte(p.next))
		p.next++
	}
	return out
}

func repeat(ip net.IP, n int) []net.IP {
	out := make([]net.IP, n)
	for i := range out {
		out[i] = ip
	}
	return out
}

// dialerFrom dials from the source address from.
func dialerFrom(from net.IP) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 10 * time.Second}
}

// newClient is one HTTP client dialing from its own source address, with
// one keep-alive connection.
func newClient(from net.IP) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialerFrom(from).DialContext,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// logIn logs a new client, dialing from the address from, in as the ring's
// next user. If no session came of it, it closes the client and returns it
// nil, with the user and the reply for saying so.
func logIn(srv *pbxServer, from net.IP, users *userRing) (c *http.Client, login string, r reply) {
	c = newClient(from)
	login, password := users.next()
	r = srv.login(c, login, password)
	if r.session == "" {
		c.CloseIdleConnections()
		return nil, login, r
	}
	return c, login, r
}

// login, check and logout are the requests the clients make of the server.

func (s *pbxServer) login(c *http.Client, login, password string) reply {
	return post(context.Background(), c, s.url+authPath, "", loginBody(login, password))
}

func (s *pbxServer) check(c *http.Client, session string) reply {
	return post(context.Background(), c, s.url+authPath, session, sessionBody)
}

func (s *pbxServer) logout(c *http.Client, session string) reply {
	return post(context.Background(), c, s.url+logoutPath, session, sessionBody)
}

// reply is one request's outcome.
type reply struct {
	status     string // "200", or a failure kind
	ms         float64
	session    string
	retryAfter time.Duration // of a 429 or 503
}

// backOff waits after a refusal (429, 503) as a polite client does: as
// Retry-After asks, at most maxBackOff (100 ms without the header).
func (r reply) backOff() {
	if r.status != "429" && r.status != "503" {
		return
	}
	d := r.retryAfter
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	time.Sleep(min(d, maxBackOff))
}

// post sends a JSON POST and reads the reply (and the session id of a
// login's).
func post(ctx context.Context, c *http.Client, url, session, body string) reply {
	ctx, cancel := context.WithTimeout(ctx, clientDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return reply{status: "error"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", trustedOrigin)
	if session != "" {
		req.Header.Set("Authorization", "session "+session)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return reply{status: failureKind(err), ms: msSince(start)}
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := reply{status: strconv.Itoa(resp.StatusCode), ms: msSince(start)}
	if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		r.retryAfter = time.Duration(n) * time.Second
	}
	if err != nil {
		r.status = failureKind(err)
		return r
	}
	if resp.StatusCode == http.StatusOK {
		var v struct {
			User struct {
				Session string `json:"session"`
			} `json:"user"`
		}
		if json.Unmarshal(data, &v) == nil {
			r.session = v.User.Session
		}
	}
	return r
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1e3 }

// failureKind names why a request got no reply.
func failureKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "no-files"
	}
	return "error"
}
