package npmpkg_test

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// TestNodeFeed runs testdata/feed.mjs with node in the scratch project,
// where `import 'pbxauth'` is the package's Node.js entry and ws gives the
// WebSocket: it logs in as alice on a PBX started here, starts the live
// feed and prints its token; this test then logs out with that token from a
// session of its own, which ends the token's every session, and the
// script's feed reports errno 2. Then the script gives a store, in which
// the module keeps the session and the token.
func TestNodeFeed(t *testing.T) {
	p := installed(t)
	node := browsertest.Require(t, browsertest.Node)
	browsertest.Require(t, inTools(p.root, "ws", "node_modules/ws/package.json"))
	ws := filepath.Join(p.root, ".tools", "npm", "node_modules", "ws")
	link := filepath.Join(p.project, "node_modules", "ws")
	if _, err := os.Lstat(link); err != nil {
		require.NoError(t, os.Symlink(ws, link))
	}
	script, err := os.ReadFile(filepath.Join("testdata", "feed.mjs"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(p.project, "feed.mjs"), script, 0o644))

	pbx := pbxtest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "feed.mjs", pbx.URL)
	cmd.Dir = p.project
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if tok, ok := strings.CutPrefix(line, "token "); ok {
			// Another session: a login with the script's token, then its
			// logout, which revokes the token and the script's session.
			c := pbx.Client()
			if err := c.Login(ctx, auth.Options{Tokens: []string{tok}}); err != nil {
				t.Errorf("logging in with the script's token: %v", err)
			} else if err := c.Logout(ctx); err != nil {
				t.Errorf("logging out: %v", err)
			}
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	out := strings.Join(lines, "\n")
	require.NoError(t, err, "node feed.mjs: stdout:\n%s\nstderr:\n%s", out, stderr.String())

	want := []string{
		"configure: TypeError bad_option",
		"ready",
		"login(): login_required",
		"id 101 number alice",
		"feed up",
		"tokens 1",
	}
	require.GreaterOrEqual(t, len(lines), len(want)+3, "stdout:\n%s\nstderr:\n%s", out, stderr.String())
	assert.Equal(t, want, lines[:len(want)], "stderr:\n%s", stderr.String())
	assert.True(t, strings.HasPrefix(lines[len(want)], "token "))
	assert.Equal(t, []string{
		"errCB 2 id null", // the feed reports the logout made elsewhere, after the properties are cleared
		"after: id null user null",
		"kept: IPCortex.PBX.Auth.session IPCortex.PBX.Auth.token",
		"from the kept token: id 101",
		"after logout, kept: nothing",
	}, lines[len(want)+1:], "stderr:\n%s", stderr.String())
}
