// Package pbx is the local PBX server as an http.Handler, for ./web and pbxtest.
//
// It speaks the REST auth contract of web/PROTOCOL.md (login with a
// password or a login token, check, logout, clean-up, company selection,
// phone password reset and the creation of external users, with sessions
// per sub-ID, tokens bound to an application origin, and stateless API
// keys) and the live feed that tells a client at once that its session has
// ended, and beside them the halves of two other phone systems on the same
// port: Vodia's third-party login (web/internal/vodiaserver) and Ping's
// login and extension directory (web/internal/pingserver). It guards them
// all with the served-host and trusted-origin rules and with the limits of
// Limits (failed logins throttled by name and address, password checks
// bounded, sessions and tokens capped), logs one line per request and
// serves everything else from a static handler.
package pbx

import (
	"context"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/feedserver"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/internal/throttle"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// Config says whom the server knows and whom it trusts. Every field may be
// left zero.
type Config struct {
	// Users are who may log in; nil: nobody. External users, which admins
	// create while the server runs, are kept beside them.
	Users *users.Directory
	// Now is the clock of the sessions, login tokens and external users; nil:
	// TestClock's if there is one, else the real clock. Run the server's
	// SweepEvery to drop what has expired, which is otherwise dropped only
	// when looked up.
	Now func() time.Time
	// TestClock, for tests only and never in production, is served at POST
	// /test/clock, where anyone who can reach the server moves it forward;
	// nil: that path is not served (404).
	TestClock *testclock.Clock
	// Origins are the trusted cross-origin pages, as ParseOrigins returns
	// them; nil: DefaultOrigins.
	Origins []string
	// TokenClasses gives the token class ("refreshable" or "longLogin") of
	// a login from an origin that names no "application", by origin pattern
	// as ParseTokenClasses returns them; an origin without one gets the
	// default class, 24 hours. nil: every origin gets the default.
	TokenClasses map[string]string
	// Hosts are the Host header values the server answers besides the
	// loopback names (localhost, 127.x.y.z and [::1], on any port): its
	// listen address, and the names ParseHosts returns (a name alone serves
	// every port). Requests to any other host are refused, against DNS
	// rebinding; nil: loopback names only.
	Hosts []string
	// Logger gets one line per request and the faults; nil: no logging.
	Logger *log.Logger
	// Static serves every path that is not part of the REST contract; nil:
	// 404 for all of them.
	Static http.Handler
	// Feed tunes the live feed: the version it announces (default: the
	// build's) and its timeouts (default: the protocol's). Its Logger
	// defaults to Logger.
	Feed feedserver.Options
	// VodiaAdmin is the Vodia admin, who may ask for temporary session ids
	// (see vodiaserver.ParseAdmin); nil: nobody may.
	VodiaAdmin *vodiaserver.Admin
	// PingKey signs and checks Ping's JWTs, pingserver.KeySize bytes (see
	// pingserver.LoadKey); nil: a random key for this server's life, so that no
	// token made elsewhere works.
	PingKey []byte
	// PingPresence is what Ping's extension objects say of each user, by
	// login (pingserver.DemoPresence for the demo users); nil: everyone is
	// available, without a profile or calls.
	PingPresence map[string]pingserver.Presence
	// Limits bound failed logins, the password checks under way, and the
	// sessions and tokens held; the zero value is the defaults. The open
	// feeds of a user are capped by Feed.MaxPerUser, the connections by
	// the listener (web/connlimit).
	Limits Limits
}

// The settings of the server's parts that a Config names, so that programs
// outside web/ (pbxtest's users, the core's tests) can fill them in.
type (
	FeedOptions   = feedserver.Options
	FailurePolicy = throttle.Policy
	VodiaAdmin    = vodiaserver.Admin
	PingPresence  = pingserver.Presence
)

// Server is the local PBX server, an http.Handler.
type Server struct {
	users        *users.Directory
	externals    *users.Externals
	sessions     *store.Sessions
	tokens       *store.Tokens
	testClock    *testclock.Clock // nil: none
	feeds        *feedserver.Hub
	vodia        *vodiaserver.Handler
	ping         *pingserver.Handler
	guard        *guard
	tokenClasses map[string]string
	origins      []string
	hosts        []hostName
	log          *log.Logger
	handler      http.Handler
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		users:        cfg.Users,
		tokenClasses: cfg.TokenClasses,
		testClock:    cfg.TestClock,
		origins:      cfg.Origins,
		log:          cfg.Logger,
	}
	if s.users == nil {
		s.users = users.NewDirectory(nil)
	}
	now := cfg.Now
	if now == nil && cfg.TestClock != nil {
		now = cfg.TestClock.Now
	}
	if now == nil {
		now = time.Now
	}
	s.externals = users.NewExternals(s.users)
	s.externals.Now = now
	perUser := storeCap(cfg.Limits.SessionsPerUser, store.DefaultMaxSessionsPerUser)
	total := storeCap(cfg.Limits.Sessions, store.DefaultMaxSessions)
	s.tokens = store.NewTokens()
	s.tokens.Now = now
	s.tokens.MaxPerUser, s.tokens.MaxTokens = perUser, total
	s.sessions = store.NewSessions()
	s.sessions.Now = now
	s.sessions.MaxPerUser, s.sessions.MaxSessions = perUser, total
	s.sessions.Tokens = s.tokens
	s.sessions.OnEnd = s.sessionEnded
	if s.origins == nil {
		s.origins = DefaultOrigins()
	}
	for _, h := range cfg.Hosts {
		s.hosts = append(s.hosts, splitHost(h))
	}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	s.guard = newGuard(cfg.Limits, now, s.log)
	feedOpts := cfg.Feed
	if feedOpts.Logger == nil {
		feedOpts.Logger = s.log
	}
	s.feeds = feedserver.New(feedSessions{s}, feedOpts)
	s.vodia = vodiaserver.New(vodiaserver.Config{Users: s.users, Now: now, Admin: cfg.VodiaAdmin})
	s.ping = pingserver.New(pingserver.Config{Users: s.users, Now: now, Key: cfg.PingKey, Presence: cfg.PingPresence})
	static := cfg.Static
	if static == nil {
		static = http.NotFoundHandler()
	}

	mux := http.NewServeMux()
	mux.Handle(wire.PathLogin+"{$}", s.rest(wire.TypeAuth, s.auth))
	mux.Handle(wire.PathLogout, s.rest(wire.TypeAuth, s.logout))
	mux.Handle(wire.PathCleanup, s.rest(wire.TypeCleanup, s.cleanup))
	mux.Handle(wire.PathCompany, s.rest(wire.TypeCompany, s.company))
	mux.Handle(wire.PathRTCReset, s.rest(wire.TypeRTCReset, s.rtcReset))
	mux.Handle(PathExternal, s.rest(TypeExternal, s.createExternal))
	mux.Handle(wire.FeedPath, s.feeds)
	top := http.NewServeMux()
	top.Handle("/rest/", s.checkOrigin(mux))
	if cfg.TestClock != nil {
		top.Handle(testclock.Path, s.checkOrigin(cfg.TestClock))
	}
	top.Handle(vodiaserver.Path, s.checkOrigin(s.guardBasic(s.vodia)))
	top.Handle("/auth/", s.checkOrigin(s.guardBasic(s.ping)))
	top.Handle(pingserver.PathExtensions, s.checkOrigin(s.ping))
	top.Handle("/", publicFiles(static))
	s.handler = s.logRequests(s.recoverPanics(s.checkHost(top)))
	return s
}

// publicFiles serves what every page may load, whatever its origin: the
// module is public code, and a page on an origin the server does not trust
// should load it and then be told by the REST calls why it cannot log in,
// rather than fail to load. No credentials are involved ("*" forbids them).
func publicFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Shutdown closes every live feed with wire.FeedRestart and waits until
// they have closed or ctx ends. Call it while http.Server.Shutdown runs,
// which does not close the feeds' connections: they are hijacked.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.feeds.Shutdown(ctx)
}

// Sweep drops the dead login tokens, the sessions that have expired or
// whose token has died, the external users whose time has come, Vodia's
// and Ping's expired temporary ids and sessions, and the counts of failed
// logins that are old enough to forget.
func (s *Server) Sweep() {
	s.tokens.Sweep()
	s.sessions.Sweep() // after the tokens: their sessions go in the same sweep
	s.externals.Sweep()
	s.vodia.Sweep()
	s.ping.Sweep()
	s.guard.sweep()
}

// SweepEvery runs Sweep every interval until ctx ends; run it in a goroutine.
// Without it, what has expired is dropped only when it is next looked up.
func (s *Server) SweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep()
		}
	}
}
