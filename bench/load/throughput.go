package main

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// loginPhase runs len(addrs) clients that log in (timed) and out (untimed)
// until d has passed or max logins were sent; p, if not nil, checks while
// they run.
func loginPhase(srv *pbxServer, clients int, addrs []net.IP, users *userRing, d time.Duration, max int, p *prober) Throughput {
	var t tally
	var sent atomic.Int64
	cpu0 := srv.cpu()
	start := time.Now()
	stop := start.Add(d)
	done := make(chan struct{})
	var during *Throughput
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		if p != nil {
			r := p.run(srv, done)
			during = &r
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			c := newClient(addrs[i])
			defer c.CloseIdleConnections()
			for time.Now().Before(stop) && sent.Add(1) <= int64(max) {
				login, password := users.next()
				r := srv.login(c, login, password)
				t.add(r)
				if r.session != "" {
					srv.logout(c, r.session)
				}
				r.backOff()
			}
		})
	}
	wg.Wait()
	close(done)
	<-probed
	n := userCount
	if users.fixed != "" {
		n = 1
	}
	res := t.result(clients, addrs, min(n, len(t.ms)), time.Since(start), srv.cpu()-cpu0)
	res.ChecksDuring = during
	return res
}

// prober is one client, logged in beforehand, that runs cheap checks one at
// a time while a phase runs.
type prober struct {
	c       *http.Client
	from    net.IP
	session string
}

// newProber logs a client in from the address from; nil if it could not.
func newProber(srv *pbxServer, from net.IP, users *userRing) *prober {
	c, login, r := logIn(srv, from, users)
	if c == nil {
		fmt.Printf("the checker beside the logins could not log in as %s: %s; no checks during them\n", login, r.status)
		return nil
	}
	return &prober{c: c, from: from, session: r.session}
}

// run checks until done is closed, then logs out.
func (p *prober) run(srv *pbxServer, done <-chan struct{}) Throughput {
	var t tally
	start := time.Now()
	for {
		select {
		case <-done:
			res := t.result(1, []net.IP{p.from}, 1, time.Since(start), 0)
			srv.logout(p.c, p.session)
			p.c.CloseIdleConnections()
			return res
		default:
		}
		t.add(srv.check(p.c, p.session))
	}
}

// checkPhaseRun logs each client in (untimed), runs checks with its session
// for d, and logs out. A client whose login fails makes no checks; the
// result says how many did (Clients).
func checkPhaseRun(srv *pbxServer, clients int, addrs []net.IP, users *userRing, d time.Duration) Throughput {
	var cs []*http.Client
	var sessions []string
	var from []net.IP
	for i := range clients {
		c, login, r := logIn(srv, addrs[i], users)
		if c == nil {
			fmt.Printf("checks: logging %s in before the checks: %s; that client makes no checks\n", login, r.status)
			continue
		}
		cs, sessions, from = append(cs, c), append(sessions, r.session), append(from, addrs[i])
	}
	var t tally
	cpu0 := srv.cpu()
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	for i := range cs {
		wg.Go(func() {
			for time.Now().Before(stop) {
				t.add(srv.check(cs[i], sessions[i]))
			}
		})
	}
	wg.Wait()
	res := t.result(len(cs), from, min(len(cs), userCount), time.Since(start), srv.cpu()-cpu0)
	for i := range cs {
		srv.logout(cs[i], sessions[i])
		cs[i].CloseIdleConnections()
	}
	return res
}

// wrongPasswords sends n logins with a wrong password for one user from one
// address, one at a time.
func wrongPasswords(srv *pbxServer, from net.IP, login string, n int) Throughput {
	var t tally
	c := newClient(from)
	defer c.CloseIdleConnections()
	cpu0 := srv.cpu()
	start := time.Now()
	for range n {
		t.add(srv.login(c, login, "not-the-password"))
	}
	return t.result(1, []net.IP{from}, 1, time.Since(start), srv.cpu()-cpu0)
}
