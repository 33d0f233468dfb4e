// Package pbx is the local PBX server: it speaks the REST auth contract of
// web/PROTOCOL.md (login, check, logout, clean-up, company selection and phone
// password reset, with sessions per sub-ID and stateless API keys), guards it
// with the served-host and trusted-origin rules, logs one line per request and
// serves everything else from a static handler.
package pbx

import (
	"io"
	"log"
	"net/http"

	"github.com/pbxauth/pbxauth/core/wire"
	"github.com/pbxauth/pbxauth/web/session"
	"github.com/pbxauth/pbxauth/web/users"
)

// Config says whom the server knows and whom it trusts. Every field may be
// left zero.
type Config struct {
	// Users are who may log in; nil: nobody.
	Users *users.Directory
	// Sessions hold the logins; nil: a new store. Run its SweepEvery to drop
	// abandoned sessions, which are otherwise dropped only when looked up.
	Sessions *session.Store
	// Origins are the trusted cross-origin pages, as ParseOrigins returns
	// them; nil: http and https on localhost, 127.0.0.1 and [::1], any port.
	Origins []string
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
}

// Server is the local PBX server, an http.Handler.
type Server struct {
	users    *users.Directory
	sessions *session.Store
	origins  []string
	hosts    []hostName
	log      *log.Logger
	handler  http.Handler
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		users:    cfg.Users,
		sessions: cfg.Sessions,
		origins:  cfg.Origins,
		log:      cfg.Logger,
	}
	if s.users == nil {
		s.users = users.NewDirectory(nil)
	}
	if s.sessions == nil {
		s.sessions = session.New()
	}
	if s.origins == nil {
		s.origins = defaultOrigins
	}
	for _, h := range cfg.Hosts {
		s.hosts = append(s.hosts, splitHost(h))
	}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
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
	top := http.NewServeMux()
	top.Handle("/rest/", s.checkOrigin(mux))
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
