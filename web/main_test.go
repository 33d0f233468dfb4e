package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/internal/site"
	"github.com/pbxauth/pbxauth/web/pbx"
)

// runMainEnv makes the test binary run main itself, for TestSignal.
const runMainEnv = "PBX_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	servertest.LowerHashCost()
	if os.Getenv(runMainEnv) != "" {
		os.Args = append([]string{"web"}, strings.Fields(os.Getenv(runMainEnv))...)
		main()
	}
	os.Exit(runTests(m))
}

// runTests runs the tests with a configuration directory of their own, so
// that servers started without -ping-key make their key there and not in
// the user's.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pbx-web-test-config-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for _, v := range []string{"XDG_CONFIG_HOME", "HOME", "AppData", "home"} {
		os.Setenv(v, dir)
	}
	return m.Run()
}

var listening = regexp.MustCompile(`^listening on (https?://127\.0\.0\.1:\d+)\n$`)

// start runs the program in-process and returns its URL, its stderr and a stop
// function that cancels it and returns its exit code (0 once stopped
// already); the test's end stops it too.
func start(t *testing.T, args ...string) (url string, stderr *servertest.LogBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	outR, outW := io.Pipe()
	stderr = &servertest.LogBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, args, outW, stderr)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr)
	m := listening.FindStringSubmatch(line)
	require.NotNil(t, m, "first line %q; stderr: %s", line, stderr)
	stopped := false
	stop = func() int {
		cancel()
		if stopped {
			return 0
		}
		stopped = true
		select {
		case c := <-code:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return m[1], stderr, stop
}

// login posts a login like curl would and returns the status and the reply.
func login(t *testing.T, url, user, password string) (int, string, http.Header) {
	t.Helper()
	r := servertest.PostJSON(t, nil, url+wire.PathLogin, `{"auth":{"type":"auth","username":"`+user+`","password":"`+password+`"}}`)
	return r.Status, string(r.Body), r.Header
}

func TestRun(t *testing.T) {
	url, stderr, stop := start(t, "-addr", ":0")

	status, body, header := login(t, url, "alice", "wonderland")
	assert.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"login":"alice"`)
	assert.Contains(t, header.Get("Set-Cookie"), wire.CookieName+"=")

	resp, err := http.Get(url + "/")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), "IPCortex PBX (local)")

	resp, err = http.Post(url+"/test/clock", "application/json", strings.NewReader(`{"advance":"25h"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no test clock without -test-clock")

	resp, err = http.Get(url + "/api/login.html")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, site.LoginCSP(pbx.DefaultOrigins()), resp.Header.Get("Content-Security-Policy"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' http://localhost:* https://localhost:* http://127.0.0.1:*",
		"the loopback pages may frame the overlay by default")

	assert.Equal(t, 0, stop())
	assert.Contains(t, stderr.String(), "POST /rest/auth/ 200 ")
	assert.Contains(t, stderr.String(), "GET / 200 ")
	assert.NotContains(t, stderr.String(), "wonderland")
	if err := site.Handler(nil).Missing(); err != nil { // the module is not built: one warning says so
		assert.Equal(t, 1, strings.Count(stderr.String(), "warning: "+err.Error()))
	} else {
		assert.NotContains(t, stderr.String(), "warning")
	}
}

func TestRunUsersFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	require.NoError(t, os.WriteFile(path, []byte(`[{"id": 1, "login": "dave", "password": "pw", "home": "h"}]`), 0o600))
	url, _, stop := start(t, "-addr", "127.0.0.1:0", "-users", path, "-origins", "https://app.example")
	defer stop()

	status, body, _ := login(t, url, "dave", "pw")
	assert.Equal(t, http.StatusOK, status, body)
	status, _, _ = login(t, url, "alice", "wonderland")
	assert.Equal(t, http.StatusUnauthorized, status, "the file replaces the demo users")

	r := servertest.PostJSON(t, nil, url+wire.PathLogin, `{"auth":{"type":"auth"}}`, "Origin", "http://localhost:3000")
	assert.Equal(t, http.StatusForbidden, r.Status, "-origins replaces the loopback default")

	resp, err := http.Get(url + "/api/login.html")
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, strings.HasSuffix(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self' https://app.example"),
		"only the trusted origins may frame the overlay: %s", resp.Header.Get("Content-Security-Policy"))
}

// postJSON posts body to url with an Origin header ("" for none) and decodes
// the JSON reply.
func postJSON(t *testing.T, url, origin, body string) (int, map[string]any) {
	t.Helper()
	r := servertest.PostJSON(t, nil, url, body, "Origin", origin)
	return r.Status, r.JSON(t)
}

// TestRunTokenClasses: -token-classes gives a trusted origin's tokens their
// class when the login names none.
func TestRunTokenClasses(t *testing.T) {
	url, _, stop := start(t, "-addr", "127.0.0.1:0", "-origins", "https://app.example,http://localhost:*",
		"-token-classes", "https://app.example=longLogin")
	defer stop()
	login := `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`
	expires := func(origin string) time.Time {
		status, m := postJSON(t, url+wire.PathLogin, origin, login)
		require.Equal(t, http.StatusOK, status, "%v", m)
		return time.UnixMilli(int64(m["token"].(map[string]any)["expires"].(float64)))
	}
	assert.True(t, expires("https://app.example").After(time.Now().Add(6*24*time.Hour)), "longLogin: a week")
	assert.True(t, expires("http://localhost:3000").Before(time.Now().Add(25*time.Hour)), "no entry: a day")
}

// TestRunTestClock: with -test-clock, POST /test/clock moves the server's
// clock, and logins expire on it.
func TestRunTestClock(t *testing.T) {
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-test-clock")
	defer stop()
	assert.Contains(t, stderr.String(), "warning: -test-clock")

	status, m := postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","username":"bob","password":"builder"}}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	tok := m["token"].(map[string]any)["value"].(string)

	before := time.Now()
	status, m = postJSON(t, url+"/test/clock", "", `{"advance":"25h"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	assert.GreaterOrEqual(t, int64(m["now"].(float64)), before.Add(25*time.Hour).UnixMilli())

	status, m = postJSON(t, url+wire.PathLogin, "", `{"auth":{"type":"auth","token":"`+tok+`"}}`)
	assert.Equal(t, http.StatusUnauthorized, status, "the token is a day old on the server's clock: %v", m)
}

// TestRunFaults: with -faults, POST /test/fault makes the API fail on
// purpose until it is switched off; without it the path does not exist.
func TestRunFaults(t *testing.T) {
	url, stderr, stop := start(t, "-addr", "127.0.0.1:0", "-faults")
	defer stop()
	assert.Contains(t, stderr.String(), "warning: -faults")

	status, m := postJSON(t, url+"/test/fault", "", `{"mode":"500"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	status, body, _ := login(t, url, "alice", "wonderland")
	assert.Equal(t, http.StatusInternalServerError, status, body)

	status, m = postJSON(t, url+"/test/fault", "", `{"mode":"off"}`)
	require.Equal(t, http.StatusOK, status, "%v", m)
	status, body, _ = login(t, url, "alice", "wonderland")
	assert.Equal(t, http.StatusOK, status, "the faults are off: %s", body)

	plain, _, stopPlain := start(t, "-addr", "127.0.0.1:0")
	defer stopPlain()
	resp, err := http.Post(plain+"/test/fault", "application/json", strings.NewReader(`{"mode":"500"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no fault switch without -faults")
}

// TestRunHosts: a login sent to a name that is not the server's, from a page
// of that name (DNS rebinding), is refused unless -hosts names it.
func TestRunHosts(t *testing.T) {
	rebound := func(t *testing.T, url string) servertest.Reply {
		t.Helper()
		evil := "evil.example:" + url[strings.LastIndex(url, ":")+1:]
		return servertest.PostJSON(t, nil, url+wire.PathLogin, `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`,
			"Host", evil, "Origin", "http://"+evil)
	}

	url, _, stop := start(t, "-addr", "127.0.0.1:0")
	r := rebound(t, url)
	assert.Equal(t, http.StatusMisdirectedRequest, r.Status, "%s", r.Body)
	assert.Contains(t, string(r.Body), `"code":"`+wire.CodeHostNotAllowed+`"`)
	assert.Empty(t, r.Header.Values("Set-Cookie"))
	stop()

	url, _, stop = start(t, "-addr", "127.0.0.1:0", "-hosts", "other.example,evil.example")
	defer stop()
	r = rebound(t, url)
	assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Contains(t, r.Header.Get("Set-Cookie"), wire.CookieName+"=")
}

func TestRunFails(t *testing.T) {
	taken, _, stop := start(t, "-addr", "127.0.0.1:0")
	defer stop()
	badUsers := filepath.Join(t.TempDir(), "users.json")
	require.NoError(t, os.WriteFile(badUsers, []byte(`[{"id": 1, "login": "a", "pasword": "p"}]`), 0o600))
	badState := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(badState, []byte(`{"version": 1, "sessions": [], "session": []}`), 0o600))
	stateInMissingDir := filepath.Join(t.TempDir(), "none", "state.json")
	openKey := filepath.Join(t.TempDir(), "ping.key")
	require.NoError(t, os.WriteFile(openKey, []byte(strings.Repeat("ab", 32)), 0o644))
	require.NoError(t, os.Chmod(openKey, 0o644))

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, 0, "-origins ORIGINS"},
		{"unknown flag", []string{"-port", "1"}, 2, "flag provided but not defined: -port"},
		{"extra arguments", []string{"serve"}, 2, `unexpected arguments ["serve"]`},
		{"bad origins", []string{"-origins", "localhost"}, 2, `"localhost" is not an origin`},
		{"help lists -hosts", []string{"-h"}, 0, "-hosts HOSTS"},
		{"bad hosts", []string{"-hosts", "https://pbx.example.com"}, 2, `"https://pbx.example.com" is not a host`},
		{"help lists -token-classes", []string{"-h"}, 0, "-token-classes LIST"},
		{"help lists -test-clock", []string{"-h"}, 0, "FOR TESTS ONLY"},
		{"help lists -server-version", []string{"-h"}, 0, "-server-version VERSION"},
		{"bad token classes", []string{"-token-classes", "https://app.example=forever"}, 2, "token classes: "},
		{"token classes without class", []string{"-token-classes", "https://app.example"}, 2, "lacks a class"},
		{"bad users file", []string{"-users", badUsers}, 1, `users file: user 1: unknown field "pasword"`},
		{"missing users file", []string{"-users", filepath.Join(t.TempDir(), "none.json")}, 1, "no such file"},
		{"address in use", []string{"-addr", strings.TrimPrefix(taken, "http://")}, 1, "pick another -addr"},
		{"help lists -state", []string{"-h"}, 0, "-state FILE"},
		{"help says the state is secret", []string{"-h"}, 0, "keep it private"},
		{"corrupt state file", []string{"-addr", "127.0.0.1:0", "-state", badState}, 1,
			"state file " + badState + ` is corrupt: json: unknown field "session"; fix it, or remove it to start empty`},
		{"state file in a missing directory", []string{"-addr", "127.0.0.1:0", "-state", stateInMissingDir}, 1,
			"state file " + stateInMissingDir + " cannot be written"},
		{"help lists -vodia-admin", []string{"-h"}, 0, "-vodia-admin LOGIN:PASSWORD"},
		{"help lists -ping-key", []string{"-h"}, 0, "-ping-key FILE"},
		{"bad vodia admin", []string{"-addr", "127.0.0.1:0", "-vodia-admin", "admin"}, 2, "vodia admin: write LOGIN:PASSWORD"},
		{"vodia admin without a password", []string{"-addr", "127.0.0.1:0", "-vodia-admin", "admin:"}, 2, "vodia admin: give a login and a password"},
		{"ping key readable by others", []string{"-addr", "127.0.0.1:0", "-ping-key", openKey}, 1, "may be read by others"},
		{"ping key that is no key", []string{"-addr", "127.0.0.1:0", "-ping-key", badUsers}, 1, "holds no key"},
		{"empty ping key", []string{"-addr", "127.0.0.1:0", "-ping-key", ""}, 1, "-ping-key is empty"},
		{"token command after flags", []string{"-addr", "127.0.0.1:0", "token"}, 2, "the token command comes first"},
		{"help lists -max-conns", []string{"-h"}, 0, "-max-conns N"},
		{"help lists -max-conns-per-addr", []string{"-h"}, 0, "-max-conns-per-addr N"},
		{"help lists -max-sessions", []string{"-h"}, 0, "-max-sessions N"},
		{"help lists -max-sessions-per-user", []string{"-h"}, 0, "-max-sessions-per-user N"},
		{"help lists -max-failures-per-addr", []string{"-h"}, 0, "-max-failures-per-addr N"},
		{"negative cap", []string{"-addr", "127.0.0.1:0", "-max-conns", "-1"}, 2, "-max-conns -1: give a number of 0 or more (0: no cap)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr.String(), tt.stderr)
			assert.Empty(t, stdout.String(), "nothing listens, so nothing is announced")
		})
	}
}

// TestSignal runs the real main in a child process and stops it with SIGTERM.
func TestSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runMainEnv+"=-addr 127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr servertest.LogBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	m := listening.FindStringSubmatch(line)
	require.NotNil(t, m, "first line %q", line)
	status, body, _ := login(t, m[1], "bob", "builder")
	assert.Equal(t, http.StatusOK, status, body)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status after SIGTERM; stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop on SIGTERM")
	}
	assert.Contains(t, stderr.String(), "shutting down")
}

func TestDisplayAddr(t *testing.T) {
	tests := map[string]string{
		"0.0.0.0:80":     "127.0.0.1:80",
		"[::]:80":        "127.0.0.1:80",
		"127.0.0.1:8080": "127.0.0.1:8080",
		"[::1]:8080":     "[::1]:8080",
		"10.1.2.3:9":     "10.1.2.3:9",
	}
	for in, want := range tests {
		a, err := net.ResolveTCPAddr("tcp", in)
		require.NoError(t, err)
		assert.Equal(t, want, displayAddr(a), in)
	}
}
