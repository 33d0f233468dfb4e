package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// hostCases are strings pages pass to setHost. want is "ok" (accepted), "bad"
// (refused with bad_option) or "" (either, as long as it is the same before
// and after the module is ready).
var hostCases = []struct{ host, want string }{
	{"https://pbx.example.com", "ok"},
	{"http://pbx.example.com", "ok"},
	{"pbx.example.com", "ok"},
	{"pbx.example.com:8443", "ok"},
	{"http://127.0.0.1:8080/", "ok"},
	{"https://[::1]:8443", "ok"},
	{"[::1]:8080", "ok"},
	{"HTTPS://PBX.Example.COM", "ok"},
	{"http://localhost:1", "ok"},
	{"https://1.2.3.4:65535", "ok"},
	{"ftp://x", "bad"},
	{"https://pbx:+80", "bad"},
	{"https://pbx/path", "bad"},
	{"", "bad"},
	{"   ", "bad"},
	{"https://user@pbx", "bad"},
	{"https://pbx:0", "bad"},
	{"https://pbx:65536", "bad"},
	{"https://pbx:08443", "bad"},
	{"https://pbx:", "bad"},
	{"https://pbx?x=1", "bad"},
	{"https://pbx#frag", "bad"},
	{"[::1", "bad"},
	{"http://[::1]x", "bad"},
	{"https://-pbx", "bad"},
	{"wss://pbx.example.com", "bad"},
	{"https://pbx.example.com//", "bad"},
	{"https://pbx.example.com.", ""},
	{"https://pbx_1.example.com", ""},
	{"https://bücher.example", ""},
	{" https://pbx.example.com", ""},
	{"https://[1:2]", ""},
}

// The loader checks setHost's argument itself before the module is ready, and
// the module after: two implementations of one rule. Beside the table above,
// they are compared on strings built at random (with a fixed seed) from the
// pieces that tell valid hosts from invalid ones.
func init() {
	pick := func(r *rand.Rand, xs ...string) string { return xs[r.Intn(len(xs))] }
	r := rand.New(rand.NewSource(20261123))
	for i := 0; i < 400; i++ {
		host := pick(r, "https://", "http://", "", "", "HTTP://", "wss://", "ftp://", "https:/", "//", " https://", "https://https://") +
			pick(r, "pbx", "pbx.example.com", "127.0.0.1", "[::1]", "[2001:db8::1]", "[::ffff:1.2.3.4]", "-a", "a-", "a..b",
				"xn--bcher-kva.example", "bücher.example", "a_b", "", "1.2.3.4.5", "[::1", "[zz::1]", "[1:2]", "[]", ".",
				strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("ab.", 84)+"c", strings.Repeat("ab.", 85)+"c") +
			pick(r, "", "", ":1", ":80", ":65535", ":65536", ":0", ":08", ":+8", ":", ":8a", ":99999999999999999999", "::80", ":-1") +
			pick(r, "", "", "", "/", "//", "/x", "?q", "#f", " ", "@h", "\\", "\t", "\u00a0", "\ufeff")
		hostCases = append(hostCases, struct{ host, want string }{host, ""})
	}
}

// hostsJSON is the hosts as a JS array literal.
func hostsJSON() string {
	hosts := make([]string, len(hostCases))
	for i, c := range hostCases {
		hosts[i] = c.host
	}
	b, _ := json.Marshal(hosts)
	return string(b)
}

// wantBadOption checks that o is an Error (a TypeError if typeErr) with the
// code bad_option, thrown or rejected as state says.
func wantBadOption(tb *tab, what string, o outcome, state string, typeErr bool) {
	tb.t.Helper()
	wantErrCode(tb, what, o, state, "bad_option")
	if typeErr && o.ErrName != "TypeError" {
		tb.errorf("%s: want a TypeError, got %s", what, o)
	}
}

// wantErrCode checks that o is an Error with the string code, thrown or
// rejected as state says.
func wantErrCode(tb *tab, what string, o outcome, state, code string) {
	tb.t.Helper()
	if o.State != state || !o.IsError || o.CodeType != "string" || o.Code != code || o.Message == "" {
		tb.errorf("%s: want %s with an Error whose code is %q and with a message, got %s", what, state, code, o)
	}
}

// TestLoading loads a vendor page that calls the API on the lines right after
// the script tag, before the module can be ready, and then again once it is.
func TestLoading(t *testing.T) {
	tb := newSession(t, testDeadline)
	url := addPage("loading", `
var early = {};
early.defined = T.sync('defined', function () {
  var A = IPCortex.PBX.Auth, m = ['login', 'logout', 'exit', 'rtcReset', 'rtcreset', 'setCompany', 'selcompany',
    'getSubID', 'setHost', 'setWSHost', 'getUserInfo'];
  return m.filter(function (n) { return typeof A[n] !== 'function'; }).join(',') || 'all';
});
T.sync('propsEarly', function () { var A = IPCortex.PBX.Auth; return [A.id, A.uname, A.name, A.company]; });
T.sync('setHost', function () { return IPCortex.PBX.Auth.setHost('{{PBX}}'); });
T.sync('subid', function () { return IPCortex.PBX.Auth.getSubID(); });
T.sync('subid2', function () { return IPCortex.PBX.Auth.getSubID(); });
T.sync('info', function () { return IPCortex.PBX.Auth.getUserInfo(); });
T.sync('ftp', function () { return IPCortex.PBX.Auth.setHost('ftp://x'); });
T.sync('setHost5', function () { return IPCortex.PBX.Auth.setHost(5); });
window.hostsEarly = `+hostsJSON()+`.map(function (h) {
  return T.sync('host', function () { return IPCortex.PBX.Auth.setHost(h); });
});
T.sync('restore', function () { return IPCortex.PBX.Auth.setHost('{{PBX}}'); });
T.rec('login', function () { return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'}); });
T.rec('loginCb', function (cb) { return IPCortex.PBX.Auth.login(cb, {username: 'alice', password: 'wonderland'}); }, true);
T.rec('loginBad', function (cb) { return IPCortex.PBX.Auth.login({username: 'alice', password: 'wrong'}, cb); }, true);
`)
	tb.navigate(url)

	// What the page saw at once, before the module was ready.
	early := func(name string) outcome { return evalIn[outcome](tb, fmt.Sprintf("T.results[%q]", name)) }
	if o := early("defined"); o.State != "returned" || o.Value != "all" {
		tb.errorf("IPCortex.PBX.Auth right after the script tag: want every method defined, got %s", o)
	}
	if o := early("propsEarly"); o.State != "returned" || fmt.Sprint(o.Value) != "[<nil> <nil> <nil> <nil>]" {
		tb.errorf("id, uname, name, company before ready: want all null, got %s", o)
	}
	if o := early("setHost"); o.State != "returned" {
		tb.errorf("setHost(PBX) before ready: %s", o)
	}
	sub := early("subid")
	if sub.State != "returned" || sub.ValueType != "string" || sub.Value == "" {
		tb.errorf("getSubID() before ready: want a string, got %s", sub)
	}
	if o := early("subid2"); o.Value != sub.Value {
		tb.errorf("getSubID() twice before ready: %v then %v", sub.Value, o.Value)
	}
	if o := early("info"); o.State != "returned" || !loggedOutInfo(o.Value) {
		tb.errorf("getUserInfo() before ready: want {id:null, login:null, name:null, company:null, home:null, perms:{}}, got %s", o)
	}
	wantBadOption(tb, "setHost('ftp://x') before ready", early("ftp"), "threw", false)
	wantBadOption(tb, "setHost(5) before ready", early("setHost5"), "threw", true)
	hostsEarly := evalIn[[]outcome](tb, "window.hostsEarly")

	// The queued logins ran once the module was ready.
	login := tb.result("login")
	if login.State != "resolved" || login.ValueType != "undefined" || !idIs(login.Props, 101) || login.Props.Uname != "alice" {
		tb.errorf("login({username, password}) queued before ready: want resolved with undefined and id 101, got %s", login)
	}
	cb := tb.result("loginCb")
	if cb.State != "resolved" || len(cb.CB) != 1 || len(cb.CB[0]) < 1 || cb.CB[0][0] != true {
		tb.errorf("login(cb, options) queued before ready: want the callback called once with true and the Promise resolved, got %s", cb)
	}
	bad := tb.result("loginBad")
	wantErrCode(tb, "login({wrong password}, cb) queued before ready", bad, "rejected", "auth_failed")
	if len(bad.CB) != 1 || len(bad.CB[0]) < 2 || bad.CB[0][0] != false || bad.CB[0][1] == "" {
		tb.errorf("login({wrong password}, cb) queued before ready: want cb(false, message) once, got %s", bad)
	}

	// Now the module is ready: the same calls answer the same way.
	if o := tb.call("return IPCortex.PBX.Auth.getSubID()", false); o.State != "returned" || o.Value != sub.Value {
		tb.errorf("getSubID() after ready: want %v as before ready, got %s", sub.Value, o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.getUserInfo()", false); o.State != "returned" || !idIs(props{ID: field(o.Value, "id"), IDType: "number"}, 101) {
		tb.errorf("getUserInfo() after the login: want id 101, got %s", o)
	}
	wantBadOption(tb, "setHost('ftp://x') after ready", tb.call("return IPCortex.PBX.Auth.setHost('ftp://x')", false), "threw", false)
	wantBadOption(tb, "setHost(5) after ready", tb.call("return IPCortex.PBX.Auth.setHost(5)", false), "threw", true)

	hostsLate := evalIn[[]outcome](tb, `(function () {
  var out = `+hostsJSON()+`.map(function (h) {
    return T.sync('host', function () { return IPCortex.PBX.Auth.setHost(h); });
  });
  IPCortex.PBX.Auth.setHost('`+env.pbx+`');
  return out;
})()`)
	if len(hostsEarly) != len(hostCases) || len(hostsLate) != len(hostCases) {
		tb.fatalf("host table: got %d answers before ready and %d after, want %d", len(hostsEarly), len(hostsLate), len(hostCases))
	}
	for i, c := range hostCases {
		t.Run(fmt.Sprintf("setHost(%q)", c.host), func(t *testing.T) {
			e, l := hostsEarly[i], hostsLate[i]
			if e.State != l.State || e.ErrName != l.ErrName || e.Code != l.Code || e.ValueType != l.ValueType {
				t.Errorf("before ready: %s\nafter ready: %s", e, l)
			}
			for when, o := range map[string]outcome{"before ready": e, "after ready": l} {
				switch {
				case o.State == "threw" && (!o.IsError || o.Code != "bad_option"):
					t.Errorf("%s: refused without an Error with code bad_option: %s", when, o)
				case o.State != "threw" && o.State != "returned":
					t.Errorf("%s: %s", when, o)
				case c.want == "ok" && o.State != "returned":
					t.Errorf("%s: want accepted, got %s", when, o)
				case c.want == "bad" && o.State != "threw":
					t.Errorf("%s: want refused with bad_option, got %s", when, o)
				}
			}
		})
	}

	// The right host is back: calls reach the PBX.
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("login({checkonly: true}) after restoring the host: want resolved with id 101, got %s", o)
	}
}

// loggedOutInfo reports whether v is getUserInfo()'s logged-out shape.
func loggedOutInfo(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 6 {
		return false
	}
	for _, k := range []string{"id", "login", "name", "company", "home"} {
		if x, ok := m[k]; !ok || x != nil {
			return false
		}
	}
	p, ok := m["perms"].(map[string]any)
	return ok && len(p) == 0
}

func field(v any, name string) any {
	if m, ok := v.(map[string]any); ok {
		return m[name]
	}
	return nil
}

// TestWrapper loads the module through the vendor's wrapper scripts, which
// call a global onAPILoadReady once the API is ready.
func TestWrapper(t *testing.T) {
	for _, path := range []string{"/api/wrapper.whtm", "/api/wrapper_kphone.whtm"} {
		t.Run(path, func(t *testing.T) {
			tb := newSession(t, testDeadline)
			head := `
window.readyCount = 0;
window.authAtReady = null;
function onAPILoadReady() {
  window.readyCount++;
  window.authAtReady = typeof (window.IPCortex && IPCortex.PBX && IPCortex.PBX.Auth && IPCortex.PBX.Auth.login);
  T.sync('setHost', function () { return IPCortex.PBX.Auth.setHost('{{PBX}}'); });
  T.rec('login', function () { return IPCortex.PBX.Auth.login({username: 'bob', password: 'builder'}); });
}`
			tb.navigate(env.pages.add("wrapper", vendorPage("wrapper", path, head, "")))
			tb.waitFor("window.readyCount > 0", "onAPILoadReady to be called by "+path)
			login := tb.result("login")
			if login.State != "resolved" || !idIs(login.Props, 102) || login.Props.Uname != "bob" {
				tb.errorf("login from onAPILoadReady: want resolved with id 102, got %s", login)
			}
			if o := evalIn[outcome](tb, "T.results.setHost"); o.State != "returned" {
				tb.errorf("setHost from onAPILoadReady: %s", o)
			}
			if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 102) {
				tb.errorf("login({checkonly: true}) after: want id 102, got %s", o)
			}
			if n := evalIn[int](tb, "window.readyCount"); n != 1 {
				tb.errorf("onAPILoadReady was called %d times, want exactly once", n)
			}
			if a := evalIn[string](tb, "String(window.authAtReady)"); a != "function" {
				tb.errorf("IPCortex.PBX.Auth.login inside onAPILoadReady: typeof is %s", a)
			}
		})
	}
}
