package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/throttle"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// TestRateLimited: past the free failed logins of a name, the page's next
// login rejects with rate_limited and a message that says how long to wait,
// even with the right password; once the wait is over on the server's
// clock, the right password logs in. On a server of its own, so that the
// failures count against no other test.
func TestRateLimited(t *testing.T) {
	requireEnv(t)
	s := pbxtest.NewServer(t, pbxtest.WithConfig(func(c *pbx.Config) {
		c.Limits.UserFailures = throttle.Policy{Free: 2, First: time.Minute, Max: time.Hour, Forget: time.Hour}
	}))
	tb := openFaultPage(t, s, "rate-limited", "")
	for i := range 2 {
		o := tb.call("return IPCortex.PBX.Auth.login({username: 'bob', password: 'not-his'})", false)
		wantErrCode(tb, fmt.Sprintf("wrong password %d", i+1), o, "rejected", "auth_failed")
	}
	o := tb.call("return IPCortex.PBX.Auth.login({username: 'bob', password: 'not-his'})", false)
	wantErrCode(tb, "the third wrong password, past the two free", o, "rejected", "auth_failed")
	o = tb.call("return IPCortex.PBX.Auth.login({username: 'bob', password: 'builder'})", false)
	wantErrCode(tb, "the right password during the wait", o, "rejected", "rate_limited")
	if !strings.Contains(o.Message, "seconds") {
		tb.errorf("the rate_limited message should say how long to wait: %q", o.Message)
	}
	if o.Props.IDType != "null" {
		tb.errorf("refused: want no user, got %s", o)
	}
	o = tb.call("return IPCortex.PBX.Auth.login({username: 'alice', password: 'wonderland'})", false)
	if o.State != "resolved" || !idIs(o.Props, 101) {
		tb.errorf("another user is not held back by bob's failures: %s", o)
	}

	s.Advance(2 * time.Minute)
	o = tb.call("return IPCortex.PBX.Auth.login({username: 'bob', password: 'builder'})", false)
	if o.State != "resolved" || !idIs(o.Props, 102) {
		tb.errorf("after the wait: want bob (102) logged in, got %s", o)
	}
}
