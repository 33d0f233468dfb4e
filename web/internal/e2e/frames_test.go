package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Helpers for the login overlay (an iframe of the PBX's /api/login.html in
// its host element, slotted into a closed shadow root), the PBX's test
// clock, and secrets in the page.

// loginFrames returns the ids of the frames that show the PBX's login page.
func (tb *tab) loginFrames() []cdp.FrameID {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		tb.fatalf("reading the frame tree: %v", err)
	}
	var out []cdp.FrameID
	var walk func(ft *page.FrameTree)
	walk = func(ft *page.FrameTree) {
		if ft == nil {
			return
		}
		if ft.Frame != nil && strings.HasPrefix(ft.Frame.URL, env.pbx+"/api/login.html") {
			out = append(out, ft.Frame.ID)
		}
		for _, c := range ft.ChildFrames {
			walk(c)
		}
	}
	walk(res.FrameTree)
	return out
}

// frameWorld is a place to run script in a login frame: an isolated world,
// which shares the frame's DOM but none of its script, for a frame of the
// page's own process (same site); the frame's own target for a cross-site
// frame, which Chromium runs in a process of its own.
type frameWorld struct {
	tb  *tab
	ctx context.Context
	id  runtime.ExecutionContextID // 0: ctx is the frame's own target
}

func (w frameWorld) evalOpts() []chromedp.EvaluateOption {
	if w.id == 0 {
		return nil
	}
	return []chromedp.EvaluateOption{func(p *runtime.EvaluateParams) { p.ContextID = w.id }}
}

// crossSiteLoginFrames returns contexts on the login frames that run as
// targets of their own.
func (tb *tab) crossSiteLoginFrames() []context.Context {
	infos, err := chromedp.Targets(tb.ctx)
	if err != nil {
		return nil
	}
	var out []context.Context
	for _, in := range infos {
		if in.Type == "iframe" && strings.HasPrefix(in.URL, env.pbx+"/api/login.html") {
			ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(in.TargetID))
			tb.t.Cleanup(cancel)
			out = append(out, ctx)
		}
	}
	return out
}

// overlay waits for the n-th login frame (counted from 1) to show its form,
// and returns a world in it.
func (tb *tab) overlay(n int) frameWorld {
	tb.t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for {
		const ready = "!!document.querySelector('input[autocomplete=current-password]') && !document.querySelector('#submit').disabled"
		if frames := tb.loginFrames(); len(frames) >= n {
			res, err := chromedp.Call(tb.ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frames[n-1], WorldName: "e2e"})
			if err == nil {
				w := frameWorld{tb: tb, ctx: tb.ctx, id: res.ExecutionContextID}
				if w.try(ready) {
					return w
				}
			}
		}
		if frames := tb.crossSiteLoginFrames(); len(frames) >= n {
			if w := (frameWorld{tb: tb, ctx: frames[n-1]}); w.try(ready) {
				return w
			}
		}
		if time.Now().After(deadline) {
			tb.fatalf("the login overlay did not show its form within %s", waitDeadline)
		}
		time.Sleep(pollInterval)
	}
}

func (w frameWorld) try(js string) bool {
	v, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](js, w.evalOpts()...))
	return err == nil && v
}

// eval runs js in the login frame.
func frameEval[T any](w frameWorld, js string) T {
	w.tb.t.Helper()
	v, err := chromedp.Run(w.ctx, chromedp.Evaluate[T](js, w.evalOpts()...))
	if err != nil {
		w.tb.fatalf("evaluating %s in the login frame: %v", clipText(js, 200), err)
	}
	return v
}

// typeLogin types a username and password into the overlay as a user would:
// focus the username field, type, Tab, type, Enter.
func (w frameWorld) typeLogin(user, pass string) {
	w.tb.t.Helper()
	frameEval[bool](w, "(function () { var u = document.querySelector('input[autocomplete=username]'); u.value = ''; u.focus(); return true; })()")
	if err := chromedp.Do(w.tb.ctx, chromedp.KeyEvent(user), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(pass), chromedp.KeyEvent(kb.Enter)); err != nil {
		w.tb.fatalf("typing into the login overlay: %v", err)
	}
}

// overlayShown reports whether the page has the overlay's host element.
func (tb *tab) overlayShown() bool {
	return evalIn[bool](tb, "!!document.querySelector('pbxauth-login')")
}

// dialogAttrs returns the attributes of the overlay's dialog element, read
// through the DOM domain, which sees into closed shadow roots.
func (tb *tab) dialogAttrs() map[string]string {
	tb.t.Helper()
	depth, pierce := int64(-1), true
	res, err := chromedp.Call(tb.ctx, dom.GetDocument, dom.GetDocumentParams{Depth: &depth, Pierce: &pierce})
	if err != nil {
		tb.fatalf("reading the DOM: %v", err)
	}
	var found map[string]string
	var walk func(n *cdp.Node)
	walk = func(n *cdp.Node) {
		if n == nil || found != nil {
			return
		}
		attrs := map[string]string{}
		for i := 0; i+1 < len(n.Attributes); i += 2 {
			attrs[n.Attributes[i]] = n.Attributes[i+1]
		}
		if attrs["role"] == "dialog" {
			found = attrs
			return
		}
		for _, c := range n.ShadowRoots {
			walk(c)
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(res.Root)
	return found
}

// advanceClock moves the PBX's test clock forward.
func advanceClock(tb *tab, d time.Duration) {
	tb.t.Helper()
	body, _ := json.Marshal(map[string]string{"advance": d.String()})
	resp, err := http.Post(env.pbx+"/test/clock", "application/json", bytes.NewReader(body))
	if err != nil {
		tb.fatalf("advancing the PBX's clock: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.fatalf("advancing the PBX's clock: %s: %s (is the PBX started with -test-clock?)", resp.Status, b)
	}
}

// forgetSession drops what a browser may lose between visits: cookies, and
// the tab's sessionStorage; localStorage stays.
func (tb *tab) forgetSession() {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		tb.fatalf("clearing cookies: %v", err)
	}
	evalIn[bool](tb, "sessionStorage.clear(), true")
}

// noSecretsLeaked checks that no password is in the page's storage, in the
// cookies script can read, or in the console.
func (tb *tab) noSecretsLeaked(passwords ...string) {
	tb.t.Helper()
	stored := evalIn[string](tb, `(function () {
  var out = [document.cookie];
  [sessionStorage, localStorage].forEach(function (s) {
    for (var i = 0; i < s.length; i++) out.push(s.key(i) + '=' + s.getItem(s.key(i)));
  });
  return out.join('\n');
})()`)
	tb.mu.Lock()
	console := strings.Join(tb.console, "\n")
	tb.mu.Unlock()
	for _, pw := range passwords {
		if strings.Contains(stored, pw) {
			tb.errorf("a password is in the page's storage or readable cookies:\n%s", stored)
		}
		if strings.Contains(console, pw) {
			tb.errorf("a password is in the console output")
		}
	}
}

// createExternal makes an external user through REST with alice's API key.
func createExternal(tb *tab, name string) (login string) {
	tb.t.Helper()
	body := fmt.Sprintf(`{"auth":{"type":"external","name":%q,"autodelete":true}}`, name)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, env.pbx+"/rest/auth/external", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "token auth=demo-key-alice-6f1c2a9e")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.fatalf("creating an external user: %v", err)
	}
	defer resp.Body.Close()
	var reply struct {
		Result string `json:"result"`
		User   struct {
			Login string `json:"login"`
		} `json:"user"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &reply); err != nil || reply.Result != "success" || reply.User.Login == "" {
		tb.fatalf("creating an external user: %s %s", resp.Status, b)
	}
	return reply.User.Login
}
