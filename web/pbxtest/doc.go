// Package pbxtest runs the local PBX server inside a Go test, as net/http/httptest does.
//
// It is for integration tests of code that logs in to a PBX: the Go client
// library (core/auth, core/native), a service of your own that calls the
// REST contract, or a headless browser that loads the module.
//
//	s := pbxtest.NewServer(t) // the demo users, closed when the test ends
//	c := s.Client()           // an *auth.Client for s.URL
//
// The server is the real one on a free loopback port,
// http://127.0.0.1:PORT: web/pbx with its handlers for the IPCortex REST
// contract and the live feed, Vodia's third-party login and Ping's login and
// extension directory, and the site's files: the loader /api/api.js, the
// login overlay and the demo page. The module (pbxauth.wasm and
// wasm_exec.js) is the one in web/internal/site/dist when the test binary was
// compiled: run `make build` first for a browser test, or those two answer
// 503. The files are compressed on the first request for one of them, once
// per test binary (a second or two under -race), so tests that use only the
// REST contract do not pay for it. What a
// test usually wants to choose is an Option: the users (WithUsers,
// WithUsersJSON; default users.Demo: alice/wonderland, bob/builder,
// carol/carolpass), the clock (WithClock), the Vodia admin (WithVodiaAdmin;
// default admin:vodia-demo), the key of Ping's JWTs (WithPingKey; default
// random) and the trusted origins (WithOrigins; default loopback pages), and
// anything else of pbx.Config through WithConfig. WithFaults puts a fault
// mode in front of the server (web/fault), off until Server.Faults switches
// it, so that a test can make the PBX's API fail on purpose and check what
// its client does.
//
// WithTLS serves HTTPS, with HTTP/2, and the live feed over wss, on
// https://127.0.0.1:PORT, as httptest.NewTLSServer does, with a certificate
// for localhost, 127.0.0.1 and ::1 from a certificate authority made in
// memory for the server alone: Client and HTTPClient trust it, CACertPEM
// hands it to other clients, and TLSConfig lets a second server, such as a
// page on another site (https://localhost:PORT), serve with the same
// certificate. Over HTTPS the session cookies are Secure and SameSite=None,
// so that a trusted page of another site can use them, as with a real PBX.
// A browser has to trust the CA or accept the certificate: with Playwright
// or Puppeteer, ignoreHTTPSErrors; with WebDriver, acceptInsecureCerts;
// with Chromium, --ignore-certificate-errors-spki-list and the base64
// SHA-256 of the certificate's public key (TLSConfig().Certificates[0].Leaf
// .RawSubjectPublicKeyInfo).
//
// Sessions, login tokens, live feeds, external users, Ping's JWTs and
// sessions and Vodia's temporary ids all run on the server's test clock, which
// starts at the real time and which Server.Advance moves forward: a test sees
// a 24-hour login expire at once. The clock is also served at POST
// /test/clock ({"advance": "25h"}, see web/testclock), so that a browser test
// can move it from the page.
//
// Start and NewServer lower the bcrypt cost of users.HashCost for speed; see
// LowerHashCost for when to call it yourself.
//
// This package is for tests only: its clock can be moved by anyone who
// reaches the server, and its password hashes are weak by design.
package pbxtest
