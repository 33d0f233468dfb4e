package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestOnlyTheChosenHostGetsCredentials: a page logged in to the PBX that
// then points the module at another host (a server that records what it
// gets) sends that host none of the PBX's credentials: not the password,
// the session, the token, or a cookie, in any header or body, whatever the
// page calls there; back on the PBX, its login is still there.
func TestOnlyTheChosenHostGetsCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string // every request the other host got, headers and body
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var b strings.Builder
		b.WriteString(r.Method + " " + r.URL.String() + "\n")
		for k, vs := range r.Header {
			b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
		}
		b.Write(body)
		mu.Lock()
		seen = append(seen, b.String())
		mu.Unlock()
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
		if r.Method == http.MethodOptions {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"result":"fail","error":{"code":"login_required","message":"not logged in here"}}`)
	}))
	defer other.Close()
	// On another name than the PBX's: browsers send a host's cookies to
	// every port of it, so a server on another port of 127.0.0.1 would get
	// the PBX's HttpOnly cookie from the browser itself, whatever the module
	// does.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	tb := newSession(t, testDeadline)
	tb.navigate(addPage("chosen-host", `IPCortex.PBX.Auth.setHost('{{PBX}}');`))
	tb.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")
	tb.login("alice", "wonderland")
	// What the page keeps for the PBX (its token, the session's id) counts
	// as a secret, beside the password.
	secrets := evalIn[[]string](tb, `(function () {
  var out = [];
  [sessionStorage, localStorage].forEach(function (s) {
    for (var i = 0; i < s.length; i++) {
      var v = s.getItem(s.key(i)) || '';
      (v.match(/[A-Za-z0-9_\-]{16,}/g) || []).forEach(function (m) { out.push(m); });
    }
  });
  return out;
})()`)
	if len(secrets) == 0 {
		tb.fatalf("the page kept nothing for the PBX to check against (no token?)")
	}
	secrets = append(secrets, "wonderland")

	for _, call := range []string{
		"IPCortex.PBX.Auth.setHost('" + otherURL + "'); return IPCortex.PBX.Auth.login({checkonly: true})",
		"return IPCortex.PBX.Auth.login({nodom: true})",
		"return IPCortex.PBX.Auth.setCompany('acme')",
		"return IPCortex.PBX.Auth.logout()",
		"return IPCortex.PBX.Auth.exit({logout: true})",
	} {
		if o := tb.call(call, false); o.State != "rejected" && o.State != "resolved" {
			tb.errorf("%s: want it settled, got %s", call, o)
		}
	}
	mu.Lock()
	got := append([]string(nil), seen...)
	mu.Unlock()
	if len(got) == 0 {
		tb.fatalf("the other host got no request: the test checks nothing")
	}
	for _, req := range got {
		if strings.Contains(strings.ToLower(req), "\ncookie:") {
			tb.errorf("the other host got a cookie:\n%s", req)
		}
		for _, s := range secrets {
			if strings.Contains(req, s) {
				tb.errorf("the other host got a secret of the PBX's (%d chars):\n%s", len(s), req)
			}
		}
	}

	o := tb.call("IPCortex.PBX.Auth.setHost('{{PBX}}'); return IPCortex.PBX.Auth.login({checkonly: true})", false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("back on the PBX: want alice still logged in, got %s", o)
	}
}
