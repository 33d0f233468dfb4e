package e2e

import (
	"fmt"
	"testing"
)

// subIDPage is a vendor page that takes a sub-ID for its tab and logs in on
// the lines right after the script tag.
func subIDPage(user, pass string) string {
	return addPage("subid-"+user, fmt.Sprintf(`
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.sync('subid', function () { return IPCortex.PBX.Auth.getSubID(); });
T.rec('login', function () { return IPCortex.PBX.Auth.login({username: %q, password: %q}); });
`, user, pass))
}

// TestTabs runs two tabs of one browser (one cookie jar): with their own
// sub-IDs they hold two logins at once; without, they share one.
func TestTabs(t *testing.T) {
	t.Run("sub-IDs keep separate logins", func(t *testing.T) {
		a := newSession(t, testDeadline)
		b := a.newTab("B")
		a.navigate(subIDPage("alice", "wonderland"))
		b.navigate(subIDPage("bob", "builder"))

		subA := evalIn[outcome](a, "T.results.subid")
		subB := evalIn[outcome](b, "T.results.subid")
		if subA.ValueType != "string" || subB.ValueType != "string" || subA.Value == "" || subA.Value == subB.Value {
			t.Fatalf("getSubID() in the two tabs: want two different strings, got %s and %s", subA, subB)
		}
		if o := a.result("login"); o.State != "resolved" {
			a.fatalf("login as alice under sub-ID %v: %s", subA.Value, o)
		}
		if o := b.result("login"); o.State != "resolved" {
			b.fatalf("login as bob under sub-ID %v: %s", subB.Value, o)
		}

		// Both logged in: each tab keeps its own user.
		if p := evalIn[props](a, "T.props()"); !idIs(p, 101) || p.Uname != "alice" {
			a.errorf("tab A after both logins: want id 101 (alice), got %+v", p)
		}
		if p := evalIn[props](b, "T.props()"); !idIs(p, 102) || p.Uname != "bob" {
			b.errorf("tab B after both logins: want id 102 (bob), got %+v", p)
		}
		// And so does the server: a check asks it again.
		if o := a.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
			a.errorf("login({checkonly: true}) in tab A: want alice (101), got %s", o)
		}
		if o := b.checkonly(); o.State != "resolved" || !idIs(o.Props, 102) {
			b.errorf("login({checkonly: true}) in tab B: want bob (102), got %s", o)
		}

		// A reload keeps the tab's sub-ID, and so its login.
		a.navigate(addPage("subid-reload", `
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.sync('subid', function () { return IPCortex.PBX.Auth.getSubID(); });
T.rec('check', function () { return IPCortex.PBX.Auth.login({checkonly: true}); });
`))
		if o := evalIn[outcome](a, "T.results.subid"); o.Value != subA.Value {
			a.errorf("getSubID() after a reload of tab A: want %v, got %s", subA.Value, o)
		}
		if o := a.result("check"); o.State != "resolved" || !idIs(o.Props, 101) {
			a.errorf("login({checkonly: true}) after a reload of tab A: want alice (101), got %s", o)
		}
		if o := b.checkonly(); o.State != "resolved" || !idIs(o.Props, 102) {
			b.errorf("login({checkonly: true}) in tab B after tab A reloaded: want bob (102), got %s", o)
		}
	})

	t.Run("without sub-IDs tabs share one login", func(t *testing.T) {
		a := newSession(t, testDeadline)
		b := a.newTab("B")
		page := addPage("shared", `IPCortex.PBX.Auth.setHost('{{PBX}}');`)
		a.navigate(page)
		b.navigate(page)

		if o := b.checkonly(); o.State != "rejected" || o.Code != "login_required" {
			b.fatalf("login({checkonly: true}) in tab B before any login: want rejected with login_required, got %s", o)
		}
		a.login("alice", "wonderland")
		if o := b.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) || o.Props.Uname != "alice" {
			b.errorf("login({checkonly: true}) in tab B after tab A logged in: want resolved with alice (101), got %s", o)
		}
		if o := a.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" || o.Props.IDType != "null" {
			a.fatalf("logout() in tab A: %s", o)
		}
		o := b.checkonly()
		wantErrCode(b, "login({checkonly: true}) in tab B after tab A logged out", o, "rejected", "login_required")
		if o.Props.IDType != "null" {
			b.errorf("tab B after its check: want IPCortex.PBX.Auth.id === null, got %s", o)
		}
	})

	t.Run("a copied tab gets a sub-ID of its own", func(t *testing.T) {
		a := newSession(t, testDeadline)
		a.navigate(subIDPage("alice", "wonderland"))
		subA := evalIn[outcome](a, "T.results.subid")
		if o := a.result("login"); o.State != "resolved" {
			a.fatalf("login as alice: %s", o)
		}

		// A duplicated tab, or one opened with window.open, starts with a copy
		// of its opener's sessionStorage: tab B starts with tab A's sub-ID.
		b := a.newTab("B")
		head := fmt.Sprintf("sessionStorage.setItem('IPCortex.PBX.Auth.subid', %q);", subA.Value)
		b.navigate(env.pages.add("copied-tab", vendorPage("copied-tab", "/api/api.js", head, `
IPCortex.PBX.Auth.setHost('{{PBX}}');
T.sync('subid', function () { return IPCortex.PBX.Auth.getSubID(); });
`)))
		b.waitFor(fmt.Sprintf("IPCortex.PBX.Auth.getSubID() !== %q", subA.Value), "tab B to take a sub-ID of its own")
		b.login("bob", "builder")

		if o := a.checkonly(); o.State != "resolved" || !idIs(o.Props, 101) {
			a.errorf("login({checkonly: true}) in tab A after its copy logged in as bob: want alice (101), got %s", o)
		}
		if o := b.checkonly(); o.State != "resolved" || !idIs(o.Props, 102) {
			b.errorf("login({checkonly: true}) in the copied tab: want bob (102), got %s", o)
		}
		if got := evalIn[string](a, "IPCortex.PBX.Auth.getSubID()"); got != subA.Value {
			a.errorf("tab A's sub-ID changed from %v to %v; only the copy should change", subA.Value, got)
		}
	})
}
