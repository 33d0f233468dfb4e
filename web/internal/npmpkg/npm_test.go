package npmpkg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/internal/npmpkg"
	"github.com/pbxauth/pbxauth/web/internal/site"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// Deadlines of the set-up and of each run. Nothing is asserted on time:
// they only keep a broken npm, node or browser from hanging the run.
const (
	commandDeadline = 3 * time.Minute
	browserDeadline = 2 * time.Minute
)

// tmp holds what the tests make: the assembled package, its tarball, the
// scratch project that installs it, npm's cache.
var tmp string

func TestMain(m *testing.M) {
	var err error
	tmp, err = os.MkdirTemp("", "pbxauth-npm-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// repoRoot is the repository's root, above web/internal/npmpkg.
func repoRoot(t *testing.T) string {
	t.Helper()
	root := browsertest.Root()
	if root == "" {
		t.Fatal("cannot find the repository root (go.mod of github.com/pbxauth/pbxauth) above the working directory")
	}
	return root
}

// inTools is a tool that make typecheck installs into .tools/npm of the
// repository at root: rel is its path there.
func inTools(root, name, rel string) browsertest.Tool {
	return browsertest.Tool{Name: name, Paths: []string{filepath.Join(root, ".tools", "npm", filepath.FromSlash(rel))},
		Get: "run make typecheck (or make test), which installs it into .tools/npm"}
}

// run runs a command in dir with npm's cache in tmp, and returns its
// standard output; a failure fails the test with both outputs.
func run(t testing.TB, dir string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), npmEnv()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s (in %s): %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return stdout.Bytes()
}

// built needs the module and the glue in web/internal/site/dist: without
// them the test skips, or fails under CI, as for a missing tool.
func built(t testing.TB, root string) {
	t.Helper()
	for _, name := range []string{"pbxauth.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, "web", "internal", "site", "dist", name)); err != nil {
			browsertest.Skip(t, "web/internal/site/dist/"+name+" is not built: run make build")
		}
	}
}

// npmEnv keeps npm off the network and out of the user's cache.
func npmEnv() []string {
	return []string{"npm_config_cache=" + filepath.Join(tmp, "npm-cache"), "npm_config_update_notifier=false",
		"npm_config_fund=false", "npm_config_audit=false"}
}

// packed is the package as `npm pack` made it from the make-built module,
// installed from its tarball into a scratch project.
type packed struct {
	root    string   // the repository
	project string   // the scratch project; node_modules/pbxauth is the package
	files   []string // the paths in the tarball
}

var pack struct {
	once sync.Once
	p    packed
	err  string // why the set-up failed
}

// installed assembles the package from web/internal/site/dist (make build), packs
// it with npm and installs the tarball, offline, into a scratch project,
// once for every test of the run.
func installed(t *testing.T) packed {
	t.Helper()
	npm := browsertest.Require(t, browsertest.NPM, browsertest.Node)
	root := repoRoot(t)
	built(t, root)
	pack.once.Do(func() {
		st := &setupT{TB: t}
		func() {
			defer func() {
				if r := recover(); r != nil && r != errSetup {
					panic(r)
				}
			}()
			pack.p = install(st, root, npm)
		}()
		pack.err = st.failure
	})
	if pack.err != "" {
		t.Fatalf("packing and installing the package failed: %s", pack.err)
	}
	return pack.p
}

func install(t *setupT, root, npm string) packed {
	pkg := filepath.Join(tmp, "pkg")
	if err := npmpkg.Assemble(root, pkg); err != nil {
		t.Fatalf("assembling the package: %v", err)
	}
	out := run(t, tmp, npm, "pack", "--json", "--pack-destination", tmp, pkg)
	var res []struct {
		Filename string
		Files    []struct{ Path string }
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
		t.Fatalf("npm pack --json printed %q (%v)", out, err)
	}
	p := packed{root: root, project: filepath.Join(tmp, "project")}
	for _, f := range res[0].Files {
		p.files = append(p.files, f.Path)
	}
	if err := os.MkdirAll(p.project, 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	if err := os.WriteFile(filepath.Join(p.project, "package.json"), []byte(`{"name": "scratch", "private": true, "type": "module"}`), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	run(t, p.project, npm, "install", "--offline", "--no-audit", "--no-fund", filepath.Join(tmp, res[0].Filename))
	return p
}

// setupT runs the shared set-up under the first test that needs it, and
// keeps its failure for every test.
type setupT struct {
	testing.TB
	failure string
}

var errSetup = errors.New("set-up failed")

func (s *setupT) Fatalf(format string, args ...any) {
	s.failure = fmt.Sprintf(format, args...)
	panic(errSetup)
}

// TestPack: the tarball holds the package's files and nothing else (no Go
// code, no test data), and installs with the module beside the entries.
func TestPack(t *testing.T) {
	p := installed(t)
	want := append([]string{}, npmpkg.Sources...)
	want = append(want, npmpkg.Generated...)
	slices.Sort(want)
	got := slices.Clone(p.files)
	slices.Sort(got)
	assert.Equal(t, want, got, "npm pack's files: package.json's \"files\" lists every source and generated file")
	for _, f := range want {
		_, err := os.Stat(filepath.Join(p.project, "node_modules", "pbxauth", f))
		assert.NoError(t, err, "installed from the tarball")
	}
	wasm, err := os.ReadFile(filepath.Join(p.project, "node_modules", "pbxauth", "pbxauth.wasm"))
	require.NoError(t, err)
	built, err := os.ReadFile(filepath.Join(p.root, "web", "internal", "site", "dist", "pbxauth.wasm"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(wasm, built), "the package carries the module make build made")
}

// TestPackInBrowser: a page of a scratch project on another site than the
// PBX imports the installed package as an ES module, waits for ready, logs
// in as alice on the PBX it names, and logs out.
// pageResult is what a test page that imports the package records in
// window.result: the properties before ready, after the login and after the
// logout, what it found on globalThis and what startFeed did.
type pageResult struct {
	BeforeReady *float64
	Global      string
	StartFeed   string
	ID          *float64
	Uname       string
	AfterLogout *float64
	Error       string
}

func TestPackInBrowser(t *testing.T) {
	p := installed(t)
	browsertest.Require(t, browsertest.Chromium)
	page, err := os.ReadFile(filepath.Join("testdata", "page.html"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(p.project, "page.html"), page, 0o644))

	pbx := pbxtest.NewServer(t)
	site := httptest.NewServer(http.FileServer(http.Dir(p.project)))
	defer site.Close()
	// The page is on localhost, the PBX on 127.0.0.1: two sites, as a real
	// page and a real PBX are, so no cookie of the PBX reaches its requests.
	pageURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/page.html?pbx=" + url.QueryEscape(pbx.URL)

	ctx := browser(t)
	var console []string
	var mu sync.Mutex
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
		}
	}()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL)))
	// window.result is the page's Promise; it is set by the module script,
	// which runs before the load event that Navigate waits for.
	r, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult]("window.result", chromedp.EvalAwaitPromise))
	mu.Lock()
	logs := strings.Join(console, "\n")
	mu.Unlock()
	require.NoError(t, err, "console:\n%s", logs)
	require.Empty(t, r.Error, "console:\n%s", logs)
	assert.Nil(t, r.BeforeReady, "Auth.id before ready")
	assert.Equal(t, "undefined", r.Global, "the ES module puts nothing on globalThis")
	assert.Equal(t, "function", r.StartFeed)
	if assert.NotNil(t, r.ID) {
		assert.Equal(t, 101.0, *r.ID, "Auth.id after alice's login")
	}
	assert.Equal(t, "alice", r.Uname)
	assert.Nil(t, r.AfterLogout, "Auth.id after logout")
}

// browser starts headless Chromium (browsertest.Chromium) with a fresh
// profile for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := browsertest.ChromiumOptions(t.TempDir(), io.Discard)
	deadline, cancelDeadline := context.WithTimeout(context.Background(), browserDeadline)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx)
		cancelCtx()
		cancelAlloc()
		cancelDeadline()
	})
	require.NoError(t, chromedp.Do(ctx), "starting Chromium")
	return ctx
}

// TestTypes compiles TypeScript that uses the installed package, as a
// bundler resolves it (index.d.ts) and as Node.js does (node.d.ts), with
// the typescript that make typecheck installs into .tools/npm.
func TestTypes(t *testing.T) {
	p := installed(t)
	tsc := browsertest.Require(t, inTools(p.root, "typescript", "node_modules/.bin/tsc"))
	for _, c := range []struct{ file, module, resolution string }{
		{"browser.ts", "esnext", "bundler"},
		{"node.ts", "nodenext", "nodenext"},
	} {
		t.Run(c.file, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "types", c.file))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(p.project, c.file), src, 0o644))
			run(t, p.project, tsc, "--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom",
				"--module", c.module, "--moduleResolution", c.resolution, c.file)
		})
	}
}

// TestLoader: the package's loader is web/internal/site/loader.js, unchanged,
// and exports the function it declares.
func TestLoader(t *testing.T) {
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "web", "internal", "site", "loader.js"))
	require.NoError(t, err)
	loader, err := npmpkg.Loader(src)
	require.NoError(t, err)
	assert.True(t, bytes.HasSuffix(loader, append(slices.Clone(src), "export { load };\n"...)), "loader.js, then the export")
	assert.True(t, bytes.HasPrefix(loader, []byte("// Generated by make build from web/internal/site/loader.js: do not edit.\n")))

	got, err := npmpkg.Loader([]byte("function load(env) {\n}"))
	require.NoError(t, err)
	assert.True(t, bytes.HasSuffix(got, []byte("\nfunction load(env) {\n}\nexport { load };\n")), "a newline before the export")
	for _, bad := range []string{
		"(function () {})();",
		"var x = function load(env) {\n};",
		"function load(env) {\n}\nfunction load(env) {\n}\n",
	} {
		_, err := npmpkg.Loader([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

// TestAssemble: Assemble writes the whole package, its sources unchanged and
// api.js as the PBX serves it.
func TestAssemble(t *testing.T) {
	root := repoRoot(t)
	built(t, root)
	out := filepath.Join(t.TempDir(), "npm")
	require.NoError(t, npmpkg.Assemble(root, out))
	for _, name := range npmpkg.Sources {
		want, err := os.ReadFile(filepath.Join(root, "web", "npm", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}
	for _, name := range npmpkg.Generated {
		_, err := os.Stat(filepath.Join(out, name))
		assert.NoError(t, err)
	}
	api, err := os.ReadFile(filepath.Join(out, "api.js"))
	require.NoError(t, err)
	assert.Equal(t, string(site.ClassicScript()), string(api))
}

// TestModuleTypes: index.d.ts has api.d.ts's declarations, as the module's
// PBX.
func TestModuleTypes(t *testing.T) {
	root := repoRoot(t)
	dts, err := os.ReadFile(filepath.Join(root, "web", "internal", "site", "api.d.ts"))
	require.NoError(t, err)
	types, err := npmpkg.ModuleTypes(dts)
	require.NoError(t, err)
	s := string(types)
	assert.Contains(t, s, "declare namespace PBX {\n")
	assert.NotContains(t, s, "IPCortex.PBX {", "no global namespace")
	assert.NotContains(t, s, "onAPILoadReady", "no global callback")
	assert.Contains(t, s, "interface AuthAPI {")
	assert.Contains(t, s, "export declare const Auth: PBX.AuthAPI;")
	assert.Contains(t, s, "export declare const ready: Promise<void>;")
	_, err = npmpkg.ModuleTypes([]byte("declare const x: number;\n"))
	assert.Error(t, err)
}

// TestPackageFiles: package.json lists what the package ships, and web/npm
// holds its sources only: make build writes the package into out/npm.
func TestPackageFiles(t *testing.T) {
	npm := filepath.Join(repoRoot(t), "web", "npm")
	b, err := os.ReadFile(filepath.Join(npm, "package.json"))
	require.NoError(t, err)
	var pkg struct {
		Name, Version, Type, Types string
		Files                      []string
		Exports                    map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(b, &pkg))
	assert.Equal(t, "pbxauth", pkg.Name)
	assert.Regexp(t, `^\d+\.\d+\.\d+`, pkg.Version)
	assert.Equal(t, "module", pkg.Type)
	assert.Equal(t, "./index.d.ts", pkg.Types)
	for _, f := range append(slices.Clone(npmpkg.Sources), npmpkg.Generated...) {
		if f != "package.json" && f != "README.md" { // npm always packs these
			assert.Contains(t, pkg.Files, f)
		}
	}
	assert.Contains(t, string(pkg.Exports["."]), `"node"`, "a node condition")
	for _, k := range []string{"./api.js", "./pbxauth.wasm", "./wasm_exec.js"} {
		assert.Contains(t, pkg.Exports, k)
	}

	for _, f := range npmpkg.Generated {
		_, err := os.Stat(filepath.Join(npm, f))
		assert.True(t, errors.Is(err, os.ErrNotExist), "web/npm/%s: remove it; make build writes the package into out/npm", f)
	}
}
