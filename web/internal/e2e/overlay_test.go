package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// overlayPage is a vendor page that logs in with the overlay on the line
// after the script tag, as the vendor's guide recommends.
func overlayPage(name, options string) string {
	return addPage(name, fmt.Sprintf(`
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.rec('login', function () { return IPCortex.PBX.Auth.login(%s); });
`, options))
}

// TestOverlay: a first visit shows the PBX's login page over the page; the
// user types a wrong password, then the right one; the second visit logs in
// with no prompt.
func TestOverlay(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(overlayPage("overlay", ""))
	w := tb.overlay(1)

	attrs := tb.dialogAttrs()
	if attrs == nil || attrs["aria-modal"] != "true" || attrs["aria-label"] == "" {
		tb.errorf("the overlay's dialog: want role=dialog, aria-modal=true and a label, got %v", attrs)
	}
	screenshot(tb, "overlay.png")
	// The hooks the README promises to WebDriver tests: the host element and
	// its iframe in the light DOM, which plain selectors and
	// switch-to-frame reach in every engine.
	hooks := "(function () { var f = document.querySelector('iframe[name=\"pbxauth-login\"][data-pbxauth-frame]');" +
		" return !!f && f.parentElement === document.querySelector('body > pbxauth-login[data-pbxauth-overlay]')" +
		" && window.frames['pbxauth-login'] === f.contentWindow && f.src.indexOf('/api/login.html') > 0; })()"
	if !evalIn[bool](tb, hooks) {
		tb.errorf("the overlay's hooks: want <pbxauth-login data-pbxauth-overlay> in body with its iframe[name=pbxauth-login][data-pbxauth-frame] as a light-DOM child")
	}
	focusInOverlay := "document.activeElement && (document.activeElement.tagName === 'PBXAUTH-LOGIN' || document.activeElement.name === 'pbxauth-login')"
	if !evalIn[bool](tb, focusInOverlay) {
		tb.errorf("focus must move into the overlay; it is on %s", evalIn[string](tb, "document.activeElement && document.activeElement.tagName"))
	}
	for i := 0; i < 6; i++ {
		if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			tb.fatalf("pressing Tab: %v", err)
		}
		if !evalIn[bool](tb, focusInOverlay) {
			tb.errorf("Tab #%d moved focus out of the overlay, to %s", i+1, evalIn[string](tb, "document.activeElement && document.activeElement.tagName"))
			break
		}
	}
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(360, 640)); err != nil {
		tb.fatalf("a phone-sized viewport: %v", err)
	}
	screenshot(tb, "overlay-phone.png")
	if !w.try("document.querySelector('input[autocomplete=current-password]').getBoundingClientRect().right <= window.innerWidth") {
		tb.errorf("on a 360 px wide viewport the password field does not fit the overlay")
	}
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		tb.fatalf("back to the desktop viewport: %v", err)
	}

	w.typeLogin("alice", "not-her-password")
	deadline := time.Now().Add(waitDeadline)
	for !w.try("/wrong/i.test(document.body.textContent)") {
		if time.Now().After(deadline) {
			tb.fatalf("the overlay did not say the password was wrong; its text: %q", frameEval[string](w, "document.body.textContent"))
		}
		time.Sleep(pollInterval)
	}
	if o := evalIn[outcome](tb, "T.results.login"); o.State != "pending" {
		tb.fatalf("after one wrong password the login must wait for the user's retry, got %s", o)
	}
	w.typeLogin("alice", "wonderland")
	if o := tb.result("login"); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.fatalf("login() through the overlay: want resolved as alice (101), got %s", o)
	}
	if tb.overlayShown() {
		tb.errorf("the overlay is still on the page after the login")
	}
	tb.noSecretsLeaked("wonderland", "not-her-password")

	// The second visit: a saved token, no prompt (login() would wait forever).
	tb.forgetSession()
	tb.navigate(overlayPage("overlay-again", ""))
	if o := tb.result("login"); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.fatalf("login() on the second visit: want resolved as alice (101) without the overlay, got %s", o)
	}
	if tb.overlayShown() {
		tb.errorf("the overlay was shown on the second visit")
	}
}

// TestOverlayCloses: the close button, Escape in the login page, Escape on
// the page, and a click outside each reject with popup_closed.
func TestOverlayCloses(t *testing.T) {
	tb := newSession(t, testDeadline)
	closeBy := map[string]func(w frameWorld){
		"the close button": func(w frameWorld) {
			frameEval[bool](w, "document.querySelector('button[aria-label=Close]').click(), true")
		},
		"Escape in the login page": func(w frameWorld) {
			frameEval[bool](w, "document.querySelector('input[autocomplete=username]').focus(), true")
			if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
				tb.fatalf("pressing Escape: %v", err)
			}
		},
		"Escape on the page": func(frameWorld) {
			evalIn[bool](tb, "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})), true")
		},
		"a click outside": func(frameWorld) {
			if err := chromedp.Do(tb.ctx, chromedp.MouseClickXY(3, 3)); err != nil {
				tb.fatalf("clicking outside: %v", err)
			}
		},
	}
	for how, close := range closeBy {
		t.Run(how, func(t *testing.T) {
			tb := tb.on(t)
			tb.navigate(addPage("overlay-close", `
IPCortex.PBX.Auth.setHost('{{PBX}}');
var before = document.createElement('button');
before.id = 'before';
before.textContent = 'focus was here';
document.body.appendChild(before);
before.focus();
T.rec('login', function () { return IPCortex.PBX.Auth.login(); });
`))
			close(tb.overlay(1))
			o := tb.result("login")
			wantErrCode(tb, "login() closed by "+how, o, "rejected", "popup_closed")
			if o.Props.IDType != "null" || tb.overlayShown() {
				tb.errorf("after closing: want logged out and no overlay, got %s (overlay shown: %t)", o, tb.overlayShown())
			}
			if id := evalIn[string](tb, "document.activeElement && document.activeElement.id"); id != "before" {
				tb.errorf("focus must return where it was (#before), it is on %q", id)
			}
		})
	}
}

// TestOverlayIgnoresForgedMessages: a result posted by the page itself, by
// a frame of another origin, or by another login page of the PBX (not the
// overlay's) changes nothing.
func TestOverlayIgnoresForgedMessages(t *testing.T) {
	tb := newSession(t, testDeadline)
	other := strings.Replace(env.pages.URL, "127.0.0.1", "localhost", 1)
	forger := env.pages.addFile("forger.html", `<!doctype html><script>
parent.postMessage({pbxauth: 'result', session: 'forged-by-another-origin'}, '*');
</script>`, map[string]string{"Content-Type": "text/html"})
	tb.navigate(overlayPage("overlay-forged", ""))
	tb.overlay(1)

	evalIn[bool](tb, fill(fmt.Sprintf(`(function () {
  window.postMessage({pbxauth: 'result', session: 'forged-by-the-page'}, '*');
  var f = document.createElement('iframe');
  f.src = %q;
  document.body.appendChild(f);
  // A second login page of the PBX, which this page answers itself.
  var g = document.createElement('iframe');
  g.src = '{{PBX}}/api/login.html#parent=' + encodeURIComponent(location.origin);
  window.forged = {};
  window.addEventListener('message', function (ev) {
    var kind = ev.data && ev.data.pbxauth;
    if (ev.source === g.contentWindow && kind === 'ready') {
      g.contentWindow.postMessage({pbxauth: 'options', subid: '', notoken: true, application: '', origin: ''}, '{{PBX}}');
    }
    if (kind === 'result') window.forged[ev.source === g.contentWindow ? 'login page' : ev.source === f.contentWindow ? 'other origin' : 'page'] = true;
  });
  document.body.appendChild(g);
  return true;
})()`, strings.Replace(forger, env.pages.URL, other, 1))))
	second := tb.overlay(2)
	second.typeLogin("bob", "builder")
	tb.waitFor("forged['login page'] && forged['other origin'] && forged.page", "every forged result to reach the page")
	time.Sleep(200 * time.Millisecond) // and the module, which listens on the same window

	if o := evalIn[outcome](tb, "T.results.login"); o.State != "pending" {
		tb.fatalf("after forged results: want the overlay's login still waiting, got %s", o)
	}
	if p := evalIn[props](tb, "T.props()"); p.IDType != "null" {
		tb.fatalf("after forged results: want no user, got %+v", p)
	}
	evalIn[bool](tb, "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})), true")
	o := tb.result("login")
	wantErrCode(tb, "login() closed after the forgeries", o, "rejected", "popup_closed")
	if o.Props.IDType != "null" {
		tb.errorf("no forged message may log the page in, got %s", o)
	}
}

// TestOverlayThreeWrongPasswords: the overlay's own retries end in
// auth_failed.
func TestOverlayThreeWrongPasswords(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(overlayPage("overlay-fail", ""))
	w := tb.overlay(1)
	for i := 0; i < 3 && evalIn[outcome](tb, "T.results.login").State == "pending"; i++ {
		w.typeLogin("alice", fmt.Sprintf("wrong-%d", i))
		tb.poll("T.results.login.state !== 'pending'", 2*time.Second) // the last one ends it
	}
	o := tb.result("login")
	wantErrCode(tb, "login() after three wrong passwords", o, "rejected", "auth_failed")
	tb.noSecretsLeaked("wrong-0", "wrong-1", "wrong-2")
}

// TestOverlayUnderStrictCSP: a page whose Content-Security-Policy allows
// scripts only from itself and the PBX, no inline script or style, and
// frames only from the PBX, still logs in through the overlay.
func TestOverlayUnderStrictCSP(t *testing.T) {
	tb := newSession(t, testDeadline)
	script := env.pages.addFile("csp.js", fill(`
window.result = 'pending';
IPCortex.PBX.Auth.setHost('{{PBX}}');
IPCortex.PBX.Auth.login().then(function () { window.result = 'id ' + IPCortex.PBX.Auth.id; },
  function (e) { window.result = 'rejected ' + e.code; });
`), map[string]string{"Content-Type": "text/javascript"})
	csp := fmt.Sprintf("default-src 'none'; script-src 'self' %s 'wasm-unsafe-eval'; connect-src %s; frame-src %s; style-src 'self'", env.pbx, env.pbx, env.pbx)
	url := env.pages.addFile("csp.html", fmt.Sprintf(`<!doctype html><html><head><meta charset="utf-8"><title>strict CSP</title></head>
<body><h1>strict CSP</h1><script src="%s/api/api.js"></script><script src="%s"></script></body></html>`, env.pbx, script),
		map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp})
	tb.navigate(url)
	w := tb.overlay(1)
	w.typeLogin("carol", "carolpass")
	tb.waitFor("window.result !== 'pending'", "the login under a strict CSP")
	if got := evalIn[string](tb, "window.result"); got != "id 103" {
		tb.fatalf("login() under a strict CSP: want id 103, got %q", got)
	}
	tb.noSecretsLeaked("carolpass")
}

// TestOverlayFromAnotherSite: the usual case, a page on another site than
// the PBX (localhost against 127.0.0.1), whose overlay is a cross-site frame
// that gets no cookies at all.
func TestOverlayFromAnotherSite(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(strings.Replace(overlayPage("overlay-cross-site", ""), "127.0.0.1", "localhost", 1))
	tb.overlay(1).typeLogin("bob", "builder")
	if o := tb.result("login"); o.State != "resolved" || !idIs(o.Props, 102) {
		tb.fatalf("login() through the overlay from another site: want bob (102), got %s", o)
	}
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 102) {
		tb.errorf("the next call from another site: want still bob, got %s", o)
	}
	tb.noSecretsLeaked("builder")
}

// TestNoCallWaitsBehindTheOverlay: while the overlay waits for the user, a
// check answers at once (nobody is logged in yet) and leaves the overlay up;
// a logout closes it (its login rejects with popup_closed) and then runs.
func TestNoCallWaitsBehindTheOverlay(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(overlayPage("overlay-calls", ""))
	tb.overlay(1)

	evalIn[bool](tb, "T.rec('check', function () { return IPCortex.PBX.Auth.login({checkonly: true}); }), true")
	wantErrCode(tb, "login({checkonly: true}) while the overlay waits", tb.result("check"), "rejected", "login_required")
	if !tb.overlayShown() {
		tb.fatalf("a check must leave the overlay up")
	}
	if o := evalIn[outcome](tb, "T.results.login"); o.State != "pending" {
		tb.fatalf("the overlay's login() must still wait for the user, got %s", o)
	}

	evalIn[bool](tb, "T.rec('logout', function () { return IPCortex.PBX.Auth.logout(); }), true")
	wantErrCode(tb, "the overlay's login() ended by logout()", tb.result("login"), "rejected", "popup_closed")
	if o := tb.result("logout"); o.State != "resolved" || o.Props.IDType != "null" {
		tb.errorf("logout() after closing the overlay: want resolved and logged out, got %s", o)
	}
	tb.waitFor("!document.querySelector('pbxauth-login')", "the overlay to close")
}

// TestAnOverlayFollowsALoginInAnotherTab: two tabs of a page each show the
// overlay; the user logs in through one, and the other's overlay closes
// and its login() settles as the same user, with nobody typing there.
func TestAnOverlayFollowsALoginInAnotherTab(t *testing.T) {
	a := newSession(t, testDeadline)
	b := a.newTab("B")
	page := overlayPage("overlay-two-tabs", "")
	b.navigate(page)
	b.overlay(1)
	a.navigate(page)
	a.overlay(1).typeLogin("alice", "wonderland")
	if o := a.result("login"); o.State != "resolved" || !idIs(o.Props, 101) {
		a.fatalf("login() through tab A's overlay: want alice (101), got %s", o)
	}
	if o := b.result("login"); o.State != "resolved" || !idIs(o.Props, 101) {
		b.fatalf("tab B's overlay login() after tab A's login: want alice (101), got %s", o)
	}
	b.waitFor("!document.querySelector('pbxauth-login')", "tab B's overlay to close")
}
