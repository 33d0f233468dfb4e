package main

import (
	"net"
	"slices"
	"sync"
	"time"
)

// tally gathers the replies of a phase.
type tally struct {
	mu       sync.Mutex
	ms, okMS []float64
	statuses StatusCounts
}

func (t *tally) add(r reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.statuses == nil {
		t.statuses = StatusCounts{}
	}
	t.statuses[r.status]++
	t.ms = append(t.ms, r.ms)
	if r.status == "200" {
		t.okMS = append(t.okMS, r.ms)
	}
}

func (t *tally) result(clients int, addrs []net.IP, users int, elapsed time.Duration, cpu float64) Throughput {
	distinct := map[string]bool{}
	for _, a := range addrs {
		distinct[a.String()] = true
	}
	slices.Sort(t.ms)
	slices.Sort(t.okMS)
	return Throughput{
		Clients: clients, Addresses: len(distinct), Users: users,
		Requests: len(t.ms), Seconds: round(elapsed.Seconds(), 2),
		PerSecond: round(float64(t.statuses["200"])/elapsed.Seconds(), 1),
		P50ms:     round(percentile(t.ms, 50), 1), P99ms: round(percentile(t.ms, 99), 1), MaxMs: round(percentile(t.ms, 100), 1),
		OKP50ms: round(percentile(t.okMS, 50), 1), OKP99ms: round(percentile(t.okMS, 99), 1),
		Statuses:           t.statuses,
		ServerCPUSeconds:   round(cpu, 2),
		PerServerCPUSecond: perCPU(t.statuses["200"], cpu),
	}
}

// percentile is the nearest-rank p-th percentile of sorted s.
func percentile(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func round(v float64, places int) float64 {
	f := 1.0
	for range places {
		f *= 10
	}
	return float64(int64(v*f+0.5)) / f
}

// perCPU is n per second of server CPU; 0 where the CPU was not measured
// (cpu 0: a phase that shares the server with another).
func perCPU(n int, cpu float64) float64 {
	if cpu <= 0 {
		return 0
	}
	return round(float64(n)/max(cpu, 0.01), 1)
}
