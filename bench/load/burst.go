package main

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// burstPhase sends n logins at once, each from an address of its own, and
// waits until the server has logged a reply to each (or drainDeadline).
func burstPhase(srv *pbxServer, addrs *addrPool, users *userRing, n int) Burst {
	b := Burst{Logins: n, Addresses: n, Users: min(n, userCount), ClientDeadlineS: clientDeadline.Seconds(), Received: StatusCounts{}}
	from := addrs.take(n)
	before := srv.log.snapshot()
	var t tally
	var succeeded atomic.Int64
	var last atomic.Int64
	gate := make(chan struct{})
	cpu0 := srv.cpu()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		login, password := users.next()
		c := newClient(from[i])
		wg.Go(func() {
			defer c.CloseIdleConnections()
			<-gate
			r := srv.login(c, login, password)
			t.add(r)
			if r.session != "" {
				succeeded.Add(1)
			}
			if r.status != "timeout" {
				for {
					l, now := last.Load(), int64(time.Since(start))
					if now <= l || last.CompareAndSwap(l, now) {
						break
					}
				}
			}
		})
	}
	start = time.Now()
	close(gate)
	wg.Wait()
	b.Received = t.statuses
	b.Succeeded = int(succeeded.Load())
	b.GaveUp = t.statuses["timeout"]
	b.LastReplyS = round(time.Duration(last.Load()).Seconds(), 2)
	slices.Sort(t.ms)
	b.P50ms, b.P99ms = round(percentile(t.ms, 50), 1), round(percentile(t.ms, 99), 1)

	// The server may go on with the requests whose clients gave up: wait
	// until it has logged a reply to each of the burst's logins, or has used
	// less than 50 ms of CPU in a second (it is idle), or drainDeadline.
	cpuClientsDone := srv.cpu()
	deadline := time.Now().Add(drainDeadline)
	prev := cpuClientsDone
	for time.Now().Before(deadline) && srv.log.loginsSince(before) < n {
		time.Sleep(time.Second)
		now := srv.cpu()
		if now-prev < 0.05 {
			break
		}
		prev = now
	}
	cpuEnd := srv.cpu()
	b.ServerCPUSecs = round(cpuEnd-cpu0, 2)
	b.CPUAfterClients = round(cpuEnd-cpuClientsDone, 2)
	b.ServerReplies = srv.log.loginRepliesSince(before)
	if at := srv.log.lastLoginAt(); at.After(start) {
		b.ServerDoneS = round(at.Sub(start).Seconds(), 2)
	}
	return b
}
