package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Sizes and deadlines of BenchmarkLogin. The deadline bounds waiting only.
const (
	loginBenchUsers    = 4 // users per side, in turn (few: the server hashes each at start, at its real cost)
	loginBenchDeadline = 10 * time.Minute
	loginSplitRounds   = 9 // logins after the counted ones, to see where the module's time goes
)

// loginBenchPassword is the password of bench user i.
func loginBenchPassword(i int) string { return fmt.Sprintf("pw-%03d-bench", i) }

// BenchmarkLogin measures a login made through the module against the same
// login made with a plain fetch(), in the same run:
//
//   - module: a page on the second origin (cross-origin to the PBX) with the
//     script tag, once the module is ready, times
//     IPCortex.PBX.Auth.login({username, password}) from the call to its
//     settling (the properties set);
//   - fetch: a page on the same origin, in another browser context (its own
//     cookies and preflight cache), times a fetch() POST to the same
//     endpoint with the same method, headers, credentials, mode and body as
//     the module's (recorded from the module's own first login), and
//     reading its JSON reply.
//
// Each side first logs in and out once, untimed, so that both have their
// CORS preflights cached; then every round (b.N of them: -benchtime 50x)
// logs in once on each side, the order alternating between rounds, each
// login followed by an untimed logout. The PBX is a server of its own,
// started with 2*loginBenchUsers+2 users hashed at the server's real bcrypt
// cost (the login's main cost, paid alike by both sides); each side logs in
// users of its own, in turn, so that a limit per user (sessions held,
// failures) would not weigh on one side only. It reports the medians, their ratio,
// and the OPTIONS requests the server saw during the timed rounds (0 when
// no preflight is sent after the first call). Nothing is asserted on time.
func BenchmarkLogin(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	tmp := b.TempDir()
	usersFile := filepath.Join(tmp, "users.json")
	var list []map[string]any
	for i := range 2*loginBenchUsers + 2 {
		list = append(list, map[string]any{
			"id": 5000 + i, "login": fmt.Sprintf("bench%03d", i), "password": loginBenchPassword(i),
			"name": fmt.Sprintf("Bench User %d", i), "company": "default", "home": "default",
			"perms": map[string]string{"chat": "yes"},
		})
	}
	js, err := json.Marshal(list)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(usersFile, js, 0o600); err != nil {
		b.Fatal(err)
	}
	log := &capBuffer{max: 4 << 20}
	pbx, stop, err := startServer(env.bin, log, "-addr", "127.0.0.1:0", "-users", usersFile, "-ping-key", filepath.Join(tmp, "ping.key"))
	if err != nil {
		b.Fatalf("starting a PBX server with the bench users: %v", err)
	}
	defer stop()

	modulePage := env.pages.add("bench-login-module", fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>login: module</title></head><body>
<script>
window.__ready = new Promise(function (resolve) { window.onAPILoadReady = resolve; });
(function () {
  var realFetch = window.fetch, recorded = [];
  window.recordFetches = function () {
    recorded = [];
    window.fetch = function (url, init) {
      var h = {}, src = init && init.headers;
      if (src instanceof Headers) src.forEach(function (v, k) { h[k] = v; });
      else if (src) Object.keys(src).forEach(function (k) { h[k] = String(src[k]); });
      recorded.push({url: String(url), method: init.method, headers: h, credentials: init.credentials,
        mode: init.mode, redirect: init.redirect || 'follow', cache: init.cache || 'default', body: String(init.body || '')});
      return realFetch.apply(this, arguments);
    };
  };
  window.stopRecording = function () { window.fetch = realFetch; return recorded; };
})();
window.benchLogin = async function (u, p) {
  var A = IPCortex.PBX.Auth, t0 = performance.now();
  try {
    await A.login({username: u, password: p});
  } catch (e) {
    return {ms: performance.now() - t0, error: 'login: ' + (e && e.code) + ': ' + (e && e.message)};
  }
  var ms = performance.now() - t0;
  if (A.uname !== u) return {ms: ms, error: 'logged in, but uname is ' + A.uname};
  return {ms: ms};
};
// benchSplit logs in as benchLogin does, with fetch wrapped to see when
// the module's request leaves and when its reply's headers come: the time
// before the request, on the wire (and in the server), and after.
window.benchSplit = async function (u, p) {
  var realFetch = window.fetch, sent = 0, came = 0;
  window.fetch = function () {
    sent = performance.now();
    return realFetch.apply(this, arguments).then(function (r) { came = performance.now(); return r; });
  };
  var t0 = performance.now(), r;
  try { r = await benchLogin(u, p); } finally { window.fetch = realFetch; }
  var t1 = performance.now();
  if (r.error) return r;
  return {before: sent - t0, wire: came - sent, after: t1 - came};
};
window.benchLogout = async function () {
  try { await IPCortex.PBX.Auth.logout(); } catch (e) { return {error: 'logout: ' + (e && e.code) + ': ' + (e && e.message)}; }
  return {};
};
</script>
<script src="%s/api/api.js"></script>
</body></html>`, pbx))
	fetchPage := env.pages.add("bench-login-fetch", fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>login: fetch</title></head><body>
<script>
// window.req is the module's login request, set by the benchmark.
window.benchLogin = async function (u, p) {
  var q = window.req, body = JSON.parse(q.body);
  body.auth.username = u;
  body.auth.password = p;
  var init = {method: q.method, headers: q.headers, credentials: q.credentials, mode: q.mode,
    redirect: q.redirect, cache: q.cache, body: JSON.stringify(body)};
  var t0 = performance.now(), r, j;
  try {
    r = await fetch(q.url, init);
    j = await r.json();
  } catch (e) {
    return {ms: performance.now() - t0, error: 'fetch: ' + (e && e.message || e)};
  }
  var ms = performance.now() - t0;
  if (!r.ok || j.result !== 'success' || !j.user || j.user.login !== u) return {ms: ms, error: 'login: ' + r.status + ' ' + JSON.stringify(j)};
  return {ms: ms};
};
window.benchLogout = async function () {
  var q = window.req;
  try {
    var r = await fetch(%q, {method: 'POST', headers: q.headers, credentials: q.credentials, mode: q.mode,
      redirect: q.redirect, cache: q.cache, body: '{"auth":{"type":"auth"}}'});
    await r.json();
    if (!r.ok) return {error: 'logout: ' + r.status};
  } catch (e) { return {error: 'logout: ' + (e && e.message || e)}; }
  return {};
};
</script>
</body></html>`, pbx+"/rest/auth/logout"))

	ctx, cancel := context.WithTimeout(env.browser, loginBenchDeadline)
	defer cancel()
	moduleTab, cancelModule := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelModule()
	fetchTab, cancelFetch := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFetch()
	for _, t := range []struct {
		ctx  context.Context
		url  string
		what string
	}{{moduleTab, modulePage, "the module page"}, {fetchTab, fetchPage, "the fetch page"}} {
		if err := chromedp.Do(t.ctx, chromedp.Navigate(t.url)); err != nil {
			b.Fatalf("loading %s: %v", t.what, err)
		}
	}
	if _, err := chromedp.Run(moduleTab, chromedp.Evaluate[any]("window.__ready", chromedp.EvalAwaitPromise)); err != nil {
		b.Fatalf("the module did not become ready: %v", err)
	}

	type result struct {
		MS    float64 `json:"ms"`
		Error string  `json:"error"`
	}
	call := func(tab context.Context, side, js string) result {
		r, err := chromedp.Run(tab, chromedp.Evaluate[result](js, chromedp.EvalAwaitPromise))
		if err == nil && r.Error != "" {
			err = fmt.Errorf("%s", r.Error)
		}
		if err != nil {
			b.Fatalf("%s: %s: %v\nthe server's log ends:\n%s", side, js, err, clipTail(log.String(), 2000))
		}
		return r
	}
	user := func(i int) string {
		return fmt.Sprintf("benchLogin(%q, %q)", fmt.Sprintf("bench%03d", i), loginBenchPassword(i))
	}

	// The untimed first login of each side, which pays the preflights; the
	// module's tells the fetch page what to send.
	if _, err := chromedp.Run(moduleTab, chromedp.Evaluate[any]("recordFetches()")); err != nil {
		b.Fatal(err)
	}
	call(moduleTab, "module", user(2*loginBenchUsers))
	type request struct {
		URL         string            `json:"url"`
		Method      string            `json:"method"`
		Headers     map[string]string `json:"headers"`
		Credentials string            `json:"credentials"`
		Mode        string            `json:"mode"`
		Redirect    string            `json:"redirect"`
		Cache       string            `json:"cache"`
		Body        string            `json:"body"`
	}
	reqs, err := chromedp.Run(moduleTab, chromedp.Evaluate[[]request]("stopRecording()"))
	if err != nil {
		b.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].URL != pbx+"/rest/auth/" || !strings.Contains(reqs[0].Body, `"username"`) {
		b.Fatalf("the module's login made %d fetch calls, want one POST of %s/rest/auth/ with a username: %+v", len(reqs), pbx, reqs)
	}
	reqJSON, err := json.Marshal(reqs[0])
	if err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(fetchTab, chromedp.Evaluate[any]("window.req = "+string(reqJSON)+"; true")); err != nil {
		b.Fatal(err)
	}
	call(moduleTab, "module", "benchLogout()")
	call(fetchTab, "fetch", user(2*loginBenchUsers+1))
	call(fetchTab, "fetch", "benchLogout()")
	b.Logf("the module's login request, sent by both sides: %s %s credentials=%s mode=%s cache=%s headers=%v body=%s",
		reqs[0].Method, reqs[0].URL, reqs[0].Credentials, reqs[0].Mode, reqs[0].Cache, reqs[0].Headers,
		strings.Replace(reqs[0].Body, loginBenchPassword(2*loginBenchUsers), "…", 1))
	before := countRequests(logUpTo(b, pbx, log))

	var module, plain []float64
	round := 0
	for b.Loop() {
		u := round % loginBenchUsers
		sides := []func(){
			func() {
				module = append(module, call(moduleTab, "module", user(2*u)).MS)
				call(moduleTab, "module", "benchLogout()")
			},
			func() {
				plain = append(plain, call(fetchTab, "fetch", user(2*u+1)).MS)
				call(fetchTab, "fetch", "benchLogout()")
			},
		}
		if round%2 == 1 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			side()
		}
		round++
	}
	b.StopTimer()
	after := countRequests(logUpTo(b, pbx, log))

	// Where the module's time goes, in a few more logins after the counted
	// ones: before its request leaves, on the wire, after the reply came.
	type split struct {
		Before float64 `json:"before"`
		Wire   float64 `json:"wire"`
		After  float64 `json:"after"`
		Error  string  `json:"error"`
	}
	var pre, onWire, post []float64
	for i := range loginSplitRounds {
		u := i % loginBenchUsers
		js := fmt.Sprintf("benchSplit(%q, %q)", fmt.Sprintf("bench%03d", 2*u), loginBenchPassword(2*u))
		s, err := chromedp.Run(moduleTab, chromedp.Evaluate[split](js, chromedp.EvalAwaitPromise))
		if err == nil && s.Error != "" {
			err = fmt.Errorf("%s", s.Error)
		}
		if err != nil {
			b.Fatalf("module: %s: %v", js, err)
		}
		pre, onWire, post = append(pre, s.Before), append(onWire, s.Wire), append(post, s.After)
		call(moduleTab, "module", "benchLogout()")
	}

	var preflights, posts int
	for req, n := range after {
		n -= before[req]
		switch {
		case strings.HasPrefix(req, "OPTIONS "):
			preflights += n
		case strings.HasPrefix(req, "POST /rest/auth/"):
			posts += n
		}
	}
	if posts != 4*round {
		b.Fatalf("the server logged %d POSTs to /rest/auth/ in %d rounds, want %d (a login and a logout per side)", posts, round, 4*round)
	}
	mm, pm := loadMedian(module), loadMedian(plain)
	b.ReportMetric(mm, "module-login-ms")
	b.ReportMetric(pm, "fetch-login-ms")
	b.ReportMetric(mm/pm, "login-ratio")
	b.ReportMetric(float64(preflights), "preflights-after-first")
	b.ReportMetric(loadMedian(pre), "module-before-request-ms")
	b.ReportMetric(loadMedian(onWire), "module-on-wire-ms")
	b.ReportMetric(loadMedian(post), "module-after-reply-ms")
	b.Logf("medians of %d logins each: module %.1f ms, fetch %.1f ms, ratio %.2f; %d OPTIONS requests in the timed rounds (%d POSTs); the module's login, median of %d more: %.1f ms before its request leaves, %.1f ms until the reply's headers, %.1f ms after",
		round, mm, pm, mm/pm, preflights, posts, loginSplitRounds, loadMedian(pre), loadMedian(onWire), loadMedian(post))
}

// clipTail is the last n bytes of s.
func clipTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
