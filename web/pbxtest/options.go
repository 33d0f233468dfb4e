package pbxtest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// An Option changes one thing of the server that Start or NewServer starts.
// Later options win over earlier ones; the zero Option changes nothing.
type Option struct {
	set func(*config) error
}

// config is what the options set.
type config struct {
	users         []*users.User // nil: the demo users
	demo          bool          // users are the demo users, which get Ping's demo presence
	clock         *testclock.Clock
	vodiaLogin    string
	vodiaPassword string
	pingKey       []byte
	origins       []string // nil: pbx.DefaultOrigins
	tune          []func(*pbx.Config)
	faults        bool
	tls           bool
}

// WithUsers gives the server these users instead of the demo users. Load
// them with users.Load or users.LoadFile after LowerHashCost, or their
// logins are slow.
func WithUsers(us ...*users.User) Option {
	return Option{func(c *config) error {
		if len(us) == 0 {
			return errors.New("pbxtest: WithUsers: no users; give at least one")
		}
		c.users, c.demo = us, false
		return nil
	}}
}

// WithUsersJSON gives the server the users of a users file (see users.Load
// and "Users file" in web/PROTOCOL.md), such as
//
//	[{"id": 1, "login": "dave", "password": "secret", "home": "default", "extension": "50"}]
//
// A file that does not load fails the start, with users.Load's reason.
func WithUsersJSON(usersFile string) Option {
	return Option{func(c *config) error {
		us, err := users.Load(strings.NewReader(usersFile))
		if err != nil {
			return fmt.Errorf("pbxtest: WithUsersJSON: %w", err)
		}
		c.users, c.demo = us, false
		return nil
	}}
}

// WithClock runs the server on clock instead of a new one, so that several
// servers, or the test and the server, share one clock. Server.Advance moves
// it.
func WithClock(clock *testclock.Clock) Option {
	return Option{func(c *config) error {
		if clock == nil {
			return errors.New("pbxtest: WithClock: the clock is nil")
		}
		c.clock = clock
		return nil
	}}
}

// WithVodiaAdmin sets the Vodia admin, the account that asks for temporary
// session ids with Basic credentials (see Server.VodiaTemporaryID); default
// the demo admin, admin:vodia-demo.
func WithVodiaAdmin(login, password string) Option {
	return Option{func(c *config) error {
		c.vodiaLogin, c.vodiaPassword = login, password
		return nil
	}}
}

// WithPingKey sets the key that signs and checks Ping's JWTs, 32 bytes, for
// a test that signs its own tokens (HS256, with "sub" the user's extension,
// "domain" its domain, and "exp"; see Ping in web/PROTOCOL.md); default a
// random key. Server.PingToken makes tokens with either.
func WithPingKey(key []byte) Option {
	return Option{func(c *config) error {
		c.pingKey = append([]byte(nil), key...)
		return nil
	}}
}

// WithOrigins sets the origins whose pages the server trusts with
// credentials (and lets frame the login overlay), written as for the
// server's -origins flag: "https://app.example" or "http://localhost:*" for
// any port. Default: pbx.DefaultOrigins, http and https pages on localhost,
// 127.0.0.1 and [::1], any port. Pages on the server's own origin are always
// trusted; Go clients send no Origin and are never refused.
func WithOrigins(origins ...string) Option {
	return Option{func(c *config) error {
		list, err := pbx.ParseOrigins(strings.Join(origins, ","))
		if err != nil {
			return fmt.Errorf("pbxtest: WithOrigins: %w", err)
		}
		c.origins = list
		return nil
	}}
}

// WithConfig lets tune change the pbx.Config that the other options made,
// just before the server is built: for its token classes, Hosts, Logger,
// feed version and timeouts, or Ping's presence. The clock fields (Now,
// TestClock), Users, VodiaAdmin and PingKey belong to the other options;
// changing them here breaks Advance, PingToken or VodiaTemporaryID.
func WithConfig(tune func(*pbx.Config)) Option {
	return Option{func(c *config) error {
		if tune == nil {
			return errors.New("pbxtest: WithConfig: the function is nil")
		}
		c.tune = append(c.tune, tune)
		return nil
	}}
}

// WithFaults puts a fault.Injector in front of the server, off until the
// test switches it with Server.Faults (or POST /test/fault, see web/fault),
// so that the test can make the PBX's API fail on purpose: latency, 500s,
// connection resets, truncated bodies, replies that are not JSON or are too
// large, a live feed that drops. Without this option the server has no fault
// mode and does not serve /test/fault.
func WithFaults() Option {
	return Option{func(c *config) error {
		c.faults = true
		return nil
	}}
}

// WithTLS makes the server serve HTTPS, with HTTP/2, and its live feed over
// wss, as httptest.NewTLSServer does: Server.URL is then
// https://127.0.0.1:PORT, and the certificate, for localhost, 127.0.0.1 and
// ::1, comes from a certificate authority made in memory for this server
// alone (nothing is written to disk, nothing is trusted beyond the test).
// Server.Client and Server.HTTPClient trust it; Server.CACertPEM gives it
// to other clients (a browser, through its test tool), and
// Server.TLSConfig to a second server, such as a page's on another site.
// Over HTTPS the session cookies are Secure and SameSite=None, as a real
// PBX's for pages of other sites.
func WithTLS() Option {
	return Option{func(c *config) error {
		c.tls = true
		return nil
	}}
}
