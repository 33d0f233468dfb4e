// Command web is the local PBX server, so that the module runs and is tested on one machine.
//
// It serves the browser module, its login overlay and the demo page, speaks
// the REST auth contract of web/PROTOCOL.md against a set of users, trusts
// cross-origin pages only from the origins it is given, and serves the live
// feed, a WebSocket at /rest/feed that tells a client at once that its
// session has ended. On the same port it speaks two more phone systems'
// contracts, for the same users (web/PROTOCOL.md, "Vodia" and "Ping"):
// Vodia's third-party login at /rest/system/session, and Ping's login at
// /auth/login with its extension directory at /api/extensions/.
//
//	go run ./web [-addr HOST:PORT] [-users FILE] [-origins LIST] [-hosts LIST]
//	             [-token-classes LIST] [-test-clock] [-server-version V]
//	             [-state FILE] [-vodia-admin LOGIN:PASSWORD] [-ping-key FILE]
//	             [-max-conns N] [-max-conns-per-addr N] [-max-sessions N]
//	             [-max-sessions-per-user N] [-max-failures-per-addr N] [-faults]
//	             [-tls [-tls-dir DIR] | -tls-cert FILE -tls-key FILE]
//	go run ./web token -user LOGIN [-ttl 24h] [-ping-key FILE] [-users FILE]
//
// -vodia-admin gives the Vodia admin, the one account that may ask for
// temporary session ids with Basic credentials (default: the demo admin,
// admin:vodia-demo). Only a bcrypt hash of the password is kept; the command
// line itself may be seen by other users of the machine (ps), so give a real
// password only on a machine of your own.
//
// -ping-key FILE holds the key that signs Ping's JSON Web Tokens: 32 bytes as
// 64 hex digits (openssl rand -hex 32 makes one). A missing FILE is made
// with a new random key and mode 0600; a FILE that others may read is
// refused. Default: pbxauth/ping.key in the user's configuration directory
// ($XDG_CONFIG_HOME, else ~/.config, on Linux), which the token command uses
// too. Whoever reads the key can make tokens for every user.
//
// The token subcommand prints on stdout a Ping JWT for the user whose login
// is LOGIN (it must have an extension), valid for -ttl (default 24h) from
// now on the real clock and signed with the key of -ping-key (made if
// missing, as above); -users names the users file the server reads (default:
// the demo users). A client sends it as "Authorization: Bearer TOKEN".
//
// -tls serves HTTPS instead of HTTP, with HTTP/2, and the live feed over
// wss, as mkcert and Vite's HTTPS plug-ins do: the first time, it makes a
// local certificate authority (ECDSA P-256, valid for 10 years, that may
// sign only server certificates) and keeps it in -tls-dir DIR (default:
// pbxauth/tls in the user's configuration directory), as ca.pem and
// ca-key.pem, with a server certificate issued from it, cert.pem and
// key.pem, for localhost, 127.0.0.1, ::1, the -addr host (a name or a
// specific address) and the -hosts names; the certificate is issued again
// when a name is missing or it has less than 30 days left (it lives 397
// days). The keys have mode 0600 in a folder of mode 0700, and a key that
// others may read is refused, as a folder that others may write to is.
// Before the listening line it prints on stderr where the CA is and how to
// trust it (the system's store on Debian and Ubuntu, Chromium's and
// Firefox's NSS stores, macOS's keychain; test tools may accept the
// certificate instead). Whoever reads ca-key.pem can make certificates
// that the browsers which trust the CA accept for any site. -tls-dir alone
// implies -tls. -tls-cert FILE and -tls-key FILE serve HTTPS with your own
// certificate and key instead (PEM; both, and not with -tls); the key too
// must be readable by you only. Over HTTPS the session cookies are Secure
// and SameSite=None, so that trusted pages of other sites can use them.
// HTTP/2 is not offered when GODEBUG has http2xconnect=1, with which
// browsers would open the live feed over HTTP/2, which it does not accept.
//
// -token-classes gives the login tokens of some origins a longer life when
// the login asks for none, as "https://app.example=longLogin,
// http://localhost:*=refreshable" (origins written as for -origins; without
// an entry a token lives 24 hours).
//
// -test-clock is for tests only, never for production: sessions, login
// tokens and external users (and Vodia's temporary ids and sessions, Ping's
// sessions and the expiry of its tokens) then run on a clock that starts at the real time
// and that anyone who can reach the server moves forward with POST
// /test/clock {"advance":"25h"} (the reply is {"now": MS}), so that browser
// tests can see logins expire. Without it that path is 404. The live feeds
// of logins that expire so are closed within a second, as on the real clock.
//
// -faults is for tests only, never for production: the PBX's API (not the
// files under /api/) then fails on purpose as POST /test/fault
// {"mode":"500"} from this machine says (off, latency=DURATION, 500, reset,
// truncate, notjson, oversized, dropfeed; GET reads it), so that browser
// tests can check what a page sees when its PBX misbehaves. Without it that
// path does not exist.
//
// -server-version sets the version the feed announces to its clients
// (default: the build's), so that tests can show a client a server that has
// been replaced.
//
// -state FILE keeps the logins across a restart, as a real PBX does: a
// graceful stop writes the sessions, login tokens and external users (and
// the -test-clock offset) to FILE, as JSON, through a temporary file of mode
// 0600 in the same directory renamed over FILE; the next start reads FILE
// back if it exists, dropping what has ended by then, and removes it (a
// crash keeps nothing, but cannot bring back a login that ended after the
// start). A restarted server so still accepts the session ids and tokens it
// gave out, and the live feeds its stop closed with 1012 reconnect to the
// same logins (Vodia's and Ping's sessions are not kept: their clients log
// in again). A FILE that exists but is not a valid state file, and a
// directory where FILE cannot be written, stop the server at start (exit 1)
// rather than let it start empty or lose its state at the stop. FILE holds
// session ids and tokens, with which anyone who reads it can act as their
// users: keep it private. Without -state nothing is kept. web/PROTOCOL.md
// describes the file.
//
// It guards itself against abuse (web/PROTOCOL.md, "Limits"): it holds at
// most -max-conns connections (default 4096; keep it under the open-file
// limit, ulimit -n), -max-conns-per-addr from one client address (default
// 256; an IPv6 client counts by its /64), and answers those over either cap
// with a plain 503 at once (over TLS: closes them at once); it closes
// keep-alive connections idle for 30 seconds, and refuses request headers over 64 KiB (431) and bodies over
// 64 KiB (413). Past 10 failed logins in a row for one user name, or
// -max-failures-per-addr from one client address (default 100; 0 turns that
// count off, as behind a proxy, where every client has the proxy's
// address), logins wait 1 second, doubling with each further failure up to
// 15 minutes, and are answered 429 with Retry-After meanwhile; failures are
// forgotten after an hour, a user's at its next login. At most as many
// passwords as the machine has cores are checked at once, 32 more logins
// wait, and any more are answered 503 with Retry-After. A user holds at most
// -max-sessions-per-user sessions (default 100; 0: no cap), and so many
// login tokens, everyone -max-sessions (default 100000; 0: no cap): a new
// one over a cap ends the oldest. A user's live feeds are capped at 100: a
// new one closes the oldest with 1008.
//
// It answers only requests sent to its -addr address, to localhost, 127.x.y.z
// and [::1] (any port), and to the host names given with -hosts, such as the
// public name a proxy in front of it forwards; any other Host header is
// refused, so that a hostile page cannot reach it by pointing its own name at
// it (DNS rebinding).
//
// Once it accepts connections it prints one line, "listening on
// http://HOST:PORT" (https with TLS), on stdout; requests are logged on stderr. Ctrl-C or
// SIGTERM stop it gracefully: every live feed is closed with 1012 (Service
// Restart), and clients reconnect; then, with -state, the state is written.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/internal/connlimit"
	"github.com/pbxauth/pbxauth/web/internal/feedserver"
	"github.com/pbxauth/pbxauth/web/internal/localca"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/site"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// Server timeouts: bodies are at most 64 KiB, so slow clients are cut off
// early, and idle keep-alive connections are closed soon, since each holds
// an open file. The live feed clears the connection's deadlines (with
// http.ResponseController) before it upgrades, and gives each message it
// sends a deadline of its own.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 30 * time.Second
	shutdownTimeout   = 5 * time.Second
	sweepInterval     = time.Minute
	// maxHeaderBytes bounds a request's header (431 beyond): a session
	// header, an Origin and the browser's cookies fit many times over.
	maxHeaderBytes = 64 << 10
)

// Defaults of the limits' flags.
const (
	defaultMaxConns        = 4096
	defaultMaxConnsPerAddr = 256
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program: it serves until ctx ends and returns the exit code, 0
// after a graceful stop, 1 when it cannot start or serve, 2 for bad usage.
// With the first argument "token", it prints a Ping token instead.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	logger := log.New(stderr, "", log.LstdFlags)
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: web [flags]                the local PBX server\n       web token -user LOGIN ...  print a Ping JWT (web token -h)\n\nflags:")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT`; :0 picks a free port")
	usersFile := fs.String("users", "", "load the users from a JSON `FILE` (default: the demo users alice, bob and carol)")
	origins := fs.String("origins", "", "trust pages from these comma-separated `ORIGINS`, scheme://host[:port], :* for any port\n(default: http and https on localhost, 127.0.0.1 and [::1], any port)")
	hosts := fs.String("hosts", "", "also answer requests for these comma-separated `HOSTS`, name or name:port (no port: any port),\nsuch as the name a proxy forwards (always answered: the -addr address, and\nlocalhost, 127.x.y.z and [::1] on any port)")
	tokenClasses := fs.String("token-classes", "", "give the login tokens of these origins a class when the login names no application:\ncomma-separated `LIST` of ORIGIN=CLASS, ORIGIN as for -origins, CLASS refreshable (alive while used daily)\nor longLogin (alive while used weekly); e.g. https://app.example=longLogin,http://localhost:*=refreshable\n(default: every token lives 24 hours)")
	serverVersion := fs.String("server-version", "", "announce `VERSION` to the live feed's clients (default: the build's, "+feedserver.BuildVersion()+");\ntests use it to show clients a replaced server")
	stateFile := fs.String("state", "", "keep sessions, login tokens and external users across restarts in `FILE` (JSON): read (and removed) at start if it\nexists (a corrupt one stops the start), written at a graceful stop with mode 0600; it holds session ids\nand tokens, with which whoever reads it can act as their users: keep it private (default: nothing is kept)")
	vodiaAdmin := fs.String("vodia-admin", vodiaserver.DemoAdmin, "the Vodia admin, who may ask for temporary session ids, as `LOGIN:PASSWORD`\n(only a hash of the password is kept; other users of this machine may see the command line)")
	pingKey := pingKeyFlag(fs)
	tlsFlags := defineTLSFlags(fs)
	faults := fs.Bool("faults", false, "FOR TESTS ONLY, never in production: make the PBX's API fail on purpose, off until switched with\nPOST /test/fault {\"mode\":\"500\"} from this machine (off, latency=DURATION, 500, reset, truncate, notjson, oversized, dropfeed)")
	testClock := fs.Bool("test-clock", false, "FOR TESTS ONLY, never in production: run sessions, tokens and external users on a clock\nthat anyone who can reach the server moves forward with POST /test/clock {\"advance\":\"25h\"}")
	maxConns := fs.Int("max-conns", defaultMaxConns, "hold at most `N` connections at once, live feeds and idle keep-alive ones included; more are answered\n503 at once (keep N under the open-file limit, ulimit -n; 0: no cap)")
	maxConnsPerAddr := fs.Int("max-conns-per-addr", defaultMaxConnsPerAddr, "hold at most `N` connections from one client address (an IPv6 one counts by its /64; 0: no cap)")
	maxSessions := fs.Int("max-sessions", store.DefaultMaxSessions, "hold at most `N` sessions, and N login tokens, in all; a new one over the cap ends the oldest (0: no cap)")
	maxSessionsPerUser := fs.Int("max-sessions-per-user", store.DefaultMaxSessionsPerUser, "hold at most `N` sessions, and N login tokens, of one user; a new one over the cap ends the user's oldest (0: no cap)")
	maxFailuresPerAddr := fs.Int("max-failures-per-addr", pbx.DefaultAddrFailures.Free, "after `N` failed logins in a row from one client address, make its logins wait (1 s, doubling up to 15 min;\n429 meanwhile); 0: count failures per user only, as behind a proxy, where every client has the proxy's address")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments %q; see -h (the token command comes first: web token -user LOGIN)\n", fs.Args())
		return 2
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max-conns", *maxConns}, {"max-conns-per-addr", *maxConnsPerAddr}, {"max-sessions", *maxSessions},
		{"max-sessions-per-user", *maxSessionsPerUser}, {"max-failures-per-addr", *maxFailuresPerAddr}} {
		if f.v < 0 {
			fmt.Fprintf(stderr, "-%s %d: give a number of 0 or more (0: no cap)\n", f.name, f.v)
			return 2
		}
	}

	if err := tlsFlags.check(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}

	cfg := pbx.Config{Logger: logger, Origins: pbx.DefaultOrigins()}
	cfg.Limits.Sessions = noCap(*maxSessions)
	cfg.Limits.SessionsPerUser = noCap(*maxSessionsPerUser)
	cfg.Limits.AddrFailures = pbx.DefaultAddrFailures
	cfg.Limits.AddrFailures.Free = noCap(*maxFailuresPerAddr)
	admin, err := vodiaserver.ParseAdmin(*vodiaAdmin)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	cfg.VodiaAdmin = admin
	cfg.Feed.Version = *serverVersion
	if *origins != "" {
		list, err := pbx.ParseOrigins(*origins)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		cfg.Origins = list
	}
	if *tokenClasses != "" {
		classes, err := pbx.ParseTokenClasses(*tokenClasses)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		cfg.TokenClasses = classes
	}
	if *hosts != "" {
		list, err := pbx.ParseHosts(*hosts)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		cfg.Hosts = list
	}
	us, err := loadUsers(*usersFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfg.Users = users.NewDirectory(us)
	if *usersFile == "" {
		cfg.PingPresence = pingserver.DemoPresence(time.Now()) // the test clock, if any, starts at the real time too
	}
	if cfg.PingKey, err = loadPingKey(*pingKey); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	tlsSet, err := tlsFlags.load(*addr, cfg.Hosts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	inner, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "%v; pick another -addr (:0 picks a free port)\n", err)
		return 1
	}
	refused := &refusals{log: logger}
	ln := &connlimit.Listener{Listener: inner, Max: *maxConns, PerClient: *maxConnsPerAddr, OnRefuse: refused.note, Silent: tlsSet != nil}
	static := site.Handler(cfg.Origins) // the trusted pages may frame the login overlay
	if err := static.Missing(); err != nil {
		logger.Printf("warning: %v", err)
	}
	cfg.Static = static
	if *testClock {
		cfg.TestClock = testclock.New()
		logger.Printf("warning: -test-clock: anyone who can reach this server can move its clock with POST %s and end every login; use it for tests only", testclock.Path)
	}
	// The address as given (it may be a name) and as bound (with the port
	// that :0 picked).
	cfg.Hosts = append(cfg.Hosts, *addr, ln.Addr().String())
	srv := pbx.New(cfg)
	if *stateFile != "" {
		if err := loadState(srv, *stateFile); err != nil {
			ln.Close()
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	go srv.SweepEvery(ctx, sweepInterval)
	var h handler = srv
	if *faults {
		in := fault.New(srv)
		in.Logger = logger
		h = faulty{in, srv}
		logger.Printf("warning: -faults: POST %s from this machine makes this server's API fail on purpose; use it for tests only", fault.Path)
	}
	scheme := "http"
	var tlsConfig *tls.Config
	if tlsSet != nil {
		scheme, tlsConfig = "https", tlsSet.config
		host, _, _ := net.SplitHostPort(displayAddr(ln.Addr()))
		tlsSet.warnUncovered(host, logger)
		if localca.WebSocketsOverHTTP2() {
			logger.Print("warning: GODEBUG has http2xconnect=1, with which browsers would open the live feed over HTTP/2, which it does not accept: serving HTTP/1.1 only")
		}
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, displayAddr(ln.Addr()))
	if err := serve(ctx, ln, h, logger, tlsConfig); err != nil {
		logger.Print(err)
		return 1
	}
	if *stateFile != "" {
		if err := srv.SaveState(*stateFile); err != nil {
			logger.Printf("the sessions, login tokens and external users are lost: %v", err)
			return 1
		}
	}
	return 0
}

// loadState reads the state file into srv and removes it, so that a crash
// before the next graceful stop cannot bring back what has ended since (a
// logout), and makes sure that srv will be able to write it when it stops.
func loadState(srv *pbx.Server, file string) error {
	if err := srv.LoadState(file); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state file: %w", err)
	}
	return pbx.CheckStateDir(file)
}

// pingKeyFlag defines -ping-key on fs.
func pingKeyFlag(fs *flag.FlagSet) *string {
	def, err := pingserver.DefaultKeyFile()
	if err != nil {
		def = "" // loadPingKey says why
	}
	return fs.String("ping-key", def, "sign Ping's JWTs with the key in `FILE` (32 bytes as 64 hex digits), made with mode 0600 if missing;\nwhoever reads it can make tokens for every user")
}

// loadPingKey reads (or makes) the key file, or says why there is none.
func loadPingKey(file string) ([]byte, error) {
	if file == "" {
		if _, err := pingserver.DefaultKeyFile(); err != nil {
			return nil, err
		}
		return nil, errors.New("ping key: -ping-key is empty; give a FILE")
	}
	return pingserver.LoadKey(file)
}

// runToken is the token command: it prints a Ping JWT for a user and returns
// the exit code, 1 when it cannot make one, 2 for bad usage.
func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("web token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: web token -user LOGIN [-ttl 24h] [-ping-key FILE] [-users FILE]\n\nprints a Ping JWT for the user on stdout; send it as Authorization: Bearer TOKEN")
		fs.PrintDefaults()
	}
	login := fs.String("user", "", "make the token for the user with this `LOGIN` (it needs an extension)")
	ttl := fs.Duration("ttl", 24*time.Hour, "the token is valid for this `DURATION` from now")
	usersFile := fs.String("users", "", "the users `FILE` the server reads (default: the demo users)")
	pingKey := pingKeyFlag(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "unexpected arguments %q; see web token -h\n", fs.Args())
		return 2
	case *login == "":
		fmt.Fprintln(stderr, "give the user: web token -user LOGIN")
		return 2
	case *ttl <= 0:
		fmt.Fprintf(stderr, "-ttl %s: give a positive duration, such as 24h\n", *ttl)
		return 2
	}
	us, err := loadUsers(*usersFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	u, ok := users.NewDirectory(us).ByLogin(*login)
	if !ok {
		fmt.Fprintf(stderr, "no user %q in the users file\n", *login)
		return 1
	}
	key, err := loadPingKey(*pingKey)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	tok, err := pingserver.Mint(key, u, time.Now(), *ttl)
	if err != nil {
		fmt.Fprintf(stderr, "token: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// loadUsers reads the users file, or returns the demo users without one.
func loadUsers(file string) ([]*users.User, error) {
	if file == "" {
		return users.Demo(), nil
	}
	return users.LoadFile(file)
}

// faulty is the PBX behind a fault mode (-faults).
type faulty struct {
	*fault.Injector
	pbx *pbx.Server
}

// Shutdown switches the faults off first, so that no request waits out a
// latency.
func (f faulty) Shutdown(ctx context.Context) error { f.Set(fault.Off); return f.pbx.Shutdown(ctx) }

// handler is what serve serves: the PBX, whose live feeds it must close at
// shutdown, since http.Server.Shutdown does not close hijacked connections.
type handler interface {
	http.Handler
	// Shutdown closes every live feed and waits until they have closed or
	// ctx ends.
	Shutdown(ctx context.Context) error
}

// serve serves on ln until ctx ends, then closes the live feeds (with 1012,
// Service Restart) while it lets the requests under way finish, all within
// shutdownTimeout. With tlsConfig it serves HTTPS, HTTP/2 included if
// tlsConfig offers h2; the connection caps of ln count the connections
// before their TLS handshake, which must end within readHeaderTimeout
// (net/http gives it the shortest of the server's timeouts).
func serve(ctx context.Context, ln net.Listener, h handler, logger *log.Logger, tlsConfig *tls.Config) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          logger,
	}
	done := make(chan error, 1)
	if tlsConfig == nil {
		go func() { done <- srv.Serve(ln) }()
	} else {
		srv.TLSConfig = tlsConfig
		if !slices.Contains(tlsConfig.NextProtos, "h2") {
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetHTTP1(true)
		}
		go func() { done <- srv.ServeTLS(ln, "", "") }()
	}
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	feeds := make(chan error, 1)
	go func() { feeds <- h.Shutdown(sctx) }()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Printf("requests still running after %s were cut off", shutdownTimeout)
		srv.Close()
	}
	if err := <-feeds; err != nil {
		logger.Printf("live feeds still closing after %s were left", shutdownTimeout)
	}
	<-done
	return nil
}

// noCap turns a flag's 0 (no cap, no count) into the -1 that pbx.Limits
// takes for it, where 0 is the default.
func noCap(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// refusalLogEvery spaces the log lines about refused connections: a flood
// of them must not flood the log too.
const refusalLogEvery = 10 * time.Second

// refusals logs the connections refused over the caps: the first at once,
// then at most one line every refusalLogEvery, with how many there were.
type refusals struct {
	log *log.Logger

	mu   sync.Mutex
	n    int
	last time.Time
}

func (r *refusals) note(client string, perClient bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < refusalLogEvery {
		return
	}
	why, flag := "the server holds -max-conns connections", "-max-conns"
	if perClient {
		why, flag = "its address holds -max-conns-per-addr connections", "-max-conns-per-addr"
	}
	r.log.Printf("refused %d connection(s) over the caps; the last from %s: %s (raise %s if such clients are legitimate)", r.n, client, why, flag)
	r.n, r.last = 0, now
}

// displayAddr is the address to print for a listener: one a browser can use,
// so an unspecified IP (listening on every interface) becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
