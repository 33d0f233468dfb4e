package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// checkPage is a page that checks the login on load, as a returning
// visitor's page does.
func checkPage(name string) string {
	return addPage(name, `
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.rec('check', function () { return IPCortex.PBX.Auth.login({checkonly: true}); });
`)
}

// revisit is a new visit: the browser lost its cookies and the tab its
// sessionStorage; the origin's localStorage (the saved token) stays.
func (tb *tab) revisit() outcome {
	tb.t.Helper()
	tb.forgetSession()
	tb.navigate(checkPage("revisit"))
	return tb.result("check")
}

// TestTokenClasses: each class of token ends when the PBX's clock passes its
// limit; a refreshable one that is used in time lives on.
func TestTokenClasses(t *testing.T) {
	login := func(tb *tab, application string) {
		tb.navigate(checkPage("classes"))
		tb.result("check")
		o := tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({username: 'bob', password: 'builder', application: %q})", application), false)
		if o.State != "resolved" {
			tb.fatalf("login with application %q: %s", application, o)
		}
	}
	stillIn := func(tb *tab, what string) {
		tb.t.Helper()
		if o := tb.revisit(); o.State != "resolved" || !idIs(o.Props, 102) {
			tb.errorf("%s: want the saved token to log bob in, got %s", what, o)
		}
	}
	out := func(tb *tab, what string) {
		tb.t.Helper()
		if o := tb.revisit(); o.State != "rejected" || o.Code != "login_required" {
			tb.errorf("%s: want the token dead (login_required), got %s", what, o)
		}
	}
	day := 24 * time.Hour

	t.Run("none: 24 hours, used or not", func(t *testing.T) {
		tb := newSession(t, testDeadline)
		login(tb, "")
		advanceClock(tb, 23*time.Hour)
		stillIn(tb, "after 23 hours")
		advanceClock(tb, 2*time.Hour)
		out(tb, "after 25 hours, though used at 23")
	})
	t.Run("refreshable: alive while used daily", func(t *testing.T) {
		tb := newSession(t, testDeadline)
		login(tb, "refreshable")
		advanceClock(tb, 20*time.Hour)
		stillIn(tb, "used after 20 hours")
		advanceClock(tb, 20*time.Hour)
		stillIn(tb, "used 20 hours later (40 in all)")
		advanceClock(tb, day+time.Hour)
		out(tb, "after 25 hours unused")
	})
	t.Run("longLogin: alive while used weekly", func(t *testing.T) {
		tb := newSession(t, testDeadline)
		login(tb, "longLogin")
		advanceClock(tb, 6*day)
		stillIn(tb, "used after 6 days")
		advanceClock(tb, 8*day)
		out(tb, "after 8 days unused")
		tb.noSecretsLeaked("builder")
	})
}

// TestTokenOptions: nodom with tokenCB and tokens (and the vendor app's
// singular token), and notoken.
func TestTokenOptions(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(checkPage("nodom"))
	tb.result("check")
	o := tb.call(`window.seen = [];
return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland', nodom: true, application: 'longLogin',
  tokenCB: function (t) { window.seen.push(t); }})`, false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.fatalf("login with nodom and tokenCB: %s", o)
	}
	type seenTokens []map[string]float64
	seen := evalIn[seenTokens](tb, "window.seen")
	if len(seen) != 1 || len(seen[0]) != 1 {
		tb.fatalf("tokenCB: want one call with one token, got %v", seen)
	}
	var token string
	for k, exp := range seen[0] {
		token = k
		if exp < float64(time.Now().UnixMilli()) {
			tb.errorf("tokenCB: the expiry %v is not in the future (ms since the epoch)", exp)
		}
	}
	if n := evalIn[int](tb, "Object.keys(localStorage).filter(function (k) { return k.indexOf('token') >= 0; }).length"); n != 0 {
		tb.errorf("with nodom no token may be kept in localStorage, found %d", n)
	}

	for _, option := range []string{"tokens", "token"} {
		tb.forgetSession()
		tb.navigate(checkPage("nodom-" + option))
		tb.result("check")
		if o := tb.call("return IPCortex.PBX.Auth.login({nodom: true})", false); o.State != "rejected" || o.Code != "login_required" {
			tb.errorf("login({nodom: true}) with all cookies gone: want login_required, got %s", o)
		}
		o := tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({nodom: true, %s: ['no-such-token', %q]})", option, token), false)
		if o.State != "resolved" || !idIs(o.Props, 101) {
			tb.errorf("login({nodom: true, %s: [...]}) after all cookies were cleared: want alice (101), got %s", option, o)
		}
	}

	tb.call("return IPCortex.PBX.Auth.exit({logout: true})", false)
	o = tb.call("return IPCortex.PBX.Auth.login({username: 'bob', password: 'builder', notoken: true})", false)
	if o.State != "resolved" || !idIs(o.Props, 102) {
		tb.fatalf("login with notoken: %s", o)
	}
	if o := tb.revisit(); o.State != "rejected" {
		tb.errorf("after a notoken login, a new visit must not be logged in, got %s", o)
	}
	tb.noSecretsLeaked("wonderland", "builder")
}

// TestCrossSite: the page on localhost, the PBX on 127.0.0.1: two sites to
// the browser, which sends the PBX's cookie with none of the page's calls.
// The session and the token travel explicitly, so the login holds across
// calls and visits, and ends at logout.
func TestCrossSite(t *testing.T) {
	tb := newSession(t, testDeadline)
	onOtherSite := func(url string) string { return strings.Replace(url, "127.0.0.1", "localhost", 1) }
	tb.navigate(onOtherSite(checkPage("cross-site")))
	if o := tb.result("check"); o.State != "rejected" {
		tb.fatalf("a first visit: want logged out, got %s", o)
	}
	tb.login("alice", "wonderland")
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("login({checkonly: true}) right after the login, from another site: want alice, got %s", o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.setCompany('acme')", false); o.State != "resolved" || o.Props.Company != "acme" {
		tb.errorf("setCompany('acme') from another site: %s", o)
	}
	tb.navigate(onOtherSite(checkPage("cross-site-reload")))
	if o := tb.result("check"); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("a reload from another site: want a silent login as alice, got %s", o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.exit({logout: true})", false); o.State != "resolved" || o.Props.IDType != "null" {
		tb.errorf("exit({logout: true}) from another site: %s", o)
	}
	tb.navigate(onOtherSite(checkPage("cross-site-after")))
	if o := tb.result("check"); o.State != "rejected" || o.Code != "login_required" {
		tb.errorf("a reload after the logout: want still logged out, got %s", o)
	}
	tb.noSecretsLeaked("wonderland")
}

// TestTabsShareTheOriginsToken: without a sub-ID the tabs of one origin
// share the login and its token; a logout in one ends it in the other.
func TestTabsShareTheOriginsToken(t *testing.T) {
	a := newSession(t, testDeadline)
	b := a.newTab("B")
	page := strings.Replace(checkPage("share"), "127.0.0.1", "localhost", 1)
	a.navigate(page)
	a.result("check")
	a.login("bob", "builder")
	b.navigate(page)
	if o := b.result("check"); o.State != "resolved" || !idIs(o.Props, 102) {
		b.fatalf("tab B of the same origin: want bob through the shared token, got %s", o)
	}
	a.call("return IPCortex.PBX.Auth.logout()", false)
	if o := b.checkonly(); o.State != "rejected" {
		b.errorf("tab B after tab A logged out: want logged out, got %s", o)
	}
}

// TestExternalUser: the life of an external user, from creation through
// REST to its single use.
func TestExternalUser(t *testing.T) {
	tb := newSession(t, testDeadline)
	login := createExternal(tb, "Visitor")
	tb.navigate(checkPage("external"))
	tb.result("check")
	o := tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({username: %q, password: ' '})", login), false)
	wantBadOption(tb, "an external user with a blank dummy password", o, "rejected", false)
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({username: %q, password: 'dummy'})", login), false)
	if o.State != "resolved" || o.Props.Uname != login {
		tb.fatalf("an external user with a dummy password: %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.setCompany('default')", false)
	wantErrCode(tb, "setCompany as an external user", o, "rejected", "forbidden")
	if o := tb.call("return IPCortex.PBX.Auth.exit({logout: true})", false); o.State != "resolved" {
		tb.fatalf("logout of the external user: %s", o)
	}
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({username: %q, password: 'dummy'})", login), false)
	wantErrCode(tb, "an external user logging in a second time", o, "rejected", "auth_failed")
	tb.noSecretsLeaked("dummy")
}
