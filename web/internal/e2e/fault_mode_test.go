package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// The tests of this file drive a page against the local PBX server in its
// fault mode (web/fault): the server runs in the test's process
// (web/pbxtest, with the module of web/internal/site/dist), so that the test switches
// its faults directly, between two calls of the page. Each fault ends every
// call with the code that says what happened, nothing hangs, and once the
// fault stops the same page, without a reload, logs in again.

// faultPBX starts a PBX server with a fault mode, off, for one test.
func faultPBX(t *testing.T) *pbxtest.Server {
	t.Helper()
	requireEnv(t)
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	t.Cleanup(func() { s.Faults().Set(fault.Off) })
	return s
}

// faultPage serves a vendor page that loads the module from s and points it
// at s, then runs code.
func faultPage(s *pbxtest.Server, name, code string) string {
	return env.pages.add(name, fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>%s</title></head>
<body>
<script>%s</script>
<script src="%s/api/api.js"></script>
<script>
IPCortex.PBX.Auth.setHost(%q);
%s
</script>
</body></html>
`, name, helperScript(), s.URL, s.URL, code))
}

// pageCall is one of the page's calls that talk to the PBX, as the body of
// T.run's function.
type pageCall struct{ name, js string }

var pageCalls = []pageCall{
	{"login with password", "return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'})"},
	{"login checkonly", "return IPCortex.PBX.Auth.login({checkonly: true})"},
	{"setCompany", "return IPCortex.PBX.Auth.setCompany('acme')"},
	{"logout", "return IPCortex.PBX.Auth.logout()"},
}

// openFaultPage opens a session on a page of s, ready.
func openFaultPage(t *testing.T, s *pbxtest.Server, name, code string) *tab {
	t.Helper()
	tb := newSession(t, testDeadline)
	tb.navigate(faultPage(s, name, code))
	tb.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")
	return tb
}

// wantAliceIn checks that the page is logged in as alice in company.
func wantAliceIn(tb *tab, what string, o outcome, company string) {
	tb.t.Helper()
	if !idIs(o.Props, 101) || o.Props.Company != company {
		tb.errorf("%s: want alice (101) in company %q, got %s", what, company, o)
	}
}

// TestFaultModeCalls: under each fault of the REST calls, login with a
// password, login({checkonly: true}), setCompany and logout each reject with
// the fault's code, and the page stays logged in; once the fault stops, the
// login made before it is still there and a new one works.
func TestFaultModeCalls(t *testing.T) {
	s := faultPBX(t)
	tb := openFaultPage(t, s, "fault-mode-calls", "")
	for _, f := range []struct {
		mode fault.Mode
		code string
	}{
		{fault.Status500, "server"},
		{fault.Reset, "network"},
		{fault.Truncate, "network"},
		{fault.NotJSON, "server"},
		{fault.Oversized, "server"},
	} {
		t.Run(f.mode.String(), func(t *testing.T) {
			st := tb.on(t)
			st.login("alice", "wonderland")
			s.Faults().Set(f.mode)
			before := s.Faults().Faulted()
			for _, c := range pageCalls {
				o := st.call(c.js, false)
				t.Logf("%s: %s", c.name, o)
				wantErrCode(st, c.name+" under "+f.mode.String(), o, "rejected", f.code)
				wantAliceIn(st, "after "+c.name+" failed", o, "default")
			}
			// Chromium may send a call again on a fresh connection after a
			// reset; every call met the fault at least once.
			if n := s.Faults().Faulted() - before; n < int64(len(pageCalls)) {
				st.errorf("%d calls met the fault %d times", len(pageCalls), n)
			}

			s.Faults().Set(fault.Off)
			wantAliceIn(st, "login({checkonly: true}) after the fault: the login is still there", st.checkonly(), "default")
			if o := st.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" || o.Props.IDType != "null" {
				st.errorf("logout after the fault: %s", o)
			}
			wantAliceIn(st, "login after the fault", st.login("alice", "wonderland"), "default")
		})
	}
}

// TestFaultModeLatency: a PBX slower than usual but within the module's
// deadline (auth.DefaultTimeout, 20 s) is only slow; one slower than the
// deadline ends every call with the timeout code, and none of them reaches
// it (the logout did not log out, the company did not change). The four
// calls run in four sessions at once, so that the test waits out one
// deadline, not four. The server's latency is an hour: the timeout can only
// be the module's.
func TestFaultModeLatency(t *testing.T) {
	s := faultPBX(t)
	t.Run("shorter than the deadline", func(t *testing.T) {
		tb := openFaultPage(t, s, "fault-latency-short", "")
		s.Faults().Set(fault.Latency(300 * time.Millisecond))
		defer s.Faults().Set(fault.Off)
		before := s.Faults().Faulted()
		for _, c := range pageCalls {
			if o := tb.call(c.js, false); o.State != "resolved" {
				tb.errorf("%s with a latency of 300 ms: %s", c.name, o)
			}
		}
		if n := s.Faults().Faulted() - before; n < int64(len(pageCalls)) {
			tb.errorf("%d calls met the latency %d times", len(pageCalls), n)
		}
	})

	t.Run("longer than the deadline", func(t *testing.T) {
		tabs := make([]*tab, len(pageCalls))
		for i := range pageCalls {
			tabs[i] = openFaultPage(t, s, "fault-latency-long", "")
			tabs[i].login("alice", "wonderland")
		}
		s.Faults().Set(fault.Latency(time.Hour))
		// The calls run together, each in its tab, from goroutines that
		// only evaluate; the test's goroutine checks what they got.
		type result struct {
			o   outcome
			err error
		}
		results := make([]result, len(pageCalls))
		var wg sync.WaitGroup
		for i, c := range pageCalls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := chromedp.Run(tabs[i].ctx, chromedp.Evaluate[outcome](
					fmt.Sprintf("T.run(function (cb) { %s }, false)", c.js), chromedp.EvalAwaitPromise))
				results[i] = result{o, err}
			}()
		}
		wg.Wait()
		for i, c := range pageCalls {
			st, r := tabs[i], results[i]
			if r.err != nil {
				st.fatalf("%s slower than the deadline: evaluating it in the page: %v", c.name, r.err)
			}
			t.Logf("%s: %s", c.name, r.o)
			wantErrCode(st, c.name+" slower than the deadline", r.o, "rejected", "timeout")
			wantAliceIn(st, "after "+c.name+" timed out", r.o, "default")
		}
		s.Faults().Set(fault.Off)
		for i, c := range pageCalls {
			st := tabs[i].on(t)
			wantAliceIn(st, "login({checkonly: true}) after "+c.name+" timed out: the call never reached the PBX", st.checkonly(), "default")
			wantAliceIn(st, "login after the fault", st.login("alice", "wonderland"), "default")
		}
	})
}

// TestFaultModeFeed: when the feed drops, the running feed's error callback
// gets errno 92; a startFeed while the feed cannot open rejects with code
// network and errno 91 (and errCB(91)); the REST calls still work; once the
// fault stops, the feed comes back by itself, in the same page.
func TestFaultModeFeed(t *testing.T) {
	s := faultPBX(t)
	tb := openFaultPage(t, s, "fault-mode-feed", feedJS)
	tb.login("alice", "wonderland")
	if o := tb.call("return IPCortex.PBX.startFeed(feedUp, feedErr)", false); o.State != "resolved" {
		tb.fatalf("startFeed with no fault: %s", o)
	}

	s.Faults().Set(fault.DropFeed)
	tb.waitFor("F.events.some(function (e) { return e.kind === 'err'; })", "the error callback of the feed that dropped")
	if evs := tb.feedEvents(); firstErrno(evs) != 92 {
		tb.errorf("the feed dropped: want errCB(92, ...) first, got %+v", evs)
	}
	wantAliceIn(tb, "login({checkonly: true}) while the feed drops", tb.checkonly(), "default")

	o := tb.call(`IPCortex.PBX.stopFeed(); F.events = []; F.ups = 0;
  return IPCortex.PBX.startFeed(feedUp, feedErr).catch(function (e) { window.feedRejection = {errno: e.errno}; throw e; })`, false)
	wantErrCode(tb, "startFeed while the feed cannot open", o, "rejected", "network")
	if errno := evalIn[float64](tb, "window.feedRejection ? window.feedRejection.errno : 0"); errno != 91 {
		tb.errorf("startFeed while the feed cannot open: want the rejection's errno 91, got %v", errno)
	}
	if evs := tb.feedEvents(); firstErrno(evs) != 91 {
		tb.errorf("startFeed while the feed cannot open: want errCB(91, ...) first, got %+v", evs)
	}

	s.Faults().Set(fault.Off)
	tb.waitFor("F.ups > 0", "the feed to come back by itself after the fault")
	wantAliceIn(tb, "login after the fault", tb.login("alice", "wonderland"), "default")
}

// firstErrno is the errno of the first error event, 0 if none.
func firstErrno(evs []feedEvent) int {
	for _, e := range evs {
		if e.Kind == "err" {
			return e.Errno
		}
	}
	return 0
}
