package main

import (
	"fmt"
	"slices"
	"strings"
)

// Results is what the program writes as JSON.
type Results struct {
	Users       int          `json:"users"`
	CPUs        int          `json:"cpus"`
	Note        string       `json:"note"`
	Logins      []Throughput `json:"logins"`
	Checks      []Throughput `json:"checks"`
	OneUser     Throughput   `json:"one_user_one_address"`
	WrongPasswd Throughput   `json:"wrong_passwords_one_user_one_address"`
	Flood       Flood        `json:"idle_flood"`             // from floodAddrs addresses
	FloodOne    Flood        `json:"idle_flood_one_address"` // the same from one address
	Burst       Burst        `json:"burst"`
	ServerLog   StatusCounts `json:"server_log_statuses"` // every request the first server logged, "METHOD PATH STATUS" to count
	// OtherPhasesSessionsLeft is the sessions the first server held when it
	// stopped: every login whose reply came was logged out, so these are
	// logins whose clients gave up.
	OtherPhasesSessionsLeft int    `json:"other_phases_sessions_left"`
	OtherPhasesNote         string `json:"other_phases_note,omitzero"`
}

// Throughput is one phase of requests by concurrent clients.
type Throughput struct {
	Clients   int          `json:"clients"`
	Addresses int          `json:"addresses"` // distinct source addresses
	Users     int          `json:"users"`     // distinct users
	Requests  int          `json:"requests"`
	Seconds   float64      `json:"seconds"`
	PerSecond float64      `json:"per_second"` // answered with 200, per second
	P50ms     float64      `json:"p50_ms"`     // of every reply (refusals are fast)
	P99ms     float64      `json:"p99_ms"`
	MaxMs     float64      `json:"max_ms"`
	OKP50ms   float64      `json:"ok_p50_ms"` // of the replies with 200
	OKP99ms   float64      `json:"ok_p99_ms"`
	Statuses  StatusCounts `json:"statuses"` // by status code, or a failure kind for requests that got no reply
	// ServerCPUSeconds is the CPU time the server process used in the
	// phase, and PerServerCPUSecond the replies with 200 per second of it:
	// a figure that a busy machine sways less than PerSecond.
	ServerCPUSeconds   float64 `json:"server_cpu_s"`
	PerServerCPUSecond float64 `json:"per_server_cpu_s"`
	// ChecksDuring, in a login phase, is one more client, logged in
	// beforehand from an address of its own, that ran cheap checks one at a
	// time while the logins ran: what a login flood does to everyone else.
	ChecksDuring *Throughput `json:"checks_during,omitempty"`
}

// Flood is the idle-connection flood.
type Flood struct {
	Conns           int          `json:"conns"`
	Addresses       int          `json:"addresses"`
	Answered        StatusCounts `json:"answered"` // the first request of each connection
	OpenAtLogin     int          `json:"open_when_logging_in"`
	OpenAfter       int          `json:"open_after"` // still open after the logins
	Logins          Throughput   `json:"logins_during"`
	Checks          Throughput   `json:"checks_during"`
	LoginGotThrough bool         `json:"login_got_through"`
}

// Burst is the 1000-login burst.
type Burst struct {
	Logins          int          `json:"logins"`
	Addresses       int          `json:"addresses"`
	Users           int          `json:"users"`
	ClientDeadlineS float64      `json:"client_deadline_s"`
	Received        StatusCounts `json:"received"` // replies the clients read, by status; errors by kind
	Succeeded       int          `json:"succeeded"`
	GaveUp          int          `json:"gave_up"` // clients that reached their deadline without a reply
	LastReplyS      float64      `json:"last_reply_s"`
	P50ms           float64      `json:"p50_ms"`
	P99ms           float64      `json:"p99_ms"`
	ServerReplies   StatusCounts `json:"server_replies"`             // login replies the server logged, by status ("lost": the client left first)
	ServerDoneS     float64      `json:"server_done_s"`              // when the server logged its last login reply
	ServerCPUSecs   float64      `json:"server_cpu_s"`               // CPU time the server used from the burst until it was idle again
	CPUAfterClients float64      `json:"server_cpu_after_clients_s"` // of which after the last client had its reply or gave up
	SessionsLeft    int          `json:"sessions_left"`              // sessions held when the server stopped, made by the burst
	TokensLeft      int          `json:"tokens_left"`                // login tokens likewise
	OrphanSessions  int          `json:"orphan_sessions"`            // sessions left that no client got the id of
	StateNote       string       `json:"state_note,omitzero"`
}

// StatusCounts counts replies by status code ("200", "429") or failures by
// kind ("timeout", "refused", "reset", "error").
type StatusCounts map[string]int

func (c StatusCounts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s:%d", k, c[k])
	}
	return b.String()
}

func printThroughput(what string, t Throughput) {
	fmt.Printf("%s: %d clients, %d addresses, %d users: %d requests in %.1f s, %.1f answered with 200 per second (%.1f per CPU second of the server), p50 %.1f ms, p99 %.1f ms (of the 200s: %.1f, %.1f); statuses %s\n",
		what, t.Clients, t.Addresses, t.Users, t.Requests, t.Seconds, t.PerSecond, t.PerServerCPUSecond, t.P50ms, t.P99ms, t.OKP50ms, t.OKP99ms, t.Statuses)
}
