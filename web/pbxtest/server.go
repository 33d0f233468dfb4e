package pbxtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/internal/localca"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/site"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// closeTimeout bounds Close: the clients' feeds stop and the server's feeds
// close within it, or are cut off.
const closeTimeout = 5 * time.Second

var lowerHashCost sync.Once

// LowerHashCost sets users.HashCost to bcrypt.MinCost for the whole test
// binary, once, so that loading users and checking their passwords take
// well under a millisecond instead of some 50 ms each (several times more
// under -race). Passwords hashed before keep their cost, and still work.
//
// Start and NewServer call it before they load any user. Call it yourself
// first, in TestMain before m.Run or at the top of the test, when your tests
// load users themselves (users.Load, users.Demo, for WithUsers), or start
// servers in parallel tests while other goroutines load users: it writes a
// package variable that users.Load reads without a lock. Never call it
// outside tests; it makes the hashes weak.
func LowerHashCost() {
	lowerHashCost.Do(func() { users.HashCost = bcrypt.MinCost })
}

// The demo users and the demo Vodia admin are loaded, and their passwords
// hashed, once per test binary: both are read-only, so servers share them.
var (
	demoUsers = sync.OnceValue(users.Demo)
	demoAdmin = sync.OnceValues(func() (*vodiaserver.Admin, error) { return vodiaserver.ParseAdmin(vodiaserver.DemoAdmin) })
)

// newAdmin returns the Vodia admin with this login and password.
func newAdmin(login, password string) (*vodiaserver.Admin, error) {
	if login+":"+password == vodiaserver.DemoAdmin {
		return demoAdmin()
	}
	return vodiaserver.NewAdmin(login, password)
}

// sites holds the web/internal/site handler of each list of trusted origins (which
// may frame the login overlay), by the list, as a func() *site.Site.
var sites sync.Map

// siteFor returns a handler of web/internal/site's files that builds the site on its
// first request, once per test binary for each list of origins: building
// it compresses the small assets at the best levels, which takes a good part
// of a second (seconds under -race), and tests that never load a file should
// not pay for it.
func siteFor(origins []string) http.Handler {
	origins = append([]string(nil), origins...)
	build, _ := sites.LoadOrStore(strings.Join(origins, " "),
		sync.OnceValue(func() *site.Site { return site.Handler(origins) }))
	get := build.(func() *site.Site)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { get().ServeHTTP(w, r) })
}

// Server is a local PBX server listening on a free loopback port. Its
// methods are safe for concurrent use.
type Server struct {
	// URL is the server's origin, http://127.0.0.1:PORT (https with
	// WithTLS), without a trailing slash: the API host for
	// auth.Client.SetHost and the page origin of /api/api.js.
	URL string
	// PBX is the server's handler, for what the options do not cover (Sweep,
	// SaveState).
	PBX *pbx.Server
	// HTTP is the listening server. Its Client is HTTPClient.
	HTTP *httptest.Server

	clock         *testclock.Clock
	users         *users.Directory
	pingKey       []byte
	vodiaLogin    string
	vodiaPassword string
	faults        *fault.Injector // nil without WithFaults
	ca            *localca.CA     // nil without WithTLS

	mu      sync.Mutex
	clients []*auth.Client
	close   sync.Once
}

// NewServer starts a server as Start does and closes it when the test and
// its subtests end (t.Cleanup). A start that fails fails the test at once.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server with the options, for use outside a test function
// (TestMain, an Example); the caller must Close it. It fails only on an
// option's bad value.
func Start(opts ...Option) (*Server, error) {
	LowerHashCost()
	login, password, _ := strings.Cut(vodiaserver.DemoAdmin, ":")
	cfg := config{demo: true, vodiaLogin: login, vodiaPassword: password}
	for _, o := range opts {
		if o.set == nil {
			continue
		}
		if err := o.set(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.users == nil {
		cfg.users = demoUsers()
	}
	if cfg.clock == nil {
		cfg.clock = testclock.New()
	}
	if cfg.origins == nil {
		cfg.origins = pbx.DefaultOrigins()
	}
	switch len(cfg.pingKey) {
	case 0:
		cfg.pingKey = make([]byte, pingserver.KeySize)
		rand.Read(cfg.pingKey) // never fails; it crashes the program if the system has no randomness
	case pingserver.KeySize:
	default:
		return nil, fmt.Errorf("pbxtest: WithPingKey: the key is %d bytes; it must be %d", len(cfg.pingKey), pingserver.KeySize)
	}
	admin, err := newAdmin(cfg.vodiaLogin, cfg.vodiaPassword)
	if err != nil {
		return nil, fmt.Errorf("pbxtest: WithVodiaAdmin: %w", err)
	}

	dir := users.NewDirectory(cfg.users)
	pc := pbx.Config{
		Users:      dir,
		TestClock:  cfg.clock, // also the server's clock, as Now is nil
		Origins:    cfg.origins,
		Static:     siteFor(cfg.origins),
		VodiaAdmin: admin,
		PingKey:    cfg.pingKey,
	}
	if cfg.demo {
		pc.PingPresence = pingserver.DemoPresence(cfg.clock.Now())
	}
	for _, tune := range cfg.tune {
		tune(&pc)
	}
	h := pbx.New(pc)
	var handler http.Handler = h
	var faults *fault.Injector
	if cfg.faults {
		faults = fault.New(h)
		handler = faults
	}
	srv, ca, err := listen(handler, cfg.tls)
	if err != nil {
		return nil, err
	}
	return &Server{
		URL:           srv.URL,
		PBX:           h,
		HTTP:          srv,
		clock:         cfg.clock,
		users:         dir,
		pingKey:       cfg.pingKey,
		vodiaLogin:    cfg.vodiaLogin,
		vodiaPassword: cfg.vodiaPassword,
		faults:        faults,
		ca:            ca,
	}, nil
}

// loopbackNames are the names of the certificate of WithTLS.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// listen starts the server on a free loopback port, over HTTPS if useTLS,
// with a certificate from a CA made for it, which its client trusts.
func listen(h http.Handler, useTLS bool) (*httptest.Server, *localca.CA, error) {
	if !useTLS {
		return httptest.NewServer(h), nil, nil
	}
	ca, err := localca.New()
	if err != nil {
		return nil, nil, fmt.Errorf("pbxtest: WithTLS: %w", err)
	}
	cert, err := ca.Issue(loopbackNames)
	if err != nil {
		return nil, nil, fmt.Errorf("pbxtest: WithTLS: %w", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.TLS = localca.ServerConfig(cert) // h2 and http/1.1: browsers open the feed's WebSocket over HTTP/1.1
	srv.StartTLS()
	srv.Client().Transport = trustingTransport(ca)
	return srv, ca, nil
}

// trustingTransport is an HTTP transport that trusts ca (and no other CA)
// and speaks HTTP/2 where it can.
func trustingTransport(ca *localca.CA) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool()}
	tr.ForceAttemptHTTP2 = true
	return tr
}

// Close stops the live feeds of the clients that Client made and closes
// those clients, closes the server's live feeds (with 1012, Service
// Restart) and then the server, waiting for the requests under way. It may
// be called more than once.
func (s *Server) Close() {
	s.close.Do(func() {
		if s.faults != nil {
			s.faults.Set(fault.Off) // ends the waits of the requests delayed by a latency, so that Close does not wait for them
		}
		s.mu.Lock()
		clients := s.clients
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		for _, c := range clients {
			_ = c.StopFeed(ctx) // without a feed, nothing to do
			c.Close()
		}
		_ = s.PBX.Shutdown(ctx) // feeds still open at the deadline are cut off with their connections
		s.HTTP.Close()
	})
}

// Client returns a new Go client for the server (native.NewClient(s.URL)):
// the IPCortex backend by default, the others with SetHostFor(s.URL,
// "vodia" or "ping"). Each call returns a client of its own, with its own
// cookies and login; Close closes them. With WithTLS its requests and its
// live feed trust the server's CA (the feed goes over wss).
func (s *Server) Client() *auth.Client {
	var c *auth.Client
	var err error
	if s.ca == nil {
		c, err = native.NewClient(s.URL)
	} else {
		c, err = s.tlsClient()
	}
	if err != nil {
		panic("pbxtest: the server's own URL is refused: " + err.Error()) // s.URL is a loopback http(s) URL
	}
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return c
}

// tlsClient is native.NewClient(s.URL) with requests and the feed's
// handshake over s's HTTP transport, which trusts the server's CA.
func (s *Server) tlsClient() (*auth.Client, error) {
	t := native.NewTransport()
	t.HTTP.Transport = s.HTTP.Client().Transport
	return auth.New(auth.Config{Transport: t, Dialer: &native.WebSockets{HTTP: t.HTTP}, Host: s.URL, Random: native.Random,
		Backends: []backend.Backend{ipcortex.New(), vodia.New(), ping.New()}})
}

// HTTPClient returns the server's HTTP client (s.HTTP.Client()), without
// cookies: with WithTLS it trusts the server's CA, and speaks HTTP/2 to
// it. Give it a cookie jar of its own (a copy with Jar set) to act as one
// browser.
func (s *Server) HTTPClient() *http.Client { return s.HTTP.Client() }

// CACertPEM returns, with WithTLS, the certificate of the CA that the
// server's certificate comes from, in PEM, for a client to trust: a Go
// client's x509.CertPool (AppendCertsFromPEM), a browser's test profile, or
// Node's NODE_EXTRA_CA_CERTS. Without WithTLS it returns nil.
func (s *Server) CACertPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return s.ca.CertPEM()
}

// TLSConfig returns, with WithTLS, a copy of the server's TLS
// configuration: its certificate, which is valid for localhost, 127.0.0.1
// and ::1, and HTTP/2 and HTTP/1.1. A second server can serve with it, as a
// page on another site (https://localhost:PORT against the PBX's
// https://127.0.0.1:PORT), and clients that trust CACertPEM trust it too:
//
//	ps := httptest.NewUnstartedServer(pages)
//	ps.TLS = s.TLSConfig()
//	ps.StartTLS()
//	page := "https://localhost:" + ps.URL[strings.LastIndex(ps.URL, ":")+1:] + "/"
//
// Without WithTLS it returns nil.
func (s *Server) TLSConfig() *tls.Config {
	if s.ca == nil {
		return nil
	}
	return s.HTTP.TLS.Clone()
}

// Faults returns the fault switch of a server started WithFaults: Set
// makes the PBX's API fail on purpose (fault.Status500, fault.Reset,
// fault.Truncate, fault.NotJSON, fault.Oversized, fault.Latency(d),
// fault.DropFeed) until it is Set back to fault.Off. The fault is the
// server's: VodiaTemporaryID meets it too, so get ids before switching one
// on. It panics for a server started without WithFaults, which has no
// fault mode.
func (s *Server) Faults() *fault.Injector {
	if s.faults == nil {
		panic("pbxtest: Faults: the server has no fault mode; start it with pbxtest.WithFaults()")
	}
	return s.faults
}

// Clock returns the server's clock.
func (s *Server) Clock() *testclock.Clock { return s.clock }

// Now returns the time on the server's clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the server's clock forward by d, drops what has expired by
// then (sessions, login tokens, external users, Vodia's and Ping's ids and
// sessions) and closes the live feeds of the sessions that ended, so that
// the next call sees them gone; it returns the new time. A clock never goes
// back: a negative d panics.
//
// The contract's lifetimes (web/PROTOCOL.md): a session ends after 8 hours
// without use or 24 hours in all, a login token of the default class after
// 24 hours, so Advance(25 * time.Hour) ends every login of the default
// class.
func (s *Server) Advance(d time.Duration) time.Time {
	now, err := s.clock.Advance(d)
	if err != nil {
		panic("pbxtest: " + err.Error())
	}
	s.PBX.Sweep()
	return now
}

// Users returns the server's users directory (without the external users
// that admins create while it runs).
func (s *Server) Users() *users.Directory { return s.users }

// PingToken returns a Ping JWT for the user with this login, valid for ttl
// from now on the server's clock, signed with the server's key: log in with
// it through the Ping backend (auth.Options{Tokens: []string{jwt}}) or send
// it as "Authorization: Bearer JWT". The user needs an extension.
func (s *Server) PingToken(login string, ttl time.Duration) (string, error) {
	u, ok := s.users.ByLogin(login)
	if !ok {
		return "", fmt.Errorf("pbxtest: PingToken: no user %q", login)
	}
	tok, err := pingserver.Mint(s.pingKey, u, s.clock.Now(), ttl)
	if err != nil {
		return "", fmt.Errorf("pbxtest: PingToken: %w", err)
	}
	return tok, nil
}

// VodiaTemporaryID asks the server, with the Vodia admin's credentials, as
// an integrator's server does, for a temporary session id for the user with
// extension username in domain (a user's domain is its company unless the
// users file says otherwise), or for the domain when username is "". The id
// is good once, for 10 seconds on the server's clock: log in with it
// through the Vodia backend (auth.Options{Tokens: []string{id}}).
func (s *Server) VodiaTemporaryID(domain, username string) (string, error) {
	req := map[string]string{"name": "3rd", "domain": domain}
	if username != "" {
		req["username"] = username
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	r, err := http.NewRequest(http.MethodPost, s.URL+vodiaserver.Path, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	r.Header.Set("Content-Type", "application/json")
	r.SetBasicAuth(s.vodiaLogin, s.vodiaPassword)
	resp, err := s.HTTP.Client().Do(r)
	if err != nil {
		return "", fmt.Errorf("pbxtest: VodiaTemporaryID: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", fmt.Errorf("pbxtest: VodiaTemporaryID: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var fail struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &fail) != nil || fail.Error == "" {
			fail.Error = strings.TrimSpace(string(raw))
		}
		return "", fmt.Errorf("pbxtest: VodiaTemporaryID: %s: %s", resp.Status, fail.Error)
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || id == "" {
		return "", errors.New("pbxtest: VodiaTemporaryID: the reply is not a session id: " + string(raw))
	}
	return id, nil
}
