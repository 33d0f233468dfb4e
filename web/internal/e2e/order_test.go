package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// overlapRounds is how often each overlap is repeated: the network may order
// requests differently each time, and the outcome must not depend on it.
const overlapRounds = 5

// settled is what a batch of calls made without waiting came to.
type settled struct {
	Statuses []string `json:"statuses"` // fulfilled or rejected, per call, in call order
	Reasons  []string `json:"reasons"`
	Props    props    `json:"props"` // right after the last one settled
}

// overlap makes the calls (JS expressions with A bound to
// IPCortex.PBX.Auth) one after another without waiting, and waits for all.
func (tb *tab) overlap(calls ...string) settled {
	tb.t.Helper()
	js := fmt.Sprintf(`(function () {
  var A = IPCortex.PBX.Auth;
  var ps = [%s];
  return Promise.allSettled(ps).then(function (rs) {
    return {statuses: rs.map(function (r) { return r.status; }),
            reasons: rs.map(function (r) { return r.reason ? String(r.reason.code) + ': ' + r.reason.message : ''; }),
            props: T.props()};
  });
})()`, strings.Join(calls, ",\n    "))
	return evalIn[settled](tb, js)
}

func allFulfilled(s settled) bool {
	for _, st := range s.Statuses {
		if st != "fulfilled" {
			return false
		}
	}
	return len(s.Statuses) > 0
}

const (
	aliceLogin = "A.login({username: 'alice', password: 'wonderland'})"
	fullExit   = "A.exit({logout: true})"
	checkOnly  = "A.login({checkonly: true})"
)

// TestCallsTakeEffectInOrder: calls a page makes without waiting take
// effect in the order it made them, whatever the network does: the last
// call holds, in the properties and on the server. Same-site, and from
// another site (localhost against the PBX on 127.0.0.1) in a tab with a
// sub-ID, whose session travels explicitly instead of in a cookie.
func TestCallsTakeEffectInOrder(t *testing.T) {
	modes := []struct {
		name, host, setup string
	}{
		{"same site", "127.0.0.1", ""},
		{"another site with a sub-ID", "localhost", "T.sync('subid', function () { return IPCortex.PBX.Auth.getSubID(); });"},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			tb := newSession(t, 2*testDeadline)
			url := addPage("order", "IPCortex.PBX.Auth.setHost('{{PBX}}');\n"+m.setup)
			tb.navigate(strings.Replace(url, "127.0.0.1", m.host, 1))
			if o := tb.checkonly(); o.State != "rejected" {
				tb.fatalf("the first check: want rejected (logged out), got %s", o)
			}
			for round := 1; round <= overlapRounds; round++ {
				tb.overlapRound(round)
			}
		})
	}
}

func (tb *tab) overlapRound(round int) {
	tb.t.Helper()
	loggedOut := func(what string, s settled) {
		tb.t.Helper()
		if !allFulfilled(s) || s.Props.IDType != "null" {
			tb.errorf("round %d, %s: want every call fulfilled and IPCortex.PBX.Auth.id === null, got %+v", round, what, s)
		}
		if o := tb.checkonly(); o.State != "rejected" || o.Code != "login_required" {
			tb.errorf("round %d, after %s: want the server to say login_required, got %s", round, what, o)
		}
	}
	loggedIn := func(what string, s settled) {
		tb.t.Helper()
		if !allFulfilled(s) || !idIs(s.Props, 101) {
			tb.errorf("round %d, %s: want every call fulfilled and IPCortex.PBX.Auth.id === 101, got %+v", round, what, s)
		}
		if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
			tb.errorf("round %d, after %s: want the server to still know alice (101), got %s", round, what, o)
		}
	}

	loggedOut("login then exit({logout: true})", tb.overlap(aliceLogin, fullExit))
	loggedIn("login then login({checkonly: true})", tb.overlap(aliceLogin, checkOnly))
	loggedOut("exit({logout: true}) then nothing", tb.overlap(fullExit))
	twenty := make([]string, 20)
	for i := range twenty {
		twenty[i] = aliceLogin
	}
	loggedIn("20 logins at once", tb.overlap(twenty...))
	loggedIn("exit({logout: true}) then login", tb.overlap(fullExit, aliceLogin))
	loggedOut("login, logout, login, exit({logout: true})", tb.overlap(aliceLogin, "A.logout()", aliceLogin, fullExit))
}

// TestADeadRuntimeFailsClearly: if the Go program ever exits (it should
// not: every entry point recovers), every later call fails with an Error
// whose code is internal, instead of wasm_exec.js's "Go program has already
// exited". The page captures the runtime to end it from outside.
func TestADeadRuntimeFailsClearly(t *testing.T) {
	tb := newSession(t, testDeadline)
	// The page's script runs after the loader, so the capture must be in
	// place before it: load the runtime glue first, then wrap it, then api.js.
	url := env.pages.add("dead-runtime", fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>dead runtime</title></head><body>
<script>%s</script>
<script src="%s/api/wasm_exec.js"></script>
<script>var RealGo = Go; window.Go = function () { var g = new RealGo(); window.theGo = g; return g; };</script>
<script src="%s/api/api.js"></script>
<script>IPCortex.PBX.Auth.setHost('%s');</script>
</body></html>`, helperScript(), env.pbx, env.pbx, env.pbx))
	tb.navigate(url)
	tb.login("alice", "wonderland")
	if !evalIn[bool](tb, "!!window.theGo && !window.theGo.exited") {
		tb.fatalf("the page did not capture the running Go runtime")
	}
	evalIn[bool](tb, `(function () {
  theGo.importObject.gojs['runtime.wasmExit'](0); // what a fatal error in Go does
  return true;
})()`)

	o := tb.checkonly()
	wantErrCode(tb, "login({checkonly: true}) after the runtime exited", o, "rejected", "internal")
	if strings.Contains(o.Message, "already exited") || !strings.Contains(o.Message, "reload") {
		tb.errorf("want a message that says to reload, got %q", o.Message)
	}
	o = tb.call("return IPCortex.PBX.Auth.logout(cb)", true)
	wantErrCode(tb, "logout(cb) after the runtime exited", o, "rejected", "internal")
	if len(o.CB) != 1 || o.CB[0][0] != false {
		tb.errorf("logout(cb): want the callback called once with false, got %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.getSubID()", false)
	wantErrCode(tb, "getSubID() after the runtime exited", o, "threw", "internal")
	o = tb.call("return IPCortex.PBX.startFeed(function () { window.dataCB = true; }, function (errno) { window.feedErrno = errno; })", false)
	wantErrCode(tb, "startFeed after the runtime exited", o, "rejected", "internal")
	tb.waitFor("window.feedErrno === 1", "the feed's error callback to get errno 1")
	if evalIn[bool](tb, "window.dataCB === true") {
		tb.errorf("startFeed after the runtime exited called its data callback")
	}
}
