package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// The tests of this file run the module over HTTPS: the PBX is a pbxtest
// server WithTLS (https://127.0.0.1:P2, in this process, with the module of
// web/internal/site/dist), and the page is on another site,
// https://localhost:P1, served with the PBX's TLS configuration. Chromium
// accepts that certificate, and no other, by the hash of its key
// (--ignore-certificate-errors-spki-list), in a browser of the test's own.

// httpsPages serves one page, at /page, on https://localhost:PORT with the
// PBX's certificate: a vendor page that loads the module from s with one
// script tag and points it at s.
func httpsPages(t *testing.T, s *pbxtest.Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>https</title></head>
<body>
<script>%s
%s</script>
<script src="%s/api/api.js"></script>
<script>IPCortex.PBX.Auth.setHost(%q);</script>
</body></html>
`, helperScript(), feedJS, s.URL, s.URL)
	})
	ps := httptest.NewUnstartedServer(mux)
	ps.TLS = s.TLSConfig()
	ps.StartTLS()
	t.Cleanup(ps.Close)
	_, port, err := net.SplitHostPort(ps.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return "https://localhost:" + port + "/page"
}

// httpsBrowser starts a Chromium that accepts s's certificate, and with
// thirdParty, takes third-party cookies, which this Chromium (156, in
// Debian) refuses with its default settings (Set-Cookie blocked for
// "UserPreferences"), in its profile as in private contexts.
func httpsBrowser(t *testing.T, s *pbxtest.Server, thirdParty bool) context.Context {
	t.Helper()
	profile := filepath.Join(t.TempDir(), "profile")
	if thirdParty {
		if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o700); err != nil {
			t.Fatal(err)
		}
		prefs := `{"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": false}}`
		if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(s.TLSConfig().Certificates[0].Leaf.RawSubjectPublicKeyInfo)
	browser, stop, err := startBrowser(profile,
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	ctx, cancel := context.WithTimeout(browser, testDeadline)
	t.Cleanup(cancel)
	return ctx
}

// httpsEvents is what the browser reported about a tab's traffic.
type httpsEvents struct {
	mu         sync.Mutex
	requests   []string          // every URL requested, in order
	protocols  map[string]string // the protocol of each response, by URL
	sockets    []string          // the WebSockets opened
	upgrades   []int64           // the status of their handshakes' responses
	states     []*security.VisibleSecurityState
	setCookies []string // the Set-Cookie headers received
	blocked    []string // the cookies the browser did not store, with why
}

func (e *httpsEvents) note(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		e.requests = append(e.requests, ev.Request.URL)
	case *network.EventResponseReceived:
		e.protocols[ev.Response.URL] = ev.Response.Protocol
	case *network.EventWebSocketCreated:
		e.sockets = append(e.sockets, ev.URL)
	case *network.EventWebSocketHandshakeResponseReceived:
		e.upgrades = append(e.upgrades, ev.Response.Status)
	case *network.EventResponseReceivedExtraInfo:
		for k, v := range ev.Headers {
			if strings.EqualFold(k, "set-cookie") {
				e.setCookies = append(e.setCookies, strings.Split(fmt.Sprint(v), "\n")...)
			}
		}
		for _, b := range ev.BlockedCookies {
			e.blocked = append(e.blocked, fmt.Sprintf("%s %v", b.CookieLine, b.BlockedReasons))
		}
	case *security.EventVisibleSecurityStateChanged:
		e.states = append(e.states, ev.VisibleSecurityState)
	}
}

// httpsTab opens a tab in parent that records its traffic.
func httpsTab(t *testing.T, parent context.Context, name string, opts ...chromedp.ContextOption) (*tab, *httpsEvents) {
	t.Helper()
	tb := openTab(t, parent, name, opts...)
	ev := &httpsEvents{protocols: map[string]string{}}
	if err := chromedp.Listen(tb.ctx, ev.note); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tb.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tb.ctx, security.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return tb, ev
}

// loginAndFeed loads the page, logs in as alice with a password (without
// a login token, so that only the cookie can carry the login to another
// tab) and starts the feed.
func loginAndFeed(tb *tab, page string) {
	tb.t.Helper()
	tb.navigate(page)
	tb.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")
	if !evalIn[bool](tb, "window.isSecureContext") {
		tb.errorf("the page is not a secure context")
	}
	o := tb.call("return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland', notoken: true})", false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.fatalf("login as alice: %s", o)
	}
	if o := tb.call("return IPCortex.PBX.startFeed(feedUp, feedErr)", false); o.State != "resolved" {
		tb.fatalf("startFeed: %s", o)
	}
	tb.waitFor("F.ups > 0", "the feed to be up")
}

// checkGivenCookies checks the Set-Cookie headers the browser received
// from the PBX: the session cookie, Secure and SameSite=None.
func checkGivenCookies(tb *tab, ev *httpsEvents) {
	tb.t.Helper()
	ev.mu.Lock()
	defer ev.mu.Unlock()
	session := false
	for _, line := range ev.setCookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			tb.errorf("a Set-Cookie the browser cannot read: %q: %v", line, err)
			continue
		}
		session = session || c.Name == wire.CookieName
		if !c.Secure || c.SameSite != http.SameSiteNoneMode {
			tb.errorf("the browser was given %q: want Secure and SameSite=None", line)
		}
	}
	if !session {
		tb.errorf("the login's reply set no %s cookie: %q", wire.CookieName, ev.setCookies)
	}
}

// checkSecureTraffic checks that the feed went over wss to s, as an
// HTTP/1.1 upgrade (the PBX's HTTP/2 does not offer WebSockets), that the
// loader and the page came over HTTP/2, and that there is no mixed
// content: every request https or wss, no console message about it, and
// none in Chromium's security state.
func checkSecureTraffic(tb *tab, ev *httpsEvents, s *pbxtest.Server, page string) {
	tb.t.Helper()
	tb.mu.Lock()
	for _, line := range tb.console {
		if l := strings.ToLower(line); strings.Contains(l, "mixed content") || strings.Contains(l, "insecure") {
			tb.errorf("the console speaks of mixed content: %s", line)
		}
	}
	tb.mu.Unlock()

	ev.mu.Lock()
	defer ev.mu.Unlock()
	feedURL := "wss://127.0.0.1:" + s.URL[strings.LastIndex(s.URL, ":")+1:] + wire.FeedPath
	if len(ev.sockets) == 0 {
		tb.errorf("no WebSocket seen")
	}
	for _, u := range ev.sockets {
		if !strings.HasPrefix(u, feedURL) {
			tb.errorf("a WebSocket to %s; want the feed over wss, %s", u, feedURL)
		}
	}
	for _, status := range ev.upgrades {
		if status != http.StatusSwitchingProtocols {
			tb.errorf("the feed's handshake was answered %d, want 101 (an HTTP/1.1 upgrade)", status)
		}
	}
	wasm := false
	for _, u := range ev.requests {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "wss://") {
			tb.errorf("mixed content: the page requested %s", u)
		}
		wasm = wasm || strings.HasPrefix(u, s.URL+"/api/") && strings.Contains(u, ".wasm")
	}
	if !wasm {
		tb.errorf("the module was not fetched from %s/api/ (requests: %v)", s.URL, ev.requests)
	}
	loader := s.URL + "/api/api.js"
	for _, u := range []string{page, loader} {
		if p := ev.protocols[u]; p != "h2" {
			tb.errorf("%s came over %q, want h2 (HTTP/2)", u, p)
		}
	}
	if len(ev.states) == 0 {
		tb.errorf("Chromium reported no security state")
		return
	}
	for _, st := range ev.states {
		for _, id := range st.SecurityStateIssueIDs {
			if strings.Contains(id, "mixed") {
				tb.errorf("Chromium's security state has %q: %+v", id, st)
			}
		}
	}
	last := ev.states[len(ev.states)-1]
	tb.t.Logf("%d requests, all https or wss; feed %v, handshakes %v; loader over %s; security state %s, issues %v",
		len(ev.requests), ev.sockets, ev.upgrades, ev.protocols[loader], last.SecurityState, last.SecurityStateIssueIDs)
}

// sessionCookies returns the cookies the browser holds for s.
func sessionCookies(tb *tab, s *pbxtest.Server) []*network.Cookie {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL + "/"}})
	if err != nil {
		tb.fatalf("Network.getCookies: %v", err)
	}
	return res.Cookies
}

// TestHTTPSCrossSite: a page on another site logs in with a password and
// starts the feed, over HTTPS. The browser is given the session cookie
// with Secure and SameSite=None; the feed goes over wss; there is no mixed
// content. Where the browser takes third-party cookies, the cookie flows
// from the page of another site: a second tab, which has no session of its
// own, is logged in by it. Where it refuses them, as this Chromium does by
// default, the page still logs in and runs its feed, with the session the
// module sends itself.
func TestHTTPSCrossSite(t *testing.T) {
	requireEnv(t)
	s := pbxtest.NewServer(t, pbxtest.WithTLS())
	page := httpsPages(t, s)

	t.Run("third-party cookies allowed", func(t *testing.T) {
		tb, ev := httpsTab(t, httpsBrowser(t, s, true), "A")
		loginAndFeed(tb, page)
		checkGivenCookies(tb, ev)
		checkSecureTraffic(tb, ev, s, page)
		var session *network.Cookie
		for _, c := range sessionCookies(tb, s) {
			if !c.Secure || c.SameSite != network.CookieSameSiteNone {
				tb.errorf("cookie %s: want Secure and SameSite=None, got %+v", c.Name, c)
			}
			if c.Name == wire.CookieName {
				session = c
			}
		}
		if session == nil {
			ev.mu.Lock()
			blocked := ev.blocked
			ev.mu.Unlock()
			tb.fatalf("the browser holds no %s cookie for %s; it refused %q", wire.CookieName, s.URL, blocked)
		}
		if !session.HTTPOnly || session.Domain != "127.0.0.1" {
			tb.errorf("the session cookie: want HttpOnly, for 127.0.0.1; got %+v", session)
		}

		// A second tab has no session of its own, nor a login token
		// (notoken): only the cookie, sent from the page of another site,
		// can log it in.
		b, _ := httpsTab(t, tb.ctx, "B")
		b.navigate(page)
		b.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")
		if o := b.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
			b.errorf("login({checkonly: true}) in a second tab, with the cookie only: want alice (101), got %s", o)
		}
	})

	t.Run("the browser's default settings", func(t *testing.T) {
		tb, ev := httpsTab(t, httpsBrowser(t, s, false), "A")
		loginAndFeed(tb, page)
		checkGivenCookies(tb, ev)
		checkSecureTraffic(tb, ev, s, page)
		ev.mu.Lock()
		t.Logf("cookies the browser did not store: %q", ev.blocked)
		ev.mu.Unlock()
		stored := false
		for _, c := range sessionCookies(tb, s) {
			if !c.Secure || c.SameSite != network.CookieSameSiteNone {
				tb.errorf("cookie %s: want Secure and SameSite=None, got %+v", c.Name, c)
			}
			stored = stored || c.Name == wire.CookieName
		}

		// The control of the test above: without the cookie, a second tab
		// is not logged in.
		b, _ := httpsTab(t, tb.ctx, "B")
		b.navigate(page)
		b.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")
		o := b.checkonly()
		switch {
		case stored && (o.State != "resolved" || !idIs(o.Props, 101)):
			b.errorf("the browser took the cookie, yet a second tab is not logged in by it: %s", o)
		case !stored:
			wantErrCode(b, "login({checkonly: true}) in a second tab, without the cookie", o, "rejected", "login_required")
		}
	})
}
