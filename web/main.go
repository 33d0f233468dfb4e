// Command web is the local PBX server: it serves the browser module, its login
// overlay and the demo page, speaks the REST auth contract of web/PROTOCOL.md
// against a set of users, and trusts cross-origin pages only from the origins
// it is given.
//
//	go run ./web [-addr HOST:PORT] [-users FILE] [-origins LIST] [-hosts LIST]
//	             [-token-classes LIST] [-test-clock]
//
// -token-classes gives the login tokens of some origins a longer life when
// the login asks for none, as "https://app.example=longLogin,
// http://localhost:*=refreshable" (origins written as for -origins; without
// an entry a token lives 24 hours).
//
// -test-clock is for tests only, never for production: sessions, login
// tokens and external users then run on a clock that starts at the real time
// and that anyone who can reach the server moves forward with POST
// /test/clock {"advance":"25h"} (the reply is {"now": MS}), so that browser
// tests can see logins expire. Without it that path is 404.
//
// It answers only requests sent to its -addr address, to localhost, 127.x.y.z
// and [::1] (any port), and to the host names given with -hosts, such as the
// public name a proxy in front of it forwards; any other Host header is
// refused, so that a hostile page cannot reach it by pointing its own name at
// it (DNS rebinding).
//
// Once it accepts connections it prints one line, "listening on
// http://HOST:PORT", on stdout; requests are logged on stderr. Ctrl-C or
// SIGTERM stop it gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/site"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// Server timeouts: bodies are at most 64 KiB, so slow clients are cut off
// early. A WebSocket handler must clear the connection's deadlines (with
// http.ResponseController) before it upgrades.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
	sweepInterval     = time.Minute
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program: it serves until ctx ends and returns the exit code, 0
// after a graceful stop, 1 when it cannot start or serve, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	logger := log.New(stderr, "", log.LstdFlags)
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT`; :0 picks a free port")
	usersFile := fs.String("users", "", "load the users from a JSON `FILE` (default: the demo users alice, bob and carol)")
	origins := fs.String("origins", "", "trust pages from these comma-separated `ORIGINS`, scheme://host[:port], :* for any port\n(default: http and https on localhost, 127.0.0.1 and [::1], any port)")
	hosts := fs.String("hosts", "", "also answer requests for these comma-separated `HOSTS`, name or name:port (no port: any port),\nsuch as the name a proxy forwards (always answered: the -addr address, and\nlocalhost, 127.x.y.z and [::1] on any port)")
	tokenClasses := fs.String("token-classes", "", "give the login tokens of these origins a class when the login names no application:\ncomma-separated `LIST` of ORIGIN=CLASS, ORIGIN as for -origins, CLASS refreshable (alive while used daily)\nor longLogin (alive while used weekly); e.g. https://app.example=longLogin,http://localhost:*=refreshable\n(default: every token lives 24 hours)")
	testClock := fs.Bool("test-clock", false, "FOR TESTS ONLY, never in production: run sessions, tokens and external users on a clock\nthat anyone who can reach the server moves forward with POST /test/clock {\"advance\":\"25h\"}")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments %q; see -h\n", fs.Args())
		return 2
	}

	cfg := pbx.Config{Logger: logger, Origins: pbx.DefaultOrigins()}
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

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "%v; pick another -addr (:0 picks a free port)\n", err)
		return 1
	}
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
	go srv.SweepEvery(ctx, sweepInterval)
	fmt.Fprintf(stdout, "listening on http://%s\n", displayAddr(ln.Addr()))
	if err := serve(ctx, ln, srv, logger); err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}

// loadUsers reads the users file, or returns the demo users without one.
func loadUsers(file string) ([]*users.User, error) {
	if file == "" {
		return users.Demo(), nil
	}
	return users.LoadFile(file)
}

// serve serves on ln until ctx ends, then lets the requests under way finish
// for up to shutdownTimeout.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *log.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          logger,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Printf("requests still running after %s were cut off", shutdownTimeout)
		srv.Close()
	}
	<-done
	return nil
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
