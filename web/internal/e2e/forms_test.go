package e2e

import (
	"testing"
)

// A step of TestCallForms: the state to start from, the call (the body of
// function (cb) { ... }, with A bound to IPCortex.PBX.Auth) and what it must
// do.
type formStep struct {
	name   string
	pre    string // "out": logged out first; "alice"/"bob": logged in as; "": as the step before left it
	call   string
	wantCb bool
	check  func(tb *tab, o outcome)
}

// Checks used by the steps.

func resolvedAs(id float64, uname string) func(*tab, outcome) {
	return func(tb *tab, o outcome) {
		tb.t.Helper()
		if o.State != "resolved" || !idIs(o.Props, id) || o.Props.Uname != uname {
			tb.errorf("want resolved with IPCortex.PBX.Auth.id === %v (a Number) and uname %q, got %s", id, uname, o)
		}
	}
}

func resolvedOut(tb *tab, o outcome) {
	tb.t.Helper()
	if o.State != "resolved" || o.Props.IDType != "null" {
		tb.errorf("want resolved and IPCortex.PBX.Auth.id === null, got %s", o)
	}
}

func rejectedWith(code string, loggedOut bool) func(*tab, outcome) {
	return func(tb *tab, o outcome) {
		tb.t.Helper()
		wantErrCode(tb, "the call", o, "rejected", code)
		if loggedOut && o.Props.IDType != "null" {
			tb.errorf("want IPCortex.PBX.Auth.id === null after it, got %s", o)
		}
	}
}

func badType(state string) func(*tab, outcome) {
	return func(tb *tab, o outcome) {
		tb.t.Helper()
		wantBadOption(tb, "wrong argument type", o, state, true)
	}
}

// callback checks that the callback was called exactly once with (ok, message).
func callback(ok bool, then func(*tab, outcome)) func(*tab, outcome) {
	return func(tb *tab, o outcome) {
		tb.t.Helper()
		if len(o.CB) != 1 || len(o.CB[0]) < 1 || o.CB[0][0] != ok {
			tb.errorf("want the callback called once with %t first, got %s", ok, o)
		} else if len(o.CB[0]) > 1 {
			if msg, isStr := o.CB[0][1].(string); !isStr || (!ok && msg == "") {
				tb.errorf("want the callback's message a string (non-empty on failure), got %s", o)
			}
		}
		if then != nil {
			then(tb, o)
		}
	}
}

func userInfoOf(login string, id float64, company, home string) func(*tab, outcome) {
	return func(tb *tab, o outcome) {
		tb.t.Helper()
		m, ok := o.Value.(map[string]any)
		if o.State != "returned" || !ok {
			tb.errorf("getUserInfo(): want an object, got %s", o)
			return
		}
		if f, _ := m["id"].(float64); f != id || m["login"] != login || m["company"] != company || m["home"] != home {
			tb.errorf("getUserInfo(): want id %v login %q company %q home %q, got %v", id, login, company, home, m)
		}
		if name, _ := m["name"].(string); name == "" {
			tb.errorf("getUserInfo(): want a name, got %v", m)
		}
		perms, ok := m["perms"].(map[string]any)
		if !ok || len(perms) == 0 {
			tb.errorf("getUserInfo(): want perms, an object of permission names, got %v", m["perms"])
		}
		for k, v := range perms {
			if v != "yes" && v != "company" {
				tb.errorf("getUserInfo(): perms[%q] = %v, want \"yes\" or \"company\"", k, v)
			}
		}
	}
}

var formSteps = []formStep{
	{"login(options) Promise", "out", `return A.login({username: 'alice', password: 'wonderland'})`, false, func(tb *tab, o outcome) {
		resolvedAs(101, "alice")(tb, o)
		if o.ValueType != "undefined" || !o.IsNativePromise {
			tb.errorf("want a Promise that resolves with undefined, got %s", o)
		}
		if name, _ := o.Props.Name.(string); name == "" || o.Props.Company != "default" {
			tb.errorf("want name set and company \"default\", got %s", o)
		}
	}},
	{"login(options, cb)", "out", `return A.login({username: 'alice', password: 'wonderland'}, cb)`, true, callback(true, resolvedAs(101, "alice"))},
	{"login(cb, options)", "out", `return A.login(cb, {username: 'alice', password: 'wonderland'})`, true, callback(true, resolvedAs(101, "alice"))},
	{"login(options) wrong password", "out", `return A.login({username: 'alice', password: 'wrong'})`, false, rejectedWith("auth_failed", true)},
	{"login(options, cb) wrong password", "out", `return A.login({username: 'alice', password: 'wrong'}, cb)`, true, callback(false, rejectedWith("auth_failed", true))},
	{"login(cb, options) wrong password", "out", `return A.login(cb, {username: 'alice', password: 'wrong'})`, true, callback(false, rejectedWith("auth_failed", true))},
	{"login(user, pass, insecure, cb)", "out", `return A.login('alice', 'wonderland', false, cb)`, true, callback(true, resolvedAs(101, "alice"))},
	{"login(user, wrong pass, insecure, cb)", "out", `return A.login('alice', 'nope', false, cb)`, true, callback(false, nil)},
	{"login(cb) logged in", "alice", `return A.login(cb)`, true, callback(true, resolvedAs(101, "alice"))},
	{"login(cb) logged out", "out", `return A.login(cb)`, true, callback(false, func(tb *tab, o outcome) {
		if o.State != "rejected" || o.Props.IDType != "null" {
			tb.errorf("want rejected and id null, got %s", o)
		}
	})},
	{"login({checkonly}) logged in", "alice", `return A.login({checkonly: true})`, false, resolvedAs(101, "alice")},
	{"login({checkonly}) logged out", "out", `return A.login({checkonly: true})`, false, rejectedWith("login_required", true)},
	{"logout()", "alice", `return A.logout()`, false, resolvedOut},
	{"checkonly after logout()", "", `return A.login({checkonly: true})`, false, rejectedWith("login_required", true)},
	{"logout(cb)", "alice", `return A.logout(cb)`, true, callback(true, resolvedOut)},
	{"exit({logout: true})", "alice", `return A.exit({logout: true})`, false, resolvedOut},
	{"checkonly after exit({logout: true})", "", `return A.login({checkonly: true})`, false, rejectedWith("login_required", true)},
	{"exit()", "alice", `return A.exit()`, false, func(tb *tab, o outcome) {
		if o.State != "resolved" {
			tb.errorf("want resolved, got %s", o)
		}
	}},
	{"checkonly after exit() keeps the session", "", `return A.login({checkonly: true})`, false, resolvedAs(101, "alice")},
	{"getUserInfo() logged in", "alice", `return A.getUserInfo()`, false, userInfoOf("alice", 101, "default", "default")},
	{"getUserInfo() logged out", "out", `return A.getUserInfo()`, false, func(tb *tab, o outcome) {
		if o.State != "returned" || !loggedOutInfo(o.Value) {
			tb.errorf("want the logged-out shape {id:null, login:null, name:null, company:null, home:null, perms:{}}, got %s", o)
		}
	}},
	{"setCompany('acme') alice", "alice", `return A.setCompany('acme')`, false, func(tb *tab, o outcome) {
		if o.State != "resolved" || o.Props.Company != "acme" || !idIs(o.Props, 101) {
			tb.errorf("want resolved, id 101 and company \"acme\", got %s", o)
		}
	}},
	{"getUserInfo() in acme", "", `return A.getUserInfo()`, false, userInfoOf("alice", 101, "acme", "default")},
	{"selcompany('default') alice", "", `return A.selcompany('default')`, false, func(tb *tab, o outcome) {
		if o.State != "resolved" || o.Props.Company != "default" {
			tb.errorf("want resolved and company \"default\", got %s", o)
		}
	}},
	{"selcompany('acme', cb) alice", "", `return A.selcompany('acme', cb)`, true, callback(true, func(tb *tab, o outcome) {
		if o.State != "resolved" || o.Props.Company != "acme" {
			tb.errorf("want resolved and company \"acme\", got %s", o)
		}
	})},
	{"setCompany('acme') bob", "bob", `return A.setCompany('acme')`, false, func(tb *tab, o outcome) {
		rejectedWith("forbidden", false)(tb, o)
		if !idIs(o.Props, 102) || o.Props.Company != "default" {
			tb.errorf("want bob still logged in, in company \"default\", got %s", o)
		}
	}},
	{"rtcReset(true)", "alice", `return A.rtcReset(true)`, false, func(tb *tab, o outcome) {
		if s, _ := o.Value.(string); o.State != "resolved" || o.ValueType != "string" || s == "" {
			tb.errorf("want resolved with a non-empty string, got %s", o)
		}
	}},
	{"rtcreset(false)", "", `return A.rtcreset(false)`, false, func(tb *tab, o outcome) {
		if o.State != "resolved" {
			tb.errorf("want resolved, got %s", o)
		}
	}},
	{"login(42)", "", `return A.login(42)`, false, badType("rejected")},
	{"login({checkonly: 'yes'})", "", `return A.login({checkonly: 'yes'})`, false, badType("rejected")},
	{"login({username: 1, password: 2})", "", `return A.login({username: 1, password: 2})`, false, badType("rejected")},
	{"setCompany(5)", "", `return A.setCompany(5)`, false, badType("rejected")},
	{"selcompany(5)", "", `return A.selcompany(5)`, false, badType("rejected")},
	{"setHost(5)", "", `return A.setHost(5)`, false, badType("threw")},
	{"setWSHost(5)", "", `return A.setWSHost(5)`, false, badType("threw")},
	{"rtcReset('x')", "", `return A.rtcReset('x')`, false, badType("rejected")},
	{"rtcreset('x')", "", `return A.rtcreset('x')`, false, badType("rejected")},
	{"exit(7)", "", `return A.exit(7)`, false, badType("rejected")},
	{"login(Proxy whose get throws)", "", `return A.login(new Proxy({}, {get: function () { throw new Error('trap get'); }}))`, false, badType("rejected")},
	{"login({get username() throws})", "", `return A.login({get username() { throw new Error('getter'); }, password: 'x'})`, false, badType("rejected")},
	{"login(revoked Proxy)", "", `var r = Proxy.revocable({}, {}); r.revoke(); return A.login(r.proxy)`, false, badType("rejected")},
	{"exit(Proxy whose get throws)", "", `return A.exit(new Proxy({}, {get: function () { throw new Error('trap get'); }}))`, false, badType("rejected")},
	{"exit(revoked Proxy)", "", `var r = Proxy.revocable({}, {}); r.revoke(); return A.exit(r.proxy)`, false, badType("rejected")},
	{"still logged in after the wrong types", "", `return A.login({checkonly: true})`, false, resolvedAs(101, "alice")},
}

// TestCallForms runs every call form pages use, once the module is ready,
// each from a known login state.
func TestCallForms(t *testing.T) {
	tb := newSession(t, 2*testDeadline)
	tb.navigate(addPage("forms", `
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.rec('first', function () { return IPCortex.PBX.Auth.login({checkonly: true}); });
`))
	// A fresh browser has no login: the queued check fails with login_required.
	wantErrCode(tb, "login({checkonly: true}) in a fresh browser", tb.result("first"), "rejected", "login_required")

	for _, s := range formSteps {
		hung := false
		t.Run(s.name, func(t *testing.T) {
			st := tb.on(t)
			switch s.pre {
			case "out":
				if o := st.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" {
					st.fatalf("logging out before the step: %s", o)
				}
			case "alice":
				st.login("alice", "wonderland")
			case "bob":
				st.login("bob", "builder")
			}
			o := st.call("var A = IPCortex.PBX.Auth; "+s.call, s.wantCb)
			t.Logf("%s -> %s", s.call, o)
			if o.TimedOut {
				hung = true
				st.fatalf("no answer within %s: %s", callDeadline, o)
			}
			s.check(st, o)
		})
		if hung {
			t.Fatalf("step %q hung; the later steps depend on it and are not run", s.name)
		}
	}
}
