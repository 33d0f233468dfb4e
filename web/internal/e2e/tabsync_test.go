package e2e

import (
	"strings"
	"testing"
	"time"
)

// tabSyncJS records what a tab of the page hears (the change events, the
// client's debug steps, the storage events of the news) and what it posts
// on a BroadcastChannel.
const tabSyncJS = `
window.news = [];
window.addEventListener('storage', function (ev) { if (ev.key === 'pbxauth:tabs') news.push(ev.newValue); });
window.posted = [];
if (typeof BroadcastChannel === 'function') {
  var post = BroadcastChannel.prototype.postMessage;
  BroadcastChannel.prototype.postMessage = function (m) {
    if (m && m.pbxauth) posted.push(m);
    return post.apply(this, arguments);
  };
}
window.changes = [];
window.addEventListener('pbxauthchange', function (ev) { changes.push(ev.detail ? ev.detail.uname : null); });
window.dbg = [];
IPCortex.PBX.Auth.debug = function (m) { dbg.push(m); };
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.rec('check', function () { return IPCortex.PBX.Auth.login({checkonly: true}); });
`

// heardOtherTab reports whether the tab's client checked its login again
// because another tab said so.
func heardOtherTab(tb *tab) bool {
	return evalIn[bool](tb, "dbg.some(function (m) { return m.indexOf('another tab') >= 0; })")
}

// refuseLocalStorage makes the page's localStorage throw, as a browser that
// refuses storage does.
const refuseLocalStorage = `Object.defineProperty(window, 'localStorage', {configurable: true,
  get: function () { throw new DOMException('refused by the test', 'SecurityError'); }});`

// TestTabsFollowEachOther: tabs of one page origin follow a login and a
// logout made in another, without a feed and without polling, by the
// storage event (and, where localStorage is refused, the BroadcastChannel);
// each hears a pbxauthchange event; a tab of another origin is not told.
func TestTabsFollowEachOther(t *testing.T) {
	for _, mode := range []struct {
		name, head string
		channel    bool // the news goes over the BroadcastChannel
	}{
		{"storage event", "", false},
		{"BroadcastChannel where localStorage is refused", refuseLocalStorage, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			a := newSession(t, 2*testDeadline)
			b := a.newTab("B")
			other := a.newTab("other origin")
			page := env.pages.add("tabsync", vendorPage("tabsync", "/api/api.js", mode.head, tabSyncJS))
			a.navigate(page)
			b.navigate(page)
			other.navigate(strings.Replace(page, "127.0.0.1", "localhost", 1))
			for _, tb := range []*tab{a, b, other} {
				if o := tb.result("check"); o.State != "rejected" {
					tb.fatalf("a fresh profile: want logged out, got %s", o)
				}
			}

			start := time.Now()
			a.login("alice", "wonderland")
			b.waitFor("IPCortex.PBX.Auth.id === 101", "tab B to follow tab A's login")
			t.Logf("tab B followed the login %v after tab A's login() began", time.Since(start).Round(time.Millisecond))
			if got := evalIn[[]any](b, "changes"); len(got) != 1 || got[0] != "alice" {
				b.errorf("tab B's pbxauthchange events after the login elsewhere: want [alice], got %v", got)
			}

			start = time.Now()
			if o := a.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" {
				a.fatalf("logout(): %s", o)
			}
			b.waitFor("IPCortex.PBX.Auth.id === null && IPCortex.PBX.Auth.uname === null", "tab B to follow tab A's logout")
			t.Logf("tab B followed the logout %v after tab A's logout() began", time.Since(start).Round(time.Millisecond))
			if got := evalIn[[]any](b, "changes"); len(got) != 2 || got[1] != nil {
				b.errorf("tab B's pbxauthchange events after the logout elsewhere: want [alice, null], got %v", got)
			}
			posts, news := evalIn[[]any](a, "posted"), evalIn[[]any](b, "news")
			if mode.channel && (len(posts) != 2 || len(news) != 0) {
				a.errorf("where localStorage is refused: want tab A's two announcements on the BroadcastChannel, got %v (and %v by storage event)", posts, news)
			}
			if !mode.channel {
				if len(posts) != 0 || len(news) != 4 {
					a.errorf("want tab A's announcements as storage events (2 × written then removed), got %v (and %v on the BroadcastChannel)", news, posts)
				}
				if left := evalIn[bool](a, "localStorage.getItem('pbxauth:tabs') !== null"); left {
					a.errorf("localStorage keeps the news under pbxauth:tabs; want it removed once told")
				}
			}
			if !heardOtherTab(b) {
				b.errorf("tab B's debug log does not show that it heard tab A")
			}
			if o := b.checkonly(); o.State != "rejected" {
				b.errorf("the server agrees that tab B is logged out: want login_required, got %s", o)
			}

			// The tab of another origin was never told, of the login or the logout.
			if heardOtherTab(other) {
				other.errorf("a tab of another origin heard the page's tabs: %v", evalIn[[]string](other, "dbg"))
			}
			if got := evalIn[[]any](other, "changes"); len(got) != 0 {
				other.errorf("a tab of another origin got pbxauthchange events: %v", got)
			}
		})
	}
}
