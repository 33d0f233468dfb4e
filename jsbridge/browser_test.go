//go:build !js

package jsbridge

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/users"
)

// TestInBrowser runs this package's js/wasm tests in headless Chromium with
// wasmbrowsertest (the coder/websocket pattern): the real local PBX runs here,
// natively, and its URL reaches the browser in the environment. Beside it run
// a server that never answers and one that redirects, for the fetch faults.
// Without wasmbrowsertest or Chromium it skips, saying how to get them, or
// fails under CI (browsertest's rule).
func TestInBrowser(t *testing.T) {
	exe := browsertest.Require(t, browsertest.WasmBrowserTest, browsertest.Chromium)
	// wasmbrowsertest looks Chromium up by name on the PATH: put first
	// there the folder of the one browsertest found.
	path := filepath.Dir(browsertest.Chromium.Find()) + string(os.PathListSeparator) + os.Getenv("PATH")

	users.HashCost = bcrypt.MinCost
	srv := httptest.NewServer(pbx.New(pbx.Config{Users: users.NewDirectory(users.Demo())}))
	defer srv.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	redirect := httptest.NewServer(http.RedirectHandler(srv.URL+"/rest/auth/", http.StatusTemporaryRedirect))
	defer redirect.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + l.Addr().String()
	require.NoError(t, l.Close())

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// This package's tests, then those of the safejs copy, which is a module
	// of its own (go.mod replaces github.com/hack-pad/safejs with it), so
	// outside this module's ./... and run from its own directory.
	for _, run := range []struct{ dir, pkgs string }{{".", "."}, {"safejs", "./..."}} {
		cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-timeout", "5m", "-exec", exe, run.pkgs)
		cmd.Dir = run.dir
		// wasm_exec.js caps argv plus environment at 8 KB: pass only what go needs.
		cmd.Env = []string{"GOOS=js", "GOARCH=wasm", "PBX_URL=" + srv.URL, "SLOW_URL=" + slow.URL,
			"REDIRECT_URL=" + redirect.URL, "DOWN_URL=" + down, "PATH=" + path}
		for _, k := range []string{"HOME", "GOCACHE", "GOPATH", "GOMODCACHE", "GOPROXY", "GOFLAGS", "TMPDIR"} {
			if v, ok := os.LookupEnv(k); ok {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
		}
		out, err := cmd.CombinedOutput()
		t.Log(filterNoise(string(out)))
		require.NoError(t, err, "the js/wasm tests in %s failed in the browser (output above)", run.dir)
	}
}

// TestSafejsNative runs the safejs copy's native test (that each of its
// files builds only for js/wasm): the copy is a module of its own, outside
// this module's ./....
func TestSafejsNative(t *testing.T) {
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = "safejs"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go test in jsbridge/safejs:\n%s", out)
}

// filterNoise drops the harmless lines that old CDP tables make Chromium print.
func filterNoise(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, "unknown IPAddressSpace value") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}
