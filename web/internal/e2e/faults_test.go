package e2e

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFaults points a page at hosts that fail the way real ones do: one that
// is down and one that is not a PBX. Each call ends promptly with the code
// that says what happened, and the page can then go back to the real PBX.
func TestFaults(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close() // nothing listens there now

	// A web server that is not a PBX, but lets the page read its answers.
	notPBX := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		if r.Method == http.MethodOptions {
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<html>Internal Server Error</html>"))
	}))
	defer notPBX.Close()

	tb := newSession(t, testDeadline)
	tb.navigate(addPage("faults", `IPCortex.PBX.Auth.setHost('{{PBX}}');`))
	tb.waitFor("IPCortex.PBX.Auth.getUserInfo && T.props().defined", "the page")

	for _, c := range []struct{ name, host, code string }{
		{"down", down, "network"},
		{"not a PBX", notPBX.URL, "server"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := tb.on(t)
			o := st.call("IPCortex.PBX.Auth.setHost('"+c.host+"'); return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'})", false)
			wantErrCode(st, "login against a host that is "+c.name, o, "rejected", c.code)
			if o.Props.IDType != "null" {
				st.errorf("after the failed login: want id === null, got %s", o)
			}
		})
	}
	o := tb.call("IPCortex.PBX.Auth.setHost('{{PBX}}'); return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'})", false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("login against the real PBX after the faults: want alice (101), got %s", o)
	}
}
