package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// feedJS records what the feed tells the page, with the time and the user's
// id at that moment.
const feedJS = `
window.F = {ups: 0, events: []};
function feedUp() { F.ups++; F.events.push({kind: 'up', t: Date.now()}); }
function feedErr(errno, text) {
  F.events.push({kind: 'err', errno: errno, text: String(text), t: Date.now(),
                 idType: IPCortex.PBX.Auth.id === null ? 'null' : typeof IPCortex.PBX.Auth.id});
}
`

// feedEvent is one entry of F.events.
type feedEvent struct {
	Kind   string  `json:"kind"`
	Errno  int     `json:"errno"`
	Text   string  `json:"text"`
	T      float64 `json:"t"`
	IDType string  `json:"idType"`
}

// feedPage checks the login on load and starts the feed once it resolves,
// as pages do: login(...).then(IPCortex.PBX.startFeed ...).
func feedPage(name, feedArgs string) string {
	return addPage(name, feedJS+fmt.Sprintf(`
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.rec('feed', function () {
  return IPCortex.PBX.Auth.login({checkonly: true}).then(function () { return IPCortex.PBX.startFeed(%s); });
});
`, feedArgs))
}

func (tb *tab) feedEvents() []feedEvent {
	tb.t.Helper()
	return evalIn[[]feedEvent](tb, "F.events")
}

// TestFeedLogoutElsewhere: tab B runs the feed; tab A logs out; B's error
// callback gets errno 2 within two seconds, with IPCortex.PBX.Auth.id
// already null. Same site (the shared cookie) and from another site (the
// shared token), every round of several.
func TestFeedLogoutElsewhere(t *testing.T) {
	for _, site := range []string{"127.0.0.1", "localhost"} {
		t.Run("page on "+site, func(t *testing.T) {
			a := newSession(t, 2*testDeadline)
			b := a.newTab("B")
			onSite := func(url string) string { return strings.Replace(url, "127.0.0.1", site, 1) }
			for round := 1; round <= 3; round++ {
				a.navigate(onSite(addPage("feed-a", "IPCortex.PBX.Auth.setHost('{{PBX}}');")))
				a.login("alice", "wonderland")
				b.navigate(onSite(feedPage("feed-b", "feedUp, feedErr")))
				if o := b.result("feed"); o.State != "resolved" || !idIs(o.Props, 101) {
					b.fatalf("round %d: the feed in tab B: want it up with alice logged in, got %s", round, o)
				}
				t0 := evalIn[float64](a, "Date.now()")
				if o := a.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" {
					a.fatalf("round %d: logout in tab A: %s", round, o)
				}
				b.waitFor("F.events.some(function (e) { return e.kind === 'err'; })", "tab B's error callback")
				var got *feedEvent
				for _, e := range b.feedEvents() {
					if e.Kind == "err" {
						got = &e
						break
					}
				}
				switch {
				case got.Errno != 2:
					b.errorf("round %d: want errCB(2, ...) first, got errno %d (%s)", round, got.Errno, got.Text)
				case got.IDType != "null":
					b.errorf("round %d: IPCortex.PBX.Auth.id must be null when errCB(2) runs, it was a %s", round, got.IDType)
				case got.T-t0 > 2000:
					b.errorf("round %d: errCB(2) came %.0f ms after the logout; the promise is two seconds", round, got.T-t0)
				}
				t.Logf("round %d: errCB(2) %.0f ms after tab A's logout began", round, got.T-t0)
			}
		})
	}
}

// TestFeedCalls: the call forms and options of startFeed and its old names.
func TestFeedCalls(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(addPage("feed-calls", feedJS+"IPCortex.PBX.Auth.setHost('{{PBX}}');"))

	t.Run("before login: errno 3", func(t *testing.T) {
		st := tb.on(t)
		o := st.call("return IPCortex.PBX.startFeed(feedUp, feedErr)", false)
		wantErrCode(st, "startFeed before login", o, "rejected", "login_required")
		evs := st.feedEvents()
		if len(evs) != 1 || evs[0].Errno != 3 {
			st.errorf("errCB: want one call with errno 3, got %+v", evs)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		st := tb.on(t)
		for _, opts := range []string{"{pingtime: 5}", "{pingtime: 1000}", "{pingtime: 10.5}", "{maxWSRetryTime: -1}"} {
			o := st.call("return IPCortex.PBX.startFeed("+opts+")", false)
			wantErrCode(st, "startFeed("+opts+")", o, "rejected", "bad_option")
		}
		for _, opts := range []string{"{pingtime: '60'}", "{device: 'yes'}", "{errorCB: 5}", "42"} {
			o := st.call("return IPCortex.PBX.startFeed("+opts+")", false)
			wantBadOption(st, "startFeed("+opts+")", o, "rejected", true)
		}
	})
	t.Run("unbound after login, with every data option", func(t *testing.T) {
		st := tb.on(t)
		o := st.call(`F.events = []; return IPCortex.PBX.Auth.login({username: 'carol', password: 'carolpass'})
  .then(IPCortex.PBX.startFeed)
  .then(function () { return IPCortex.PBX.startFeed({device: true, deviceMin: false, mailbox: true, queue: true, presence: true, pingtime: 10, maxWSRetryTime: null, errorCB: feedErr}); })`, false)
		if o.State != "resolved" || !idIs(o.Props, 103) {
			st.fatalf("login().then(IPCortex.PBX.startFeed): want the feed up as carol, got %s", o)
		}
		if o := st.call("IPCortex.PBX.stopFeed(); IPCortex.PBX.httpStopReuse(); return IPCortex.PBX.pauseFeed()", false); o.State != "returned" {
			st.errorf("stopFeed, httpStopReuse and pauseFeed return nothing: %s", o)
		}
	})
	t.Run("startPoll and stopPoll", func(t *testing.T) {
		st := tb.on(t)
		o := st.call("F.events = []; F.ups = 0; return IPCortex.PBX.startPoll(feedUp, feedErr)", false)
		if o.State != "resolved" {
			st.fatalf("startPoll(cb, errCB): %s", o)
		}
		st.waitFor("F.ups === 1", "startPoll's callback")
		st.call("return IPCortex.PBX.stopPoll()", false)
		// Stopped: a logout now is not reported through the feed.
		if o := st.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" {
			st.fatalf("logout: %s", o)
		}
		if o := st.checkonly(); o.State != "rejected" {
			st.errorf("after logout: %s", o)
		}
		for _, e := range st.feedEvents() {
			if e.Kind == "err" {
				st.errorf("after stopPoll the error callback must stay quiet, got %+v", e)
			}
		}
	})
	t.Run("logout and exit stop the feed", func(t *testing.T) {
		st := tb.on(t)
		st.login("bob", "builder")
		if o := st.call("F.events = []; return IPCortex.PBX.startFeed(feedUp, feedErr)", false); o.State != "resolved" {
			st.fatalf("startFeed: %s", o)
		}
		if o := st.call("return IPCortex.PBX.Auth.exit({logout: true})", false); o.State != "resolved" {
			st.fatalf("exit({logout: true}): %s", o)
		}
		if o := st.checkonly(); o.State != "rejected" {
			st.errorf("after exit: %s", o)
		}
		for _, e := range st.feedEvents() {
			if e.Kind == "err" {
				st.errorf("exit stops the feed first, so it reports nothing: got %+v", e)
			}
		}
	})
}

// pbxProcess is a PBX of a test's own, which the test stops and starts again
// on the same port.
type pbxProcess struct {
	tb    *tab
	args  []string
	log   *capBuffer
	url   string
	stopF func()
}

func startOwnPBX(tb *tab, args ...string) *pbxProcess {
	tb.t.Helper()
	args = append(args, "-ping-key", env.pingKey) // never the user's own config directory
	p := &pbxProcess{tb: tb, args: args, log: &capBuffer{max: 1 << 20}}
	p.start("127.0.0.1:0")
	tb.t.Cleanup(p.stop)
	return p
}

func (p *pbxProcess) start(addr string) {
	p.tb.t.Helper()
	url, stop, err := startServer(env.bin, p.log, append([]string{"-addr", addr}, p.args...)...)
	if err != nil {
		p.tb.fatalf("starting a PBX of the test's own: %v", err)
	}
	p.url, p.stopF = url, stop
}

func (p *pbxProcess) stop() {
	if p.stopF != nil {
		p.stopF()
		p.stopF = nil
	}
}

// restart stops the PBX and starts it again on the same address.
func (p *pbxProcess) restart(gap time.Duration) {
	p.tb.t.Helper()
	p.stop()
	time.Sleep(gap)
	p.start(strings.TrimPrefix(p.url, "http://"))
}

// TestFeedGivesUp: the PBX goes away for longer than maxWSRetryTime; the
// error callback gets the final errno and the feed stops itself, so it does
// not come back with the PBX.
func TestFeedGivesUp(t *testing.T) {
	tb := newSession(t, testDeadline)
	pbx := startOwnPBX(tb)
	tb.navigate(addPage("feed-gives-up", feedJS+fmt.Sprintf("IPCortex.PBX.Auth.setHost(%q);", pbx.url)))
	tb.login("alice", "wonderland")
	if o := tb.call("return IPCortex.PBX.startFeed(feedUp, feedErr, {maxWSRetryTime: 2})", false); o.State != "resolved" {
		tb.fatalf("startFeed: %s", o)
	}
	pbx.stop()
	tb.waitFor("F.events.some(function (e) { return e.kind === 'err' && /gave up/.test(e.text); })", "the feed to give up")
	evs := tb.feedEvents()
	last := evs[len(evs)-1]
	if last.Errno != 92 || !strings.Contains(last.Text, "gave up") {
		tb.errorf("the final error: want errno 92 saying it gave up, got %+v", last)
	}
	n := len(evs)
	pbx.start(strings.TrimPrefix(pbx.url, "http://"))
	time.Sleep(3 * time.Second) // long enough for a feed that had not stopped to come back
	if evs := tb.feedEvents(); len(evs) != n {
		tb.errorf("after giving up the feed must stay stopped; it went on: %+v", evs[n:])
	}
}

// TestFeedSurvivesARestart: the PBX restarts (keeping its logins in its
// -state file); the feed reconnects by itself and the page is still logged
// in. A restart into another version is reported with errno 100.
func TestFeedSurvivesARestart(t *testing.T) {
	tb := newSession(t, testDeadline)
	state := t.TempDir() + "/pbx-state.json"
	pbx := startOwnPBX(tb, "-state", state, "-server-version", "v1")
	tb.navigate(addPage("feed-restart", feedJS+fmt.Sprintf("IPCortex.PBX.Auth.setHost(%q);", pbx.url)))
	tb.login("alice", "wonderland")
	if o := tb.call("return IPCortex.PBX.startFeed(feedUp, feedErr)", false); o.State != "resolved" {
		tb.fatalf("startFeed: %s", o)
	}

	pbx.restart(300 * time.Millisecond)
	tb.waitFor("F.ups >= 2", "the feed to reconnect after the restart")
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("after the restart: want still logged in as alice, got %s", o)
	}
	for _, e := range tb.feedEvents() {
		if e.Kind == "err" && e.Errno != 92 {
			tb.errorf("a restart is a drop (92) and nothing worse, got %+v", e)
		}
	}

	pbx.args = []string{"-state", state, "-server-version", "v2", "-ping-key", env.pingKey}
	pbx.restart(0)
	tb.waitFor("F.events.some(function (e) { return e.errno === 100; })", "errno 100 after a restart into another version")
	tb.waitFor("F.ups >= 3", "the feed to keep running after the version change")
}
