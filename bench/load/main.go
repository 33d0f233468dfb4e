// Command load puts the PBX server of ./web under load on loopback and reports what it sees.
//
// It builds ./web and starts it with -addr 127.0.0.1:0, then reports, as
// lines of text on stdout and as JSON (-out):
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
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
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
	if n, _, err := srv.stopAndCount(); err != nil {
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
	if s, tk, err := srv.stopAndCount(); err != nil {
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
