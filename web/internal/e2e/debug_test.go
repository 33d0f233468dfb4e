package e2e

import (
	"strings"
	"testing"
)

// TestDebugSwitch: with IPCortex.PBX.Auth.debug a function, every step of
// every flow is logged to it, and with true to the console, yet neither
// ever shows a password, token, API key, session id or phone password.
func TestDebugSwitch(t *testing.T) {
	tb := newSession(t, testDeadline)
	tb.navigate(addPage("debug", `
IPCortex.PBX.Auth.setHost('{{PBX}}');
window.logs = [];
IPCortex.PBX.Auth.debug = function (m) { logs.push(String(m)); };
window.secrets = [];
`))
	steps := []string{
		"return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland', tokenCB: function (t) { secrets.push.apply(secrets, Object.keys(t)); }})",
		"return IPCortex.PBX.Auth.login({checkonly: true})",
		"return IPCortex.PBX.Auth.setCompany('acme')",
		"return IPCortex.PBX.Auth.rtcReset(true).then(function (pw) { secrets.push(pw); })",
		"return IPCortex.PBX.startFeed()",
		"return IPCortex.PBX.Auth.login({username: 'alice', password: 'not-this-one'}).catch(function () {})",
		"IPCortex.PBX.Auth.debug = true; return IPCortex.PBX.Auth.login({checkonly: true})",
		`[sessionStorage, localStorage].forEach(function (st) {
		   Object.keys(st).forEach(function (k) { if (/session|token/.test(k)) secrets.push(st.getItem(k)); });
		 }); return null`,
		"IPCortex.PBX.Auth.debug = function (m) { logs.push(String(m)); }; return IPCortex.PBX.Auth.exit({logout: true})",
	}
	for _, s := range steps {
		if o := tb.call(s, false); o.State == "rejected" || o.State == "threw" {
			tb.fatalf("%s: %s", s, o)
		}
	}
	// What the page's storage held on the way counts as secret too.
	logs := evalIn[[]string](tb, "logs")
	secrets := append(evalIn[[]string](tb, "secrets"), "wonderland", "not-this-one", "demo-key-alice-6f1c2a9e")
	joined := strings.Join(logs, "\n")
	for _, want := range []string{"login: with username", "POST /rest/auth/: HTTP 200", "properties are now", "setCompany", "rtcReset", "feed: up", "exit with logout", "cleared"} {
		if !strings.Contains(joined, want) {
			tb.errorf("the debug log lacks %q; it has:\n%s", want, joined)
		}
	}
	if len(secrets) < 6 {
		tb.fatalf("the page collected too few secrets to check against: %d", len(secrets))
	}
	tb.mu.Lock()
	console := strings.Join(tb.console, "\n")
	tb.mu.Unlock()
	if !strings.Contains(console, "login: check only") {
		tb.errorf("with debug = true the steps go to the console; it has:\n%s", console)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(joined, s) || strings.Contains(console, s) {
			tb.errorf("a secret (%d chars) is in the debug output", len(s))
		}
	}
	tb.noSecretsLeaked("wonderland", "not-this-one")
}
