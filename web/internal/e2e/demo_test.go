package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// updateDemoPNG makes TestDemoScreenshot write the README's screenshot,
// docs/demo.png, besides out/screenshots:
//
//	go test -count=1 -run DemoScreenshot ./web/internal/e2e/ -update-demo-png
var updateDemoPNG = flag.Bool("update-demo-png", false, "write docs/demo.png (the README's screenshot of the demo page)")

// demoIDs are the controls and outputs of the demo page that the tests (and
// users' own browser tests) rely on.
var demoIDs = []string{
	"status", "prop-id", "prop-uname", "prop-name", "prop-company", "userinfo", "changes",
	"username", "password", "remember", "login", "overlay", "check", "logout", "reload", "login-result",
	"system-ipcortex", "system-vodia", "system-ping", "system-result",
	"vodia-admin", "vodia-admin-password", "vodia-extension", "vodia-domain", "vodia-login",
	"ping-extension", "ping-password", "ping-login", "ping-jwt", "ping-jwt-login",
	"feed-start", "feed-stop", "feed-state", "feed-events",
	"second-tab", "subid-button", "subid", "debug-log", "debug-clear",
}

// demo drives the demo page in one tab.
type demo struct{ *tab }

// openDemo loads the demo page in tb and waits until its first check of the
// login has ended.
func openDemo(tb *tab) demo {
	tb.t.Helper()
	tb.navigate(env.pbx + "/")
	d := demo{tb}
	d.ready()
	return d
}

// ready waits for the page (also one being loaded again) to have every
// element and its first check done, ignoring the errors of a page that is
// still going away.
func (d demo) ready() {
	d.t.Helper()
	ids, _ := json.Marshal(demoIDs)
	d.waitAcross(string(ids)+".every(function (id) { return document.getElementById(id); }) && "+
		"document.getElementById('status').textContent !== 'Checking…'", "the demo page to load and check its login")
}

// waitAcross polls expr until it is true, also across a navigation, when an
// evaluation may fail because the document it ran in has gone.
func (d demo) waitAcross(expr, what string) {
	d.t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for {
		if err := d.poll(expr, time.Second); err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.fatalf("waiting for %s (%s): not true within %s; the page says %q, %q", what, expr, waitDeadline,
				d.textOr("status"), d.textOr("login-result"))
		}
	}
}

// text returns an element's trimmed textContent.
func (d demo) text(id string) string {
	d.t.Helper()
	return strings.TrimSpace(evalIn[string](d.tab, "document.getElementById("+jsString(id)+").textContent"))
}

// textOr is text for failure messages: "" when the page cannot answer.
func (d demo) textOr(id string) string {
	v, err := chromedp.Run(d.ctx, chromedp.Evaluate[string]("(document.getElementById("+jsString(id)+") || {}).textContent || ''"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(v)
}

// click clicks a control the way its own handler sees a click. Script, not
// the mouse: once, on a loaded machine, a mouse click was lost (the page
// never saw it), and what is tested here is the page, not Chromium's
// hit-testing. The keyboard test uses real keys.
func (d demo) click(id string) {
	d.t.Helper()
	if !evalIn[bool](d.tab, "(function (e) { if (!e) return false; e.click(); return true; })(document.getElementById("+jsString(id)+"))") {
		d.fatalf("the demo page has no #%s to click", id)
	}
}

// typeInto clears a field and types into it with key events.
func (d demo) typeInto(id, s string) {
	d.t.Helper()
	evalIn[any](d.tab, "document.getElementById("+jsString(id)+").value = '', null")
	if err := chromedp.Do(d.ctx, chromedp.SendKeys(chromedp.CSS("#"+id), s)); err != nil {
		d.fatalf("typing into #%s: %v", id, err)
	}
}

// waitText waits until the element's text contains want.
func (d demo) waitText(id, want string) {
	d.t.Helper()
	expr := "document.getElementById(" + jsString(id) + ").textContent.indexOf(" + jsString(want) + ") >= 0"
	if err := d.poll(expr, waitDeadline); err != nil {
		d.fatalf("#%s: want it to contain %q, got %q (%v); #status %q, #login-result %q, #system-result %q", id, want,
			d.textOr(id), err, d.textOr("status"), d.textOr("login-result"), d.textOr("system-result"))
	}
}

// wantProps checks the properties the page shows.
func (d demo) wantProps(id, uname, name, company string) {
	d.t.Helper()
	d.waitText("prop-id", id)
	got := []string{d.text("prop-id"), d.text("prop-uname"), d.text("prop-name"), d.text("prop-company")}
	if want := []string{id, uname, name, company}; strings.Join(got, "|") != strings.Join(want, "|") {
		d.errorf("the page's properties: want %q, got %q", want, got)
	}
}

// loggedOut waits for the page to show nobody logged in.
func (d demo) loggedOut() {
	d.t.Helper()
	d.waitText("status", "Logged out")
	d.wantProps("null", "null", "null", "null")
	var info map[string]any
	if err := json.Unmarshal([]byte(d.text("userinfo")), &info); err != nil || info["id"] != nil || info["login"] != nil {
		d.errorf("getUserInfo() once logged out: want its nulls, got %q (%v)", d.text("userinfo"), err)
	}
}

// formLogin fills the login form from a demo user's button and submits it,
// with Remember me as asked.
func (d demo) formLogin(user string, remember bool) {
	d.t.Helper()
	d.click("user-" + user)
	if evalIn[bool](d.tab, "document.getElementById('remember').checked") != remember {
		d.click("remember")
	}
	d.click("login")
}

// reload clicks Reload and waits for the new page to have checked its login.
func (d demo) reload() {
	d.t.Helper()
	evalIn[any](d.tab, "window.demoOldPage = true, null")
	d.click("reload")
	d.waitAcross("!window.demoOldPage && document.readyState === 'complete'", "the page to load again")
	d.ready()
}

// noCSPViolations checks that the page ran under its Content-Security-Policy
// without one refusal.
func (d demo) noCSPViolations() {
	d.t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.console {
		if strings.Contains(l, "Content Security Policy") || strings.Contains(l, "Refused to") {
			d.t.Errorf("tab %s: the page broke its Content-Security-Policy: %s", d.name, l)
		}
	}
}

// TestDemoPage drives every control of the demo page the PBX serves at "/":
// a form login with and without Remember me, a reload that stays logged in
// only with it, check, logout, the overlay, the live feed, a second tab's
// logout followed live, the three phone systems, the debug log, and the
// sub-ID.
func TestDemoPage(t *testing.T) {
	tb := newSession(t, 3*testDeadline)
	d := openDemo(tb)
	d.loggedOut()
	d.waitText("login-result", "Not logged in")

	// Without Remember me: logged in, but no token, so a browser that has lost
	// its session (cookies and this tab's storage) is logged out after a reload.
	d.formLogin("alice", false)
	d.waitText("status", "Logged in as Alice Example (alice, id 101) on IPCortex")
	d.wantProps("101", "alice", "Alice Example", "default")
	d.waitText("login-result", "no token kept")
	if v := evalIn[string](tb, "document.getElementById('password').value"); v != "" {
		d.errorf("the password stays in the form after the login: %q", v)
	}
	var info map[string]any
	if err := json.Unmarshal([]byte(d.text("userinfo")), &info); err != nil || info["login"] != "alice" || info["perms"] == nil {
		d.errorf("getUserInfo(): want alice's with perms, got %q (%v)", d.text("userinfo"), err)
	}
	d.waitText("changes", "alice")
	tb.forgetSession()
	d.reload()
	d.loggedOut()

	// With Remember me: the token brings the login back.
	d.formLogin("alice", true)
	d.waitText("login-result", "a token kept")
	d.waitText("status", "Logged in as Alice Example")
	tb.forgetSession()
	d.reload()
	d.waitText("status", "Logged in as Alice Example (alice, id 101)")
	d.waitText("login-result", "a saved login was found")

	d.click("check")
	d.waitText("login-result", "Still logged in as alice")
	d.click("feed-start")
	d.waitText("feed-state", "up")
	d.click("logout") // which stops the feed too
	d.loggedOut()
	d.waitText("login-result", "Logged out")
	d.waitText("feed-state", "stopped")
	d.waitText("feed-events", "logout() stops it")
	d.click("check")
	d.waitText("login-result", "Not logged in")
	d.waitText("changes", "logged out")

	// The overlay: the PBX's own page, filled in as a person would.
	d.click("overlay")
	tb.overlay(1).typeLogin("bob", "builder")
	d.waitText("status", "Logged in as Bob Builder (bob, id 102)")
	d.wantProps("102", "bob", "Bob Builder", "default")
	if tb.overlayShown() {
		d.errorf("the overlay is still shown after its login")
	}

	// The live feed: up, stopped, up again.
	d.click("feed-start")
	d.waitText("feed-state", "up")
	d.waitText("feed-events", "up")
	d.click("feed-stop")
	d.waitText("feed-state", "stopped")
	d.click("feed-start")
	d.waitText("feed-state", "up")

	// A second tab, opened by the page's link, logs out: this tab follows,
	// with its properties emptied and the feed's error 2.
	newTarget := chromedp.WaitNewTarget(tb.ctx, func(info *target.Info) bool { return strings.HasPrefix(info.URL, env.pbx) })
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS("#second-tab"))); err != nil {
		d.fatalf("clicking the second tab's link: %v", err)
	}
	var second demo
	select {
	case id := <-newTarget:
		second = demo{openTab(t, tb.ctx, "second", chromedp.WithTargetID(id))}
	case <-time.After(waitDeadline):
		d.fatalf("the link #second-tab opened no tab within %s", waitDeadline)
	}
	second.ready()
	second.waitText("status", "Logged in as Bob Builder")
	second.click("logout")
	second.loggedOut()
	d.loggedOut()
	d.waitText("feed-events", "error 2")
	d.waitText("feed-state", "error 2")
	d.waitText("changes", "logged out")
	second.noCSPViolations()

	// The three phone systems, each logging in against the local PBX.
	d.click("system-vodia")
	d.waitText("system-result", "Vodia: not logged in yet")
	if evalIn[bool](tb, "document.getElementById('panel-vodia').hidden || !document.getElementById('panel-ipcortex').hidden") {
		d.errorf("with Vodia chosen, its panel must show and IPCortex's hide")
	}
	d.click("vodia-login")
	d.waitText("system-result", "Vodia: logged in as 40")
	d.waitText("status", "(40, id 40) on Vodia")
	d.wantProps("40", "40", "Alice Example", "default")
	d.click("check")
	d.waitText("login-result", "Still logged in as 40")
	d.click("logout")
	d.loggedOut()

	d.click("system-ping")
	d.waitText("system-result", "Ping: not logged in yet")
	d.typeInto("ping-extension", "41")
	d.typeInto("ping-password", "builder")
	d.click("ping-login")
	d.waitText("system-result", "Ping: logged in as 41 (Bob Builder)")
	d.wantProps("41", "41", "Bob Builder", "default")
	d.click("feed-start") // what Ping cannot do is bad_option, which the page shows
	d.waitText("feed-events", "bad_option")
	d.waitText("feed-state", "not started (bad_option)")
	d.click("logout")
	d.loggedOut()
	d.typeInto("ping-jwt", mintPingToken(tb, "carol"))
	d.click("ping-jwt-login")
	d.waitText("system-result", "Ping: logged in as 42 (Carol Acme) with the JWT")
	d.wantProps("42", "42", "Carol Acme", "acme")
	d.click("logout")
	d.loggedOut()

	d.click("system-ipcortex")
	d.waitText("system-result", "IPCortex: not logged in yet")
	d.formLogin("carol", true)
	d.waitText("status", "Logged in as Carol Acme (carol, id 103) on IPCortex")

	// The debug log shows the steps; Clear empties it, and the next call
	// writes again.
	d.waitText("debug-log", "POST /rest/auth/")
	d.waitText("debug-log", "ping")
	d.waitText("debug-log", "vodia")
	d.click("debug-clear")
	if n := evalIn[int](tb, "document.getElementById('debug-log').children.length"); n != 0 {
		d.errorf("the debug log after Clear: %d lines", n)
	}
	d.click("check")
	d.waitText("debug-log", "check only")

	// The sub-ID: this tab now logs in on its own, and is not logged in yet.
	d.click("subid-button")
	stored := "sessionStorage.getItem('IPCortex.PBX.Auth.subid')"
	if err := tb.poll(stored+" && document.getElementById('subid').textContent === "+stored, waitDeadline); err != nil {
		d.errorf("#subid: want the tab's sub-ID %q, got %q", evalIn[string](tb, "String("+stored+")"), d.text("subid"))
	}
	d.waitText("login-result", "This tab now logs in on its own")
	d.loggedOut()

	d.noCSPViolations()
	tb.noSecretsLeaked("wonderland", "builder", "carolpass", "vodia-demo")
	screenshot(tb, "demo-end.png")
}

// TestDemoKeyboard: the demo page's main controls are reached with Tab in
// the order they are read, each shows where the focus is, and a form
// login, a logout and the choice of phone system work by keys only.
func TestDemoKeyboard(t *testing.T) {
	tb := newSession(t, testDeadline)
	d := openDemo(tb)
	d.loggedOut()

	const focused = "(function (e) { return e ? (e.id || e.tagName.toLowerCase()) : ''; })(document.activeElement)"
	const outline = "(function (e) { var s = getComputedStyle(e); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; })(document.activeElement)"
	want := []string{"username", "password", "remember", "login", "user-alice", "overlay", "check", "logout", "reload",
		"system-ipcortex", "feed-start", "feed-stop", "second-tab", "subid-button", "debug-clear"}
	var order []string
	var noOutline []string
	for i := 0; i < 60 && len(order) < 200; i++ {
		key(d, kb.Tab)
		id := evalIn[string](tb, focused)
		order = append(order, id)
		if !evalIn[bool](tb, outline) {
			noOutline = append(noOutline, id)
		}
		if id == "debug-clear" {
			break
		}
	}
	if !subsequence(want, order) {
		d.errorf("Tab from the top of the page: want the controls %v in this order, got %v", want, order)
	}
	if len(noOutline) > 0 {
		d.errorf("these elements show no focus outline when reached with Tab: %v", noOutline)
	}

	// A form login by keys only: Tab to the username, type, Tab, type, Enter.
	d.reload()
	focusByTab(d, "username")
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("alice"), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent("wonderland"), chromedp.KeyEvent(kb.Enter)); err != nil {
		d.fatalf("typing a login: %v", err)
	}
	d.waitText("status", "Logged in as Alice Example (alice, id 101)")
	focusByTab(d, "logout")
	key(d, kb.Enter)
	d.loggedOut()

	// The phone systems are one radio group: arrows move the choice.
	focusByTab(d, "system-ipcortex")
	key(d, kb.ArrowRight)
	d.waitText("system-result", "Vodia")
	if !evalIn[bool](tb, "document.getElementById('system-vodia').checked && !document.getElementById('panel-vodia').hidden") {
		d.errorf("ArrowRight on IPCortex: want Vodia chosen and its panel shown")
	}
	key(d, kb.ArrowLeft)
	d.waitText("system-result", "IPCortex")
	d.noCSPViolations()
}

// key presses one key in the tab.
func key(d demo, k string) {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, chromedp.KeyEvent(k)); err != nil {
		d.fatalf("pressing %q: %v", k, err)
	}
}

// focusByTab presses Tab until the element id has the focus.
func focusByTab(d demo, id string) {
	d.t.Helper()
	var seen []string
	for i := 0; i < 80; i++ {
		if evalIn[string](d.tab, "document.activeElement ? document.activeElement.id : ''") == id {
			return
		}
		key(d, kb.Tab)
		seen = append(seen, evalIn[string](d.tab, "document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ''"))
	}
	d.fatalf("Tab never reached #%s; it went through %v", id, seen)
}

// subsequence reports whether want appears in got in order.
func subsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestDemoNarrow: on a phone-sized screen (360 px wide) nothing scrolls
// sideways, whatever the page shows: logged in, the feed's events, each
// phone system's panel, a long sub-ID and debug lines.
func TestDemoNarrow(t *testing.T) {
	tb := newSession(t, testDeadline)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		tb.fatalf("a phone-sized viewport: %v", err)
	}
	d := openDemo(tb)
	overflow := func(state string) {
		t.Helper()
		const wide = `(function () {
  var w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push('the page is ' + document.documentElement.scrollWidth + ' px wide');
  Array.prototype.forEach.call(document.querySelectorAll('body *'), function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) out.push((e.id || e.tagName.toLowerCase()) + ' spans ' + Math.round(r.left) + ' to ' + Math.round(r.right));
  });
  return out.slice(0, 10);
})()`
		if got := evalIn[[]string](tb, wide); len(got) > 0 {
			d.errorf("360 px wide, %s: want nothing wider than the screen, got %v", state, got)
		}
	}
	overflow("logged out")
	d.formLogin("alice", true)
	d.waitText("status", "Logged in as Alice Example")
	d.click("feed-start")
	d.waitText("feed-state", "up")
	d.click("subid-button")
	d.waitText("login-result", "This tab now logs in on its own")
	overflow("with the feed up and a sub-ID")
	screenshot(tb, "demo-360.png")
	for _, s := range []string{"vodia", "ping", "ipcortex"} {
		d.click("system-" + s)
		d.waitText("system-result", "not logged in yet")
		overflow("with the " + s + " panel")
	}
	d.noCSPViolations()
}

// TestDemoScreenshot takes the README's picture of the demo page at a
// desktop size: logged in, the feed up, the debug log running. With
// -update-demo-png it is written to docs/demo.png as well.
func TestDemoScreenshot(t *testing.T) {
	tb := newSession(t, testDeadline)
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		tb.fatalf("a desktop viewport: %v", err)
	}
	d := openDemo(tb)
	d.formLogin("alice", true)
	d.waitText("status", "Logged in as Alice Example")
	d.click("feed-start")
	d.waitText("feed-state", "up")
	d.click("check")
	d.waitText("login-result", "Still logged in")
	evalIn[any](tb, "document.activeElement && document.activeElement.blur(), null")

	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		tb.fatalf("the screenshot is not a PNG: %v", err)
	}
	var small bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&small, paletted(img)); err != nil {
		tb.fatalf("encoding the screenshot: %v", err)
	}
	t.Logf("screenshot %dx%d, %d bytes (%d as Chromium made it)", img.Bounds().Dx(), img.Bounds().Dy(), small.Len(), len(buf))
	paths := []string{filepath.Join(env.root, "out", "screenshots", "demo.png")}
	if *updateDemoPNG {
		paths = append(paths, filepath.Join(env.root, "docs", "demo.png"))
	}
	for _, p := range paths {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.fatalf("%v", err)
		}
		if err := os.WriteFile(p, small.Bytes(), 0o644); err != nil {
			tb.fatalf("%v", err)
		}
		t.Logf("saved %s", p)
	}
	d.noCSPViolations()
}

// paletted returns img with its 256 most frequent colours, each pixel in
// the nearest of them: a page is mostly flat colours, and its anti-aliased
// edges lose nothing a reader sees, while the PNG shrinks to a third.
func paletted(img image.Image) *image.Paletted {
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(count))
	for c := range count {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if count[colors[i]] != count[colors[j]] {
			return count[colors[i]] > count[colors[j]]
		}
		return colorKey(colors[i]) < colorKey(colors[j])
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(256, len(colors))] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}

func colorKey(c color.RGBA) uint32 {
	return uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshot saves the tab's viewport as out/screenshots/name.
func screenshot(tb *tab, name string) {
	tb.t.Helper()
	buf, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.errorf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(env.root, "out", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.errorf("screenshot %s: %v", name, err)
		return
	}
	tb.t.Logf("saved %s", path)
}
