package pbx

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

// restarted returns a new server on e's clock, as after a restart, with the
// directory dir (nil: the demo users).
func (e *env) restarted(dir *users.Directory) *env {
	return newEnv(e.t, func(cfg *Config) {
		cfg.Now = e.clock.Now
		if dir != nil {
			cfg.Users = dir
		}
	})
}

// TestStateRoundTrip: what a server saves, a new one loads; what ended
// before the save is not in the file, and what ended while the server was
// down is dropped at the load.
func TestStateRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	file := filepath.Join(t.TempDir(), "state.json")
	alice := e.login("alice", "wonderland", "")
	require.Equal(t, http.StatusOK, alice.status, "body %s", alice.raw)
	guest := e.createExternal("Guest", true)
	g := e.doWith(servertest.Client(t, e.srv.Client()), loginReq(guest.Login, "x", ""))
	require.Equal(t, http.StatusOK, g.status, "body %s", g.raw)
	unused := e.createExternal("Unused", true) // deleted 15 minutes after its creation
	e.clock.Add(7 * time.Hour)
	bobReq := appLoginReq("bob", "builder", wire.TokenLongLogin)
	bobReq.query = subQuery("tab1")
	bob := e.doWith(e.srv.Client(), bobReq)
	require.Equal(t, http.StatusOK, bob.status, "body %s", bob.raw)
	bobSession := e.sessionOf(bob)

	require.NoError(t, e.server.SaveState(file))
	assert.Contains(t, e.log.String(), "state: saved to "+file+": 3 session(s), 3 login token(s), 1 external user(s)")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.Equal(t, float64(StateVersion), m["version"])
	assert.NotContains(t, m, "testClock", "no test clock")
	assert.Contains(t, string(raw), bobSession.ID)
	assert.NotContains(t, string(raw), unused.Login, "swept before the save")
	if runtime.GOOS != "windows" {
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
	left, err := filepath.Glob(file + ".*")
	require.NoError(t, err)
	assert.Empty(t, left, "no temporary file is left")

	e.clock.Add(2 * time.Hour) // down for two hours: alice's and the guest's sessions are 9 hours idle
	r := e.restarted(nil)
	require.NoError(t, r.server.LoadState(file))
	assert.Contains(t, r.log.String(), "state: restored from "+file+": 1 session(s), 3 login token(s), 1 external user(s); dropped 2 ")

	res := r.doWith(r.srv.Client(), withSession(checkReq("tab1"), bobSession.ID))
	require.Equal(t, http.StatusOK, res.status, "body %s", res.raw)
	assert.Equal(t, "bob", res.body.User.Login)
	got := r.sessionOf(bob)
	assert.Equal(t, bobSession.PhonePassword, got.PhonePassword)
	assert.Equal(t, bobSession.Token, got.Token)

	res = r.doWith(r.srv.Client(), withSession(checkReq(""), alice.body.User.Session))
	assert.Equal(t, wire.CodeLoginRequired, res.code(), "alice's session was 8 hours idle")
	res = r.doWith(r.srv.Client(), tokenLoginReq(alice.body.Token.Value, ""))
	require.Equal(t, http.StatusOK, res.status, "her token lives a day: body %s", res.raw)
	assert.Equal(t, "alice", res.body.User.Login)
	assert.Equal(t, alice.body.Token.Expires, res.body.Token.Expires)
	res = r.doWith(r.srv.Client(), loginReq(guest.Login, "x", ""))
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Contains(t, string(res.raw), "used up", "its session ended while the server was down")

	// The restored server saves what it restored, and a third loads it.
	require.NoError(t, r.server.SaveState(file))
	r3 := e.restarted(nil)
	require.NoError(t, r3.server.LoadState(file))
	res = r3.doWith(r3.srv.Client(), withSession(checkReq("tab1"), bobSession.ID))
	assert.Equal(t, http.StatusOK, res.status, "body %s", res.raw)
}

// TestStateUsersChanged: a session or token whose user id names another
// login after the restart (the users file changed) is dropped, not handed
// to that user.
func TestStateUsersChanged(t *testing.T) {
	e := newEnv(t, nil)
	file := filepath.Join(t.TempDir(), "state.json")
	alice := e.login("alice", "wonderland", "")
	require.Equal(t, http.StatusOK, alice.status)
	bob := e.doWith(e.srv.Client(), loginReq("bob", "builder", "tab1"))
	require.Equal(t, http.StatusOK, bob.status)
	require.NoError(t, e.server.SaveState(file))

	dir := users.NewDirectory([]*users.User{{ID: 101, Login: "zed"}, {ID: 102, Login: "bob"}})
	r := e.restarted(dir)
	require.NoError(t, r.server.LoadState(file))
	res := r.doWith(r.srv.Client(), withSession(checkReq(""), alice.body.User.Session))
	assert.Equal(t, wire.CodeLoginRequired, res.code())
	res = r.doWith(r.srv.Client(), tokenLoginReq(alice.body.Token.Value, ""))
	assert.Equal(t, wire.CodeAuthFailed, res.code())
	res = r.doWith(r.srv.Client(), withSession(checkReq("tab1"), bob.body.User.Session))
	assert.Equal(t, http.StatusOK, res.status, "body %s", res.raw)
}

// TestStateTestClock: the test clock's offset is saved and given back, so
// that the restarted server's times go on from where they were; a server
// without a test clock refuses such a file.
func TestStateTestClock(t *testing.T) {
	onTestClock := func(cfg *Config) { cfg.Now, cfg.TestClock = nil, testclock.New() }
	e := newEnv(t, onTestClock)
	file := filepath.Join(t.TempDir(), "state.json")
	tc := e.server.testClock
	_, err := tc.Advance(25 * time.Hour)
	require.NoError(t, err)
	alice := e.login("alice", "wonderland", "")
	require.Equal(t, http.StatusOK, alice.status)
	require.NoError(t, e.server.SaveState(file))
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"testClock": "25h0m0s"`)

	r := newEnv(t, onTestClock)
	require.NoError(t, r.server.LoadState(file))
	assert.Equal(t, 25*time.Hour, r.server.testClock.Offset())
	res := r.doWith(r.srv.Client(), withSession(checkReq(""), alice.body.User.Session))
	assert.Equal(t, http.StatusOK, res.status, "body %s", res.raw)

	err = newEnv(t, nil).server.LoadState(file)
	assert.ErrorContains(t, err, "state file "+file+" was saved by a server on the test clock, 25h0m0s ahead of the real one; start with -test-clock")
}

func TestStateMissingFile(t *testing.T) {
	e := newEnv(t, nil)
	file := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, e.server.LoadState(file), "a first start")
	assert.Contains(t, e.log.String(), file+" does not exist yet; starting empty")
	assert.NoError(t, CheckStateDir(file))
	left, err := filepath.Glob(file + "*")
	require.NoError(t, err)
	assert.Empty(t, left, "the check leaves nothing behind")

	inMissingDir := filepath.Join(t.TempDir(), "none", "state.json")
	assert.ErrorContains(t, CheckStateDir(inMissingDir), "state file "+inMissingDir+" cannot be written")
	assert.ErrorContains(t, e.server.SaveState(inMissingDir), "state file "+inMissingDir+": ")
}

// TestStateCorrupt: a file that is not a state file is refused, naming the
// file and what is wrong, and nothing of it is loaded.
func TestStateCorrupt(t *testing.T) {
	tests := []struct{ name, data, err string }{
		{"empty", ``, "unexpected end of JSON input"},
		{"cut short", `{"version": 1, "sessions": [`, "unexpected end of JSON input"},
		{"not an object", `[]`, "cannot unmarshal array"},
		{"no version", `{"sessions": []}`, `it has no "version"`},
		{"another version", `{"version": 2, "future": true}`, "it is of version 2, and this server reads version 1"},
		{"unknown field", `{"version": 1, "extra": true}`, `unknown field "extra"`},
		{"unknown session field", `{"version": 1, "sessions": [{"id": "x", "bogus": 1}]}`, `unknown field "bogus"`},
		{"wrong type", `{"version": 1, "tokens": [{"value": 5}]}`, "cannot unmarshal number"},
		{"data after it", `{"version": 1} {}`, "invalid character"},
		{"session without id", `{"version": 1, "sessions": [{"userId": 101, "login": "alice"}]}`, `session 1 has no "id"`},
		{"token without value", `{"version": 1, "tokens": [{"userId": 101}]}`, `login token 1 has no "value"`},
		{"external without login", `{"version": 1, "externals": {"users": [{"id": 1001}]}}`, `external user 1 has no "id" or no "login"`},
		{"bad test clock", `{"version": 1, "testClock": "-1h"}`, `"testClock" "-1h" is not a Go duration of 0 or more`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "state.json")
			require.NoError(t, os.WriteFile(file, []byte(tt.data), 0o600))
			e := newEnv(t, nil)
			err := e.server.LoadState(file)
			assert.ErrorContains(t, err, "state file "+file+" is corrupt: ")
			assert.ErrorContains(t, err, tt.err)
			assert.ErrorContains(t, err, "fix it, or remove it to start empty")
			assert.Zero(t, e.sessions.Len())
		})
	}
}
