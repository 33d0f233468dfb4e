// Command load puts the local PBX server (the program of ./web, built and
// started here with -addr 127.0.0.1:0) under load on loopback and reports
// what it sees, as a table on stdout and as JSON (-out):
//
//   - logins and checks per second, with 1, 8 and 64 concurrent clients,
//     with the latency median and 99th percentile and every status seen
//     (429 and 503 included, when the server's limits answer so), and the
//     latency of one more client's cheap checks while the logins run;
//   - one user from one address, with 64 concurrent clients, and wrong
//     passwords for one user from one address: what a throttle answers;
//   - an idle flood: 2000 keep-alive connections, from 100 addresses and
//     then from one, each made one request and then left idle, and while
//     they are held, whether a login from another address still gets
//     through, and how long it takes;
//   - a burst of 1000 logins at once, each client giving up after 20 s (the
//     module's deadline): replies received against the replies the server
//     logged, and the sessions the burst left behind (read from the state
//     file the server writes when it stops).
//
// A client refused with 429 or 503 waits as Retry-After asks (at most 1 s)
// before its next login, as a polite client does; the wrong passwords do not.
// Every client dials from a loopback address of its own (127.1.x.y,
// 127.2.x.y...) and the logins cycle through 128 users, so that a throttle
// per user or per address does not distort the throughput figures; the
// throttle probes use one user and one address on purpose. The users'
// passwords are hashed at the server's real bcrypt cost, the main cost of a
// login. Server and clients share this machine's CPUs, and everything is
// bounded in count and time. Nothing is asserted: it reports.
//
// Usage:
//
//	go run ./bench/load [-out out/server-load.json] [-quick]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Sizes and bounds of the run.
const (
	userCount      = 128
	clientDeadline = 20 * time.Second // the module's deadline for a request
	burstSize      = 1000
	floodConns     = 2000
	floodAddrs     = 100 // the flood's connections come from this many addresses
	floodDialers   = 100 // connections being opened at once
	startDeadline  = 2 * time.Minute
	drainDeadline  = 90 * time.Second // the server's catching up after the burst
	stopDeadline   = 30 * time.Second
	trustedOrigin  = "http://localhost:8000" // a page's origin, trusted by the server's default -origins
	phaseMaxLogins = 2000                    // per concurrency level
	maxBackOff     = time.Second             // the longest a refused client waits before its next login
	oneUser        = "probe-one"             // the user of the one-user probe
	wrongUser      = "probe-wrong"           // the user the wrong passwords are sent for
)

func main() {
	out := flag.String("out", "", "also write the results as JSON to `FILE`")
	quick := flag.Bool("quick", false, "shorter phases, for trying the program out")
	flag.Parse()
	if err := run(*out, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

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

func run(outFile string, quick bool) error {
	phase := 6 * time.Second
	checkFor := 3 * time.Second
	burst, flood := burstSize, floodConns
	if quick {
		phase, checkFor, burst, flood = 2*time.Second, time.Second, 200, 300
	}
	raiseFileLimit(uint64(2*flood + 2*burst + 500))

	tmp, err := os.MkdirTemp("", "pbxauth-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildPBX(tmp)
	if err != nil {
		return err
	}
	res := &Results{
		Users: userCount, CPUs: runtime.NumCPU(),
		Note: fmt.Sprintf("the server (go build ./web, with %d users at its bcrypt cost) and these clients share the machine's %d CPUs over loopback; every client dials from an address of its own and logins cycle through the users, except in the one-user probes; the burst runs on a server of its own, started fresh",
			userCount, runtime.NumCPU()),
	}
	srv, err := startPBX(bin, filepath.Join(tmp, "a"))
	if err != nil {
		return err
	}
	defer srv.kill()
	fmt.Printf("the PBX server at %s, %d users, %d CPUs shared with the clients\n", srv.url, userCount, runtime.NumCPU())

	addrs := &addrPool{next: 1 << 16} // 127.1.0.1 on
	users := &userRing{}
	for _, c := range []int{1, 8, 64} {
		p := newProber(srv, addrs.take(1)[0], users)
		t := loginPhase(srv, c, addrs.take(c), users, phase, phaseMaxLogins, p)
		res.Logins = append(res.Logins, t)
		printThroughput("logins", t)
		if t.ChecksDuring != nil {
			printThroughput("  checks from one more client while they ran", *t.ChecksDuring)
		}
	}
	for _, c := range []int{1, 8, 64} {
		t := checkPhaseRun(srv, c, addrs.take(c), users, checkFor)
		res.Checks = append(res.Checks, t)
		printThroughput("checks", t)
	}
	one := net.IPv4(127, 0, 0, 1)
	res.OneUser = loginPhase(srv, 64, repeat(one, 64), &userRing{fixed: oneUser}, phase/2, phaseMaxLogins, nil)
	printThroughput("logins, one user from one address", res.OneUser)
	res.WrongPasswd = wrongPasswords(srv, one, wrongUser, 30)
	printThroughput("wrong passwords, one user from one address, one at a time", res.WrongPasswd)

	for _, f := range []struct {
		addrs int
		res   *Flood
	}{{floodAddrs, &res.Flood}, {1, &res.FloodOne}} {
		*f.res = idleFlood(srv, addrs, users, flood, f.addrs)
		fl := f.res
		fmt.Printf("idle flood: %d keep-alive connections from %d addresses, first requests answered %s; %d open when logging in, %d after\n",
			fl.Conns, fl.Addresses, fl.Answered, fl.OpenAtLogin, fl.OpenAfter)
		printThroughput("  logins from another address during the flood", fl.Logins)
		printThroughput("  checks from another address during the flood", fl.Checks)
	}

	// Every login above that got its reply was logged out: what the server
	// still holds is sessions whose clients never got the reply.
	res.ServerLog = srv.log.snapshot()
	if err := srv.stop(); err != nil {
		res.OtherPhasesNote = err.Error()
	} else if n, _, err := srv.state(); err != nil {
		res.OtherPhasesNote = err.Error()
	} else {
		res.OtherPhasesSessionsLeft = n
	}
	fmt.Printf("sessions the server held when it stopped, after every login answered was logged out: %d %s\n", res.OtherPhasesSessionsLeft, res.OtherPhasesNote)

	srv, err = startPBX(bin, filepath.Join(tmp, "b"))
	if err != nil {
		return err
	}
	defer srv.kill()
	res.Burst = burstPhase(srv, addrs, users, burst)
	if err := srv.stop(); err != nil {
		res.Burst.StateNote = err.Error()
	} else if s, tk, err := srv.state(); err != nil {
		res.Burst.StateNote = err.Error()
	} else {
		res.Burst.SessionsLeft = s
		res.Burst.TokensLeft = tk
		res.Burst.OrphanSessions = s - res.Burst.Succeeded
	}
	b := res.Burst
	fmt.Printf("burst of %d logins at once (each client gives up after %s): received %s, last reply after %.1f s, p50 %.0f ms, p99 %.0f ms\n",
		b.Logins, clientDeadline, b.Received, b.LastReplyS, b.P50ms, b.P99ms)
	fmt.Printf("  the server logged login replies %s, the last %.1f s after the burst began, and used %.1f s of CPU (%.1f s after the clients were done); it held %d sessions and %d tokens when it stopped: %d sessions whose client never got the reply\n",
		b.ServerReplies, b.ServerDoneS, b.ServerCPUSecs, b.CPUAfterClients, b.SessionsLeft, b.TokensLeft, b.OrphanSessions)
	if b.StateNote != "" {
		fmt.Println("  state:", b.StateNote)
	}

	if outFile != "" {
		data, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(outFile, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func repeat(ip net.IP, n int) []net.IP {
	out := make([]net.IP, n)
	for i := range out {
		out[i] = ip
	}
	return out
}

func printThroughput(what string, t Throughput) {
	fmt.Printf("%s: %d clients, %d addresses, %d users: %d requests in %.1f s, %.1f answered with 200 per second (%.1f per CPU second of the server), p50 %.1f ms, p99 %.1f ms (of the 200s: %.1f, %.1f); statuses %s\n",
		what, t.Clients, t.Addresses, t.Users, t.Requests, t.Seconds, t.PerSecond, t.PerServerCPUSecond, t.P50ms, t.P99ms, t.OKP50ms, t.OKP99ms, t.Statuses)
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

// userRing hands out the users in turn, or always the fixed one.
type userRing struct {
	fixed string
	n     atomic.Int64
}

func (r *userRing) next() (login, password string) {
	if r.fixed != "" {
		return r.fixed, passwordOf(r.fixed)
	}
	i := int(r.n.Add(1)-1) % userCount
	login = fmt.Sprintf("load%03d", i)
	return login, passwordOf(login)
}

func passwordOf(login string) string { return "pw-" + login + "-x" }

// client is one HTTP client dialing from its own source address, with one
// keep-alive connection.
func newClient(from net.IP) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 10 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 1,
			MaxConnsPerHost:     1,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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

func loginBody(login, password string) string {
	b, _ := json.Marshal(map[string]any{"auth": map[string]any{"type": "auth", "username": login, "password": password}})
	return string(b)
}

const (
	checkBody  = `{"auth":{"type":"auth"}}`
	logoutBody = `{"auth":{"type":"auth"}}`
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
				r := post(context.Background(), c, srv.url+"/rest/auth/", "", loginBody(login, password))
				t.add(r)
				if r.session != "" {
					post(context.Background(), c, srv.url+"/rest/auth/logout", r.session, logoutBody)
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

// perCPU is n per second of server CPU; 0 where the CPU was not measured
// (cpu 0: a phase that shares the server with another).
func perCPU(n int, cpu float64) float64 {
	if cpu <= 0 {
		return 0
	}
	return round(float64(n)/max(cpu, 0.01), 1)
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
	c := newClient(from)
	login, password := users.next()
	r := post(context.Background(), c, srv.url+"/rest/auth/", "", loginBody(login, password))
	if r.session == "" {
		fmt.Printf("the checker beside the logins could not log in as %s: %s; no checks during them\n", login, r.status)
		c.CloseIdleConnections()
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
			post(context.Background(), p.c, srv.url+"/rest/auth/logout", p.session, logoutBody)
			p.c.CloseIdleConnections()
			return res
		default:
		}
		t.add(post(context.Background(), p.c, srv.url+"/rest/auth/", p.session, checkBody))
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
		c := newClient(addrs[i])
		login, password := users.next()
		r := post(context.Background(), c, srv.url+"/rest/auth/", "", loginBody(login, password))
		if r.session == "" {
			fmt.Printf("checks: logging %s in before the checks: %s; that client makes no checks\n", login, r.status)
			c.CloseIdleConnections()
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
				t.add(post(context.Background(), cs[i], srv.url+"/rest/auth/", sessions[i], checkBody))
			}
		})
	}
	wg.Wait()
	res := t.result(len(cs), from, min(len(cs), userCount), time.Since(start), srv.cpu()-cpu0)
	for i := range cs {
		post(context.Background(), cs[i], srv.url+"/rest/auth/logout", sessions[i], logoutBody)
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
		t.add(post(context.Background(), c, srv.url+"/rest/auth/", "", loginBody(login, "not-the-password")))
	}
	return t.result(1, []net.IP{from}, 1, time.Since(start), srv.cpu()-cpu0)
}

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
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", host)
	if err != nil {
		return failureKind(err), nil
	}
	c.SetDeadline(time.Now().Add(clientDeadline))
	req := fmt.Sprintf("POST /rest/auth/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nOrigin: %s\r\nContent-Length: %d\r\n\r\n%s",
		host, trustedOrigin, len(checkBody), checkBody)
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
			r := post(context.Background(), c, srv.url+"/rest/auth/", "", loginBody(login, password))
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
	after := srv.log.snapshot()
	b.ServerReplies = StatusCounts{}
	for k, v := range after {
		if method, rest, ok := strings.Cut(k, " "); ok && method == "POST" && strings.HasPrefix(rest, "/rest/auth/ ") {
			if d := v - before[k]; d > 0 {
				b.ServerReplies[strings.TrimPrefix(rest, "/rest/auth/ ")] = d
			}
		}
	}
	if at := srv.log.lastLoginAt(); at.After(start) {
		b.ServerDoneS = round(at.Sub(start).Seconds(), 2)
	}
	return b
}

// pbxServer is the server process.
type pbxServer struct {
	url       string
	cmd       *exec.Cmd
	stateFile string
	log       *serverLog
	done      chan error
}

// buildPBX builds ./web into dir.
func buildPBX(dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pbx")
	build := exec.Command("go", "build", "-o", bin, "./web")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./web: %v\n%s", err, out)
	}
	return bin, nil
}

// startPBX writes the users file into dir and starts the server bin with
// it, and with its state file and Ping key in dir.
func startPBX(bin, dir string) (*pbxServer, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	var list []map[string]any
	logins := []string{oneUser, wrongUser} // the throttle probes', outside the ring
	for i := range userCount {
		logins = append(logins, fmt.Sprintf("load%03d", i))
	}
	for i, login := range logins {
		list = append(list, map[string]any{"id": 7000 + i, "login": login, "password": passwordOf(login),
			"name": "Load " + login, "company": "default", "home": "default", "perms": map[string]string{"chat": "yes"}})
	}
	data, _ := json.Marshal(list)
	usersFile := filepath.Join(dir, "users.json")
	if err := os.WriteFile(usersFile, data, 0o600); err != nil {
		return nil, err
	}
	tmp := dir
	s := &pbxServer{stateFile: filepath.Join(tmp, "state.json"), log: &serverLog{counts: StatusCounts{}}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-users", usersFile, "-ping-key", filepath.Join(tmp, "ping.key"), "-state", s.stateFile)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go s.log.read(stderr)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		s.done <- s.cmd.Wait()
	}()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			s.kill()
			return nil, fmt.Errorf("the server printed %q; its log:\n%s", line, s.log.tail())
		}
		s.url = u
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("the server stopped: %v; its log:\n%s", err, s.log.tail())
	case <-time.After(startDeadline):
		s.kill()
		return nil, fmt.Errorf("the server did not start within %s; its log:\n%s", startDeadline, s.log.tail())
	}
}

// stop stops the server gracefully (it writes its state file).
func (s *pbxServer) stop() error {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			return fmt.Errorf("the server's graceful stop: %v; its log:\n%s", err, s.log.tail())
		}
		return nil
	case <-time.After(stopDeadline):
		s.kill()
		return fmt.Errorf("the server did not stop within %s", stopDeadline)
	}
}

func (s *pbxServer) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
	}
}

// cpu is the CPU time, in seconds, the server process has used so far
// (user and system, from /proc; 0 where there is none).
func (s *pbxServer) cpu() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses and may
	// hold spaces): state is the 3rd field of the line, utime the 14th and
	// stime the 15th.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (utime + stime) / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100

// state counts the sessions and login tokens of the state file.
func (s *pbxServer) state() (sessions, tokens int, err error) {
	data, err := os.ReadFile(s.stateFile)
	if err != nil {
		return 0, 0, fmt.Errorf("the state file: %w", err)
	}
	var st struct {
		Sessions []json.RawMessage `json:"sessions"`
		Tokens   []json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, 0, fmt.Errorf("the state file: %w", err)
	}
	return len(st.Sessions), len(st.Tokens), nil
}

// serverLog counts the server's request lines, "date time METHOD PATH
// STATUS DURATION" or, for a request whose client left before its reply,
// "date time METHOD PATH lost DURATION (REASON)", by "METHOD PATH STATUS"
// (STATUS "lost" for the latter).
type serverLog struct {
	mu        sync.Mutex
	counts    StatusCounts
	lastLogin time.Time
	lines     []string // the last few, for errors
}

var requestLine = regexp.MustCompile(`^\S+ \S+ ([A-Z]+) (/\S*) (\d{3}|lost) \S+`)

func (l *serverLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		if m := requestLine.FindStringSubmatch(line); m != nil {
			l.counts[m[1]+" "+m[2]+" "+m[3]]++
			if m[1] == "POST" && m[2] == "/rest/auth/" {
				l.lastLogin = time.Now()
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > 40 {
			l.lines = l.lines[len(l.lines)-20:]
		}
		l.mu.Unlock()
	}
}

func (l *serverLog) snapshot() StatusCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(StatusCounts, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// loginsSince counts the POST /rest/auth/ lines logged since before.
func (l *serverLog) loginsSince(before StatusCounts) int {
	n := 0
	for k, v := range l.snapshot() {
		if strings.HasPrefix(k, "POST /rest/auth/ ") {
			n += v - before[k]
		}
	}
	return n
}

func (l *serverLog) lastLoginAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLogin
}

func (l *serverLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// repoRoot is the directory of the module's go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := string(bytes.TrimSpace(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run it inside the repository (go env GOMOD names no go.mod)")
	}
	return filepath.Dir(mod), nil
}

// raiseFileLimit raises the soft RLIMIT_NOFILE towards need (the server,
// started after, inherits it).
func raiseFileLimit(need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= need {
		return
	}
	lim.Cur = min(need, lim.Max)
	_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
