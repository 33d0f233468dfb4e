package engines

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// Deadlines. Nothing is asserted on time: these only keep a broken browser,
// driver or install from hanging the run, and turn a hang into a failure
// that says what hung.
const (
	installDeadline = 5 * time.Minute   // npm ci of the harness
	engineDeadline  = 3 * time.Minute   // one engine: every flow of every site (20 to 50 s here), so that all three fit go test's default 10 minutes
	stepDeadline    = 45 * time.Second  // one step of the harness (a page load, a call)
	flowDeadline    = 100 * time.Second // one flow
	reapGrace       = 5 * time.Second   // for processes to end by themselves
)

// flowNames are the flows of js/flows.mjs that every engine runs on every
// site, in order.
var flowNames = []string{"login", "saved-token", "subid-tabs", "overlay", "feed-logout-elsewhere", "tabs-in-step", "demo", "logout", "wrong-password"}

// FlowsEnv names the environment variable that narrows the run to some
// flows (comma-separated names of flowNames), for working on one.
const FlowsEnv = "PBXAUTH_ENGINES_FLOWS"

// engine is a browser engine and what drives it.
type engine struct {
	name  string // the subtest's
	id    string // the harness's
	tools []browsertest.Tool
	xvfb  bool // MiniBrowser is a GTK program: it needs a display
}

var engines = []engine{
	{"Chromium", "chromium", []browsertest.Tool{browsertest.Chromium, browsertest.ChromeDriver}, false},
	{"Firefox", "firefox", []browsertest.Tool{browsertest.Firefox}, false},
	{"WebKit", "webkit", []browsertest.Tool{browsertest.WebKitWebDriver, browsertest.MiniBrowser, browsertest.XvfbRun}, true},
}

// site is one PBX and the page server of another site that uses it.
type site struct {
	Scheme string `json:"scheme"`
	PBX    string `json:"pbx"`  // http(s)://127.0.0.1:P
	Page   string `json:"page"` // http(s)://localhost:Q
	CA     string `json:"-"`    // over https, the CA of both servers' certificate (PEM)
}

// result is one RESULT line of the harness.
type result struct {
	Scheme string   `json:"scheme"`
	Flow   string   `json:"flow"`
	Title  string   `json:"title"`
	OK     bool     `json:"ok"`
	Error  string   `json:"error"`
	MS     int64    `json:"ms"`
	Notes  []string `json:"notes"`
}

// TestEngines runs the module's main flows (js/flows.mjs) in Chromium,
// Firefox and WebKit, each on a page of another site than the PBX, over
// http and https.
func TestEngines(t *testing.T) {
	node := browsertest.Require(t, browsertest.Node, browsertest.NPM)
	root := browsertest.Root()
	if root == "" {
		t.Fatal("cannot find the repository's root (its go.mod) above the working directory")
	}
	for _, f := range []string{"pbxauth.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, "web", "internal", "site", "dist", f)); err != nil {
			t.Fatalf("web/internal/site/dist/%s is missing: run make build first (%v)", f, err)
		}
	}
	js := filepath.Join(root, "web", "internal", "engines", "js")
	installHarness(t, js)

	if err := adoptOrphans(); err != nil {
		t.Logf("cannot adopt the harness's orphans (%v): a browser left running is not ended", err)
	}
	t.Cleanup(func() { reap(t) })

	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			browsertest.Require(t, e.tools...)
			sites := []site{newSite(t, "http"), newSite(t, "https")}
			results, out := runHarness(t, node, js, e, sites)
			reap(t)
			report(t, sites, results, out)
		})
	}
}

// reap ends what the harness left running (the engines run one after
// another, so all of it is the last harness's) and fails t if there was
// anything: the harness ends its browser and driver itself.
func reap(t *testing.T) {
	t.Helper()
	if killed := reapOrphans(nil, reapGrace); len(killed) > 0 {
		t.Errorf("processes still running after the harness ended, killed: %s", strings.Join(killed, ", "))
	}
}

// newSite starts a PBX and a page server on another site for it: over
// https both serve with the PBX's certificate (for localhost and
// 127.0.0.1), from a CA that the browsers do not know; they are told to
// accept it (acceptInsecureCerts), and Node trusts it (NODE_EXTRA_CA_CERTS).
func newSite(t *testing.T, scheme string) site {
	t.Helper()
	if scheme == "http" {
		s := pbxtest.NewServer(t)
		ps := httptest.NewServer(pageHandler(s.URL))
		t.Cleanup(ps.Close)
		return site{Scheme: scheme, PBX: s.URL, Page: onLocalhost(t, ps)}
	}
	s := pbxtest.NewServer(t, pbxtest.WithTLS())
	if !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("pbxtest.WithTLS: the server is at %s", s.URL)
	}
	ps := httptest.NewUnstartedServer(pageHandler(s.URL))
	ps.TLS = s.TLSConfig()
	ps.StartTLS()
	t.Cleanup(ps.Close)
	return site{Scheme: scheme, PBX: s.URL, Page: onLocalhost(t, ps), CA: string(s.CACertPEM())}
}

// installHarness runs npm ci in js when node_modules is missing or older
// than package-lock.json, as web/playwright/run.sh does.
func installHarness(t *testing.T, js string) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(js, "package-lock.json"))
	if err != nil {
		t.Fatalf("the harness's package-lock.json: %v", err)
	}
	if inst, err := os.Stat(filepath.Join(js, "node_modules", ".package-lock.json")); err == nil && !lock.ModTime().After(inst.ModTime()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), installDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, browsertest.NPM.Find(), "ci", "--no-audit", "--no-fund")
	cmd.Dir = js
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", js, err, out)
	}
}

// runHarness runs js/run.mjs for the engine against the sites and returns
// its results and its whole output. A harness that outlives engineDeadline
// is killed with its process group.
func runHarness(t *testing.T, node, js string, e engine, sites []site) ([]result, string) {
	t.Helper()
	tmp := t.TempDir()
	flows := flowNames
	if only := os.Getenv(FlowsEnv); only != "" {
		flows = strings.Split(only, ",")
	}
	cfg := map[string]any{
		"engine":       e.id,
		"sites":        sites,
		"flows":        flows,
		"stepMs":       stepDeadline.Milliseconds(),
		"flowMs":       flowDeadline.Milliseconds(),
		"chromium":     browsertest.Chromium.Find(),
		"chromedriver": browsertest.ChromeDriver.Find(),
		"firefox":      browsertest.Firefox.Find(),
		"webkitdriver": browsertest.WebKitWebDriver.Find(),
		"minibrowser":  browsertest.MiniBrowser.Find(),
		"tmp":          tmp,
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{node, filepath.Join(js, "run.mjs")}
	if e.xvfb {
		args = append([]string{browsertest.XvfbRun.Find(), "-a", "-s", "-screen 0 1280x1024x24"}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = js
	cmd.Env = harnessEnv(t, tmp, string(cfgJSON))
	var cas strings.Builder
	for _, s := range sites {
		cas.WriteString(s.CA)
	}
	if cas.Len() > 0 {
		ca := filepath.Join(tmp, "ca.pem")
		if err := os.WriteFile(ca, []byte(cas.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "NODE_EXTRA_CA_CERTS="+ca)
	}
	var out lockedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	inGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err = cmd.Run()
	t.Logf("%s ran for %s", e.name, time.Since(start).Round(time.Second))
	if ctx.Err() != nil {
		t.Errorf("the %s harness did not end within %s and was killed; its output:\n%s", e.name, engineDeadline, out.String())
	} else if err != nil {
		t.Errorf("the %s harness failed: %v; its output:\n%s", e.name, err, out.String())
	}
	var results []result
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "RESULT ")
		if !ok {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Errorf("a RESULT line that is not JSON (%v): %s", err, line)
			continue
		}
		results = append(results, r)
	}
	return results, out.String()
}

// harnessEnv is the harness's environment: this one with a home, caches and
// temporary files of its own (fresh profiles), and the test CA for Node.
func harnessEnv(t *testing.T, tmp, cfg string) []string {
	env := []string{"ENGINES_CONFIG=" + cfg}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "DISPLAY", "ENGINES_CONFIG", "NODE_EXTRA_CA_CERTS":
			continue
		}
		env = append(env, kv)
	}
	for k, dir := range map[string]string{"HOME": "home", "TMPDIR": "tmp", "XDG_CONFIG_HOME": "config", "XDG_CACHE_HOME": "cache", "XDG_DATA_HOME": "data", "XDG_RUNTIME_DIR": "run"} {
		p := filepath.Join(tmp, dir)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+p)
	}
	return env
}

// report makes a subtest of every flow of every site, failing with the
// harness's error, and fails for a flow the harness did not report.
func report(t *testing.T, sites []site, results []result, out string) {
	t.Helper()
	flows := flowNames
	if only := os.Getenv(FlowsEnv); only != "" {
		flows = strings.Split(only, ",")
	}
	failed := false
	for _, s := range sites {
		t.Run(s.Scheme, func(t *testing.T) {
			for _, f := range flows {
				t.Run(f, func(t *testing.T) {
					for _, r := range results {
						if r.Scheme == s.Scheme && r.Flow == f {
							if !r.OK {
								failed = true
								t.Fatalf("%s (%s): %s", r.Title, time.Duration(r.MS)*time.Millisecond, r.Error)
							}
							t.Logf("%s (%s)", r.Title, time.Duration(r.MS)*time.Millisecond)
							for _, n := range r.Notes {
								t.Log(n)
							}
							return
						}
					}
					failed = true
					t.Fatalf("the harness reported nothing for this flow")
				})
			}
		})
	}
	if failed {
		t.Logf("the harness's output:\n%s", out)
	}
}

// lockedBuffer is a bytes.Buffer that the harness's stdout and stderr
// write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
