package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestPing: the same page logs in to a Ping PBX, chosen by one option, with
// a username and password and with a JWT, reads the same properties, and
// logs out; what Ping cannot do is bad_option.
func TestPing(t *testing.T) {
	tb := newSession(t, testDeadline)
	page := strings.Replace(addPage("ping", `IPCortex.PBX.Auth.setHost('{{PBX}}', {backend: 'ping'});`), "127.0.0.1", "localhost", 1)
	tb.navigate(page)
	o := tb.call("return IPCortex.PBX.Auth.login({username: '41', password: 'builder'})", false)
	if o.State != "resolved" || !idIs(o.Props, 41) || o.Props.Uname != "41" || o.Props.Name != "Bob Builder" || o.Props.Company != "default" {
		tb.fatalf("Ping login with Basic credentials, from another site: want id 41, uname 41, Bob Builder, company default; got %s", o)
	}
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 41) {
		tb.errorf("Ping checkonly: %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.rtcReset(true)", false)
	wantErrCode(tb, "rtcReset on Ping", o, "rejected", "bad_option")
	if o := tb.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" || o.Props.IDType != "null" {
		tb.fatalf("Ping logout: %s", o)
	}
	if o := tb.checkonly(); o.State != "rejected" {
		tb.errorf("Ping checkonly after logout: %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.login({username: '41', password: 'wrong'})", false)
	wantErrCode(tb, "Ping login with a wrong password", o, "rejected", "auth_failed")

	jwt := mintPingToken(tb, "carol")
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({tokens: [%q]})", jwt), false)
	if o.State != "resolved" || !idIs(o.Props, 42) || o.Props.Company != "acme" {
		tb.fatalf("Ping login with a JWT: want carol (42, acme), got %s", o)
	}
	if o := tb.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" || o.Props.IDType != "null" {
		tb.fatalf("Ping logout of a JWT login: %s", o)
	}
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({tokens: [%q]})", jwt[:len(jwt)-2]+"xx"), false)
	wantErrCode(tb, "Ping login with a forged JWT", o, "rejected", "auth_failed")
	tb.noSecretsLeaked("builder")
}

// TestVodia: the integrator's server gets a temporary id with the admin's
// credentials; the page turns it into a session with login({tokens: [id]}).
func TestVodia(t *testing.T) {
	tb := newSession(t, testDeadline)
	page := strings.Replace(addPage("vodia", `IPCortex.PBX.Auth.setHost('{{PBX}}', {backend: 'vodia'});`), "127.0.0.1", "localhost", 1)
	tb.navigate(page)
	id := vodiaTemporaryID(tb, `{"name":"3rd","username":"40","domain":"default"}`)
	o := tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({tokens: [%q]})", id), false)
	if o.State != "resolved" || !idIs(o.Props, 40) || o.Props.Uname != "40" || o.Props.Company != "default" {
		tb.fatalf("Vodia login with a temporary id, from another site: want id 40, uname 40, company default; got %s", o)
	}
	if o := tb.checkonly(); o.State != "resolved" || !idIs(o.Props, 40) {
		tb.errorf("Vodia checkonly: %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.setCompany('acme')", false)
	wantErrCode(tb, "setCompany on Vodia", o, "rejected", "bad_option")
	if o := tb.call("return IPCortex.PBX.Auth.logout()", false); o.State != "resolved" || o.Props.IDType != "null" {
		tb.fatalf("Vodia logout: %s", o)
	}
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({tokens: [%q]})", id), false)
	wantErrCode(tb, "a Vodia temporary id used twice", o, "rejected", "auth_failed")

	domain := vodiaTemporaryID(tb, `{"name":"3rd","domain":"default"}`)
	o = tb.call(fmt.Sprintf("return IPCortex.PBX.Auth.login({tokens: [%q]})", domain), false)
	if o.State != "resolved" || o.Props.Company != "default" {
		tb.errorf("Vodia login to a domain: %s", o)
	}
}

// mintPingToken runs the server's documented token command.
func mintPingToken(tb *tab, login string) string {
	tb.t.Helper()
	out, err := exec.Command(env.bin, "token", "-user", login, "-ping-key", env.pingKey).Output()
	if err != nil {
		tb.fatalf("minting a Ping JWT with %s token -user %s: %v", env.bin, login, err)
	}
	return strings.TrimSpace(string(out))
}

// vodiaTemporaryID asks the PBX for a temporary session id as an
// integrator's server does, with the demo admin's credentials.
func vodiaTemporaryID(tb *tab, body string) string {
	tb.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, env.pbx+"/rest/system/session", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "vodia-demo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.fatalf("asking Vodia for a temporary id: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var id string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &id) != nil || id == "" {
		tb.fatalf("asking Vodia for a temporary id: %s %s", resp.Status, b)
	}
	return id
}
