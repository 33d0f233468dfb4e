// Package browsertest finds the browser and tools that the slow test tier
// needs, and starts headless Chromium the way this machine requires.
//
// A test that needs a tool asks Require: where the tool is missing, or
// under go test -short (the fast tier), the test is skipped with a message
// saying how to get it; under CI (the environment variable CI is set) a
// missing tool fails the test instead, so that CI never passes by skipping.
package browsertest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ShortReason is why a slow-tier test does not run under -short.
const ShortReason = "browser and tool tests do not run with -short (make check); make test runs them"

// Tool is something a test needs from the machine, with how to get it.
type Tool struct {
	Name  string   // as people call it: "Chromium"
	Paths []string // absolute paths to try first
	Cmds  []string // names to look up on PATH after them
	Get   string   // how to get it, for the skip message
}

// Tools the slow tier uses.
var (
	Chromium = Tool{Name: "Chromium", Paths: []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"},
		Cmds: []string{"chromium", "chromium-browser", "google-chrome"},
		Get:  "install Debian's chromium package (make test does it)"}
	Node = Tool{Name: "Node.js", Cmds: []string{"node"},
		Get: "install Node.js 20 or later, e.g. Debian's nodejs package (make test does it)"}
	NPM = Tool{Name: "npm", Cmds: []string{"npm"},
		Get: "install npm, e.g. Debian's npm package (make test does it)"}
	// WasmBrowserTest runs js/wasm test binaries in Chromium (go test -exec).
	WasmBrowserTest = Tool{Name: "wasmbrowsertest", Paths: inRepo(".tools/bin/wasmbrowsertest"),
		Cmds: []string{"wasmbrowsertest"}, Get: "run make deps, which installs it into .tools/bin"}
)

// MissingEnv names the environment variable that lists, comma-separated,
// tools (by Name, in any case) to treat as missing whether or not the
// machine has them: a way to see a test skip, or fail under CI, here.
const MissingEnv = "PBXAUTH_TEST_MISSING"

// hidden reports whether MissingEnv names the tool.
func (tl Tool) hidden() bool {
	for _, n := range strings.Split(os.Getenv(MissingEnv), ",") {
		if strings.EqualFold(strings.TrimSpace(n), tl.Name) {
			return true
		}
	}
	return false
}

// inRepo returns rel under the repository's Root, or nothing outside it.
func inRepo(rel string) []string {
	root := Root()
	if root == "" {
		return nil
	}
	return []string{filepath.Join(root, filepath.FromSlash(rel))}
}

// Root returns the repository's root: the directory of the go.mod of
// github.com/pbxauth/pbxauth at or above the working directory (which go
// test sets to the package's), or "" when there is none.
func Root() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isThisModule(b) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// isThisModule reports whether gomod is the go.mod of this repository.
func isThisModule(gomod []byte) bool {
	for line := range bytes.Lines(gomod) {
		if string(bytes.TrimSpace(line)) == "module github.com/pbxauth/pbxauth" {
			return true
		}
	}
	return false
}

// Find returns the tool's path, or "" when the machine lacks it (or
// MissingEnv names it).
func (tl Tool) Find() string {
	if tl.hidden() {
		return ""
	}
	for _, p := range tl.Paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	for _, c := range tl.Cmds {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Unavailable returns why the slow tier cannot run here with these tools
// ("" when it can): -short, or the first missing tool.
func Unavailable(tools ...Tool) string {
	if testing.Short() {
		return ShortReason
	}
	return missing(tools)
}

// missing says which of tools the machine lacks, and how to get them.
func missing(tools []Tool) string {
	var missing []string
	for _, tl := range tools {
		if tl.Find() == "" {
			missing = append(missing, tl.Name+" is not installed: "+tl.Get)
		}
	}
	return strings.Join(missing, "; ")
}

// CI reports whether the tests run under CI, where nothing may be skipped
// for a missing tool.
func CI() bool { return os.Getenv("CI") != "" }

// Skip skips t for reason (from Unavailable), or fails it under CI unless
// the reason is -short. An empty reason does nothing.
func Skip(t testing.TB, reason string) {
	t.Helper()
	switch {
	case reason == "":
	case reason != ShortReason && CI():
		t.Fatal(reason + " (CI is set, so this fails instead of skipping)")
	default:
		t.Skip(reason)
	}
}

// Need is Require for a quick test that runs in the fast tier too (a
// script under Node, in a fraction of a second): it skips or fails only for
// a missing tool, not under -short.
func Need(t testing.TB, tools ...Tool) string {
	t.Helper()
	Skip(t, missing(tools))
	if len(tools) == 0 {
		return ""
	}
	return tools[0].Find()
}

// Require skips or fails t as Skip does when a tool is missing, and
// returns the path of the first tool otherwise.
func Require(t testing.TB, tools ...Tool) string {
	t.Helper()
	Skip(t, Unavailable(tools...))
	if len(tools) == 0 {
		return ""
	}
	return tools[0].Find()
}

// ChromiumOptions are the flags headless Chromium needs here (as root, on a
// closed network: without the networking flags it keeps trying to reach
// outside hosts), with a fresh profile and the browser's output sent to out.
func ChromiumOptions(profile string, out io.Writer) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
	)
	if p := Chromium.Find(); p != "" {
		opts = append(opts, chromedp.ExecPath(p))
	}
	return opts
}
