package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Per-test deadlines. They bound waiting only; nothing asserts how fast
// anything is.
const (
	testDeadline = 2 * time.Minute
	waitDeadline = 45 * time.Second // one in-page wait
	callDeadline = 40 * time.Second // one API call, in the page (the core's own timeout is 20 s)
	pollInterval = 50 * time.Millisecond
)

// helperJS is put into every test page. It records what API calls did, in a
// JSON-safe form the test reads back:
//
//	T.run(fn, wantCallback) -> Promise<outcome>
//
// calls fn(cb) and settles when the returned Promise settles (and cb was
// called, if wanted), or after callDeadline. T.rec(name, fn, wantCallback)
// does the same and keeps the outcome in T.results[name], so that calls made
// in the page's own script, before the module is ready, can be read later.
const helperJS = `
var T = (function () {
  'use strict';
  var CALL_MS = %d;
  function clip(s) {
    s = String(s);
    s = s.replace(/[\ud800-\udfff]/g, '?');
    return s.length > 300 ? s.slice(0, 300) + '...(' + s.length + ')' : s;
  }
  function safe(v, depth) {
    depth = depth || 0;
    var t = typeof v;
    if (v === null || t === 'boolean') return v;
    if (t === 'number') return isFinite(v) ? v : String(v);
    if (t === 'string') return clip(v);
    if (t === 'undefined') return null;
    if (t === 'symbol' || t === 'bigint' || t === 'function') return '<' + t + '>';
    if (depth > 4) return '<deep>';
    try {
      if (Array.isArray(v)) return v.slice(0, 20).map(function (x) { return safe(x, depth + 1); });
      var o = {};
      Object.keys(v).slice(0, 30).forEach(function (k) { o[clip(k)] = safe(v[k], depth + 1); });
      return o;
    } catch (e) { return '<unreadable>'; }
  }
  function errInfo(out, e) {
    try {
      out.isError = e instanceof Error;
      out.errName = e && typeof e.name === 'string' ? e.name : '';
      out.codeType = e === null || e === undefined ? typeof e : typeof e.code;
      out.code = e && typeof e.code === 'string' ? clip(e.code) : safe(e && e.code);
      out.message = e && typeof e.message === 'string' ? clip(e.message) : clip(String(e));
    } catch (x) {
      out.isError = false;
      out.message = 'unreadable rejection';
    }
  }
  function props() {
    var A = window.IPCortex && IPCortex.PBX && IPCortex.PBX.Auth;
    if (!A) return {defined: false};
    return {defined: true, id: safe(A.id), idType: A.id === null ? 'null' : typeof A.id,
            uname: safe(A.uname), name: safe(A.name), company: safe(A.company)};
  }
  function run(fn, wantCb, ms) {
    var out = {state: 'pending', cb: [], promise: false, valueType: ''};
    var cbDone, cbSeen = new Promise(function (r) { cbDone = r; });
    function cb() {
      out.cb.push(Array.prototype.slice.call(arguments).map(function (x) { return safe(x); }));
      out.cbTypes = Array.prototype.map.call(arguments, function (x) { return typeof x; });
      cbDone();
    }
    var settled;
    try {
      var v = fn(cb);
      if (v && typeof v.then === 'function') {
        out.promise = true;
        out.isNativePromise = v instanceof Promise;
        settled = v.then(function (x) {
          out.state = 'resolved'; out.valueType = typeof x; out.value = safe(x);
        }, function (e) {
          out.state = 'rejected'; errInfo(out, e);
        });
      } else {
        out.state = 'returned'; out.valueType = typeof v; out.value = safe(v);
        settled = Promise.resolve();
      }
    } catch (e) {
      out.state = 'threw'; errInfo(out, e);
      settled = Promise.resolve();
    }
    var timer;
    var late = new Promise(function (r) { timer = setTimeout(function () { out.timedOut = true; r(); }, ms || CALL_MS); });
    return Promise.race([Promise.all([settled, wantCb ? cbSeen : null]), late]).then(function () {
      clearTimeout(timer);
      out.props = props();
      return out;
    });
  }
  var results = {};
  function rec(name, fn, wantCb, ms) {
    results[name] = {state: 'pending'};
    return run(fn, wantCb, ms).then(function (out) { results[name] = out; return out; });
  }
  // sync records a synchronous call at once, for the calls a page makes
  // before the module is ready.
  function sync(name, fn) {
    var out = {state: 'pending'};
    try { var v = fn(); out.state = 'returned'; out.valueType = typeof v; out.value = safe(v); }
    catch (e) { out.state = 'threw'; errInfo(out, e); }
    out.props = props();
    results[name] = out;
    return out;
  }
  return {run: run, rec: rec, sync: sync, results: results, safe: safe, clip: clip, props: props};
})();
`

// helperScript is helperJS with the call deadline filled in.
func helperScript() string {
	return fmt.Sprintf(helperJS, callDeadline.Milliseconds())
}

// fill replaces the placeholders of a page's script: {{PBX}} is the PBX's
// origin.
func fill(code string) string {
	return strings.ReplaceAll(code, "{{PBX}}", env.pbx)
}

// vendorPage is a page as vendor users write them: the API's script tag, then
// an inline script that calls it at once. head runs before the tag.
func vendorPage(title, scriptPath, head, code string) string {
	return fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>%s</title></head>
<body>
<h1>%s</h1>
<script>%s
%s</script>
<script src="%s%s"></script>
<script>
%s
</script>
</body></html>
`, title, title, helperScript(), fill(head), env.pbx, scriptPath, fill(code))
}

// addPage serves a vendor page that loads /api/api.js and runs code right
// after it.
func addPage(name, code string) string {
	return env.pages.add(name, vendorPage(name, "/api/api.js", "", code))
}

// outcome is what T.run recorded about one call.
type outcome struct {
	State           string   `json:"state"` // pending, resolved, rejected, threw, returned
	TimedOut        bool     `json:"timedOut"`
	Promise         bool     `json:"promise"`
	IsNativePromise bool     `json:"isNativePromise"`
	ValueType       string   `json:"valueType"`
	Value           any      `json:"value"`
	IsError         bool     `json:"isError"`
	ErrName         string   `json:"errName"`
	Code            any      `json:"code"`
	CodeType        string   `json:"codeType"`
	Message         string   `json:"message"`
	CB              [][]any  `json:"cb"`
	CBTypes         []string `json:"cbTypes"`
	Props           props    `json:"props"`
}

type props struct {
	Defined bool   `json:"defined"`
	ID      any    `json:"id"`
	IDType  string `json:"idType"`
	Uname   any    `json:"uname"`
	Name    any    `json:"name"`
	Company any    `json:"company"`
}

func (o outcome) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%s", o.State)
	if o.TimedOut {
		b.WriteString(" (no answer within the deadline)")
	}
	switch o.State {
	case "resolved", "returned":
		fmt.Fprintf(&b, " value(%s)=%v", o.ValueType, o.Value)
	case "rejected", "threw":
		fmt.Fprintf(&b, " error: isError=%t name=%q code(%s)=%v message=%q", o.IsError, o.ErrName, o.CodeType, o.Code, o.Message)
	}
	if len(o.CB) > 0 {
		fmt.Fprintf(&b, " callback calls=%v", o.CB)
	}
	fmt.Fprintf(&b, " props={id(%s)=%v uname=%v name=%v company=%v}", o.Props.IDType, o.Props.ID, o.Props.Uname, o.Props.Name, o.Props.Company)
	return b.String()
}

// tab is one browser tab with its console, reporting to t.
type tab struct {
	t *testing.T
	*tabState
}

type tabState struct {
	name string
	ctx  context.Context

	mu         sync.Mutex
	console    []string
	exceptions []string
}

// on is the same tab reporting to t (a subtest).
func (tb *tab) on(t *testing.T) *tab { return &tab{t: t, tabState: tb.tabState} }

// newSession starts a fresh browser context (its own cookies and storage)
// with a deadline, and returns its first tab.
func newSession(t *testing.T, deadline time.Duration) *tab {
	t.Helper()
	requireEnv(t)
	ctx, cancel := context.WithTimeout(env.browser, deadline)
	t.Cleanup(cancel)
	return openTab(t, ctx, "A", chromedp.WithNewBrowserContext())
}

// newTab opens another tab in the same browser context as tb.
func (tb *tab) newTab(name string) *tab {
	tb.t.Helper()
	return openTab(tb.t, tb.ctx, name)
}

func openTab(t *testing.T, parent context.Context, name string, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	tb := &tab{t: t, tabState: &tabState{name: name, ctx: ctx}}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("opening tab %s: %v", name, err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			line := fmt.Sprintf("%s: %s", m.Type, clipText(m.Text, 2000))
			if m.URL != "" {
				line += fmt.Sprintf("  (%s:%d)", m.URL, m.Line+1)
			}
			tb.mu.Lock()
			tb.console = append(tb.console, line)
			if m.IsException() {
				tb.exceptions = append(tb.exceptions, line)
			}
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		tb.mu.Lock()
		exc := append([]string(nil), tb.exceptions...)
		tb.mu.Unlock()
		if len(exc) > 0 {
			t.Errorf("tab %s: %d uncaught exception(s) or unhandled rejection(s) in the page:\n  %s\n%s", name, len(exc), strings.Join(exc, "\n  "), tb.dump())
		}
		cancel()
		select {
		case <-done:
		case <-time.After(stopDeadline):
		}
	})
	return tb
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// dump is the tab's console so far, for failure messages.
func (tb *tab) dump() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.console) == 0 {
		return fmt.Sprintf("console of tab %s: (empty)", tb.name)
	}
	return fmt.Sprintf("console of tab %s:\n  %s", tb.name, strings.Join(tb.console, "\n  "))
}

func (tb *tab) fatalf(format string, args ...any) {
	tb.t.Helper()
	tb.t.Fatalf(format+"\n%s", append(args, tb.dump())...)
}

func (tb *tab) errorf(format string, args ...any) {
	tb.t.Helper()
	tb.t.Errorf(format+"\n%s", append(args, tb.dump())...)
}

// navigate loads url and waits for its load event.
func (tb *tab) navigate(url string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(url)); err != nil {
		tb.fatalf("loading %s: %v", url, err)
	}
}

// evalIn evaluates js in tb's page (awaiting a Promise) and decodes the result.
func evalIn[T any](tb *tab, js string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.fatalf("evaluating %s: %v", clipText(js, 300), err)
	}
	return v
}

// call runs one API call in the page: fn is the body of function (cb) { ... }
// and must return what the API call returned.
func (tb *tab) call(fn string, wantCb bool) outcome {
	tb.t.Helper()
	return evalIn[outcome](tb, fmt.Sprintf("T.run(function (cb) { %s }, %t)", fill(fn), wantCb))
}

// result waits for the call recorded under name in the page's own script.
func (tb *tab) result(name string) outcome {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf("T.results[%q] && T.results[%q].state !== 'pending'", name, name), "the page's call "+name+" to end")
	return evalIn[outcome](tb, fmt.Sprintf("T.results[%q]", name))
}

// waitFor polls the JS expression until it is truthy, up to waitDeadline.
func (tb *tab) waitFor(expr, what string) {
	tb.t.Helper()
	if err := tb.poll(expr, waitDeadline); err != nil {
		tb.fatalf("waiting for %s (%s): %v", what, expr, err)
	}
}

func (tb *tab) poll(expr string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(tb.ctx, d+10*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(pollInterval), chromedp.WithPollingTimeout(d)))
	if errors.Is(err, chromedp.ErrPollingTimeout) {
		return fmt.Errorf("not true within %s", d)
	}
	return err
}

// login logs the page in with the Promise form and requires success.
func (tb *tab) login(user, pass string) outcome {
	tb.t.Helper()
	o := tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({username: %q, password: %q})", user, pass), false)
	if o.State != "resolved" {
		tb.fatalf("login as %s: %s", user, o)
	}
	return o
}

// checkonly runs login({checkonly: true}).
func (tb *tab) checkonly() outcome {
	tb.t.Helper()
	return tb.call("return IPCortex.PBX.Auth.login({checkonly: true})", false)
}

// idIs reports whether the recorded id is the Number want.
func idIs(p props, want float64) bool {
	f, ok := p.ID.(float64)
	return ok && p.IDType == "number" && f == want
}
