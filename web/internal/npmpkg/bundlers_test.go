//go:build unix

package npmpkg_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// bundlerApp is a page in testdata/bundlers/<dir> that imports pbxauth
// (main.js, the same in each), built for production by one bundler, whose
// version package.json pins and package-lock.json locks.
type bundlerApp struct {
	dir     string // in testdata/bundlers
	bundler string // the package npm ci installs, whose package.json must be there
	// build returns the command, run in the app's folder, that builds the
	// app into out.
	build func(out string) []string
	// copy are the files of the app's folder to put beside the build's
	// after it; the page is the build's index.html.
	copy []string
	// minNPM is the oldest npm (major version) that installs the bundler.
	minNPM int
}

var (
	// webpackApp: webpack 5, mode 'production' (webpack.config.js), run
	// through webpack's Node API (build.js), so that webpack-cli is not
	// needed. webpack writes no page: index.html, which loads main.js, is
	// copied beside the bundle.
	webpackApp = bundlerApp{dir: "webpack", bundler: "webpack",
		build: func(out string) []string { return []string{"build.js", out} },
		copy:  []string{"index.html"}}
	// viteApp: vite build, with no config file (pbxauth needs none), which
	// writes the page from index.html. Vite 8 installs with npm 11 only.
	viteApp = bundlerApp{dir: "vite", bundler: "vite",
		build: func(out string) []string {
			return []string{filepath.Join("node_modules", "vite", "bin", "vite.js"), "build", "--outDir", out, "--emptyOutDir"}
		},
		minNPM: 11}
)

// TestBundlerWebpack: a page built by webpack 5 for production logs in from
// another site than the PBX, with the module webpack emitted as an asset of
// the build, and logs out.
func TestBundlerWebpack(t *testing.T) { testBundler(t, webpackApp) }

// TestBundlerVite: the same page built by vite build.
func TestBundlerVite(t *testing.T) { testBundler(t, viteApp) }

// testBundler installs the app's bundler (npm ci, once: node_modules is
// kept in the app's folder while its lock file is unchanged), installs the
// packed pbxauth into it without saving it, builds the app, serves the
// build on localhost and the PBX on 127.0.0.1 (two sites, as a real page
// and a real PBX are), and opens the page in Chromium. The page logs in as
// alice and out; the module it ran must be the build's own asset, fetched
// from the page's site, and nothing of the module from the PBX.
func testBundler(t *testing.T, app bundlerApp) {
	node := browsertest.Require(t, browsertest.Node, browsertest.NPM, browsertest.Chromium)
	npm := browsertest.NPM.Find()
	if app.minNPM > 0 {
		v := strings.TrimSpace(string(run(t, tmp, npm, "--version")))
		major, _, _ := strings.Cut(v, ".")
		if n, err := strconv.Atoi(major); err != nil || n < app.minNPM {
			browsertest.Skip(t, fmt.Sprintf("%s needs npm %d or later, and npm --version says %s: npm install -g npm@%d", app.bundler, app.minNPM, v, app.minNPM))
		}
	}
	p := installed(t)
	tarballs, err := filepath.Glob(filepath.Join(tmp, "pbxauth-*.tgz"))
	require.NoError(t, err)
	require.Len(t, tarballs, 1, "the tarball that npm pack made in %s", tmp)
	dir, err := filepath.Abs(filepath.Join("testdata", "bundlers", app.dir))
	require.NoError(t, err)

	// One go test at a time installs into and builds from the app's folder:
	// others may run the package's tests in the same checkout.
	lock, err := os.Open(dir)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX), "locking %s", dir)

	step := time.Now()
	fresh := installBundler(t, npm, dir, app.bundler)
	t.Logf("%s: npm ci %s (%s)", app.dir, map[bool]string{true: "ran", false: "was not needed: node_modules matches package-lock.json"}[fresh], time.Since(step).Round(time.Millisecond))

	step = time.Now()
	run(t, dir, npm, "install", "--no-save", "--offline", "--no-audit", "--no-fund", tarballs[0])
	t.Logf("%s: npm install --no-save of the packed pbxauth (%s)", app.dir, time.Since(step).Round(time.Millisecond))

	out := filepath.Join(t.TempDir(), "dist")
	step = time.Now()
	t.Logf("%s: build:\n%s", app.dir, run(t, dir, node, app.build(out)...))
	t.Logf("%s: build took %s", app.dir, time.Since(step).Round(time.Millisecond))
	for _, f := range app.copy {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, f), b, 0o644))
	}

	// The build carries the module that make build made, once, as a file
	// of its own: its path in the build is the URL the page must fetch.
	built, err := os.ReadFile(filepath.Join(p.root, "web", "internal", "site", "dist", "pbxauth.wasm"))
	require.NoError(t, err)
	var wasms, files []string
	require.NoError(t, filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		if strings.HasSuffix(path, ".wasm") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			assert.True(t, bytes.Equal(b, built), "%s is the module make build made", rel)
			wasms = append(wasms, filepath.ToSlash(rel))
		}
		return nil
	}))
	require.Len(t, wasms, 1, "one .wasm in the build; it has %q", files)
	t.Logf("%s: the build: %q", app.dir, files)

	pbx := pbxtest.NewServer(t)
	var mu sync.Mutex
	served := map[string]int{} // path: status, of the page's server
	fileServer := http.FileServer(http.Dir(out))
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		fileServer.ServeHTTP(rec, r)
		mu.Lock()
		served[r.URL.Path] = rec.status
		mu.Unlock()
	}))
	defer site.Close()
	origin := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)
	pageURL := origin + "/?pbx=" + url.QueryEscape(pbx.URL)

	ctx := browser(t)
	logs := console(ctx)
	step = time.Now()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(pageURL)))
	// window.result is the page's Promise, set by the bundle, which runs
	// before the load event that Navigate waits for.
	r, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult]("window.result", chromedp.EvalAwaitPromise))
	require.NoError(t, err, "console:\n%s", logs())
	require.Empty(t, r.Error, "console:\n%s", logs())
	t.Logf("%s: the page logged in and out (%s)", app.dir, time.Since(step).Round(time.Millisecond))
	assert.Nil(t, r.BeforeReady, "Auth.id before ready")
	assert.Equal(t, "undefined", r.Global, "the ES module puts nothing on globalThis")
	assert.Equal(t, "function", r.StartFeed)
	if assert.NotNil(t, r.ID, "Auth.id after alice's login") {
		assert.Equal(t, 101.0, *r.ID, "Auth.id after alice's login")
	}
	assert.Equal(t, "alice", r.Uname)
	assert.Nil(t, r.AfterLogout, "Auth.id after logout")

	// What the page fetched, as Chromium saw it: the module from the
	// build's asset URL on the page's site, and from the PBX only its API.
	resources, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("performance.getEntriesByType('resource').map((e) => e.name)"))
	require.NoError(t, err)
	var fetched []string
	for _, res := range resources {
		u, err := url.Parse(res)
		require.NoError(t, err)
		if strings.HasSuffix(u.Path, ".wasm") {
			fetched = append(fetched, res)
		}
		if strings.HasPrefix(res, pbx.URL+"/") {
			assert.False(t, strings.HasSuffix(u.Path, ".js") || strings.HasSuffix(u.Path, ".wasm"),
				"the page fetched %s from the PBX: the module must come from the build", res)
		}
	}
	assert.Equal(t, []string{origin + "/" + wasms[0]}, fetched, "the page fetched the module once, from the build's asset URL; all it fetched: %q", resources)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, http.StatusOK, served["/"+wasms[0]], "the page's server served the module; it served %v", served)
}

// installBundler runs npm ci in dir, from its package-lock.json, unless
// node_modules already holds what that lock file (and package.json) name,
// and the bundler: a stamp in node_modules keeps their hash. It reports
// whether npm ci ran.
func installBundler(t *testing.T, npm, dir, bundler string) bool {
	t.Helper()
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	want := hex.EncodeToString(h.Sum(nil)) + "\n"
	stamp := filepath.Join(dir, "node_modules", ".pbxauth-lock-sha256")
	if got, err := os.ReadFile(stamp); err == nil && string(got) == want {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", bundler, "package.json")); err == nil {
			return false
		}
	}
	// npm ci removes node_modules first; the stamp goes with it, and is
	// written again only once npm ci has succeeded.
	run(t, dir, npm, "ci", "--no-audit", "--no-fund")
	require.NoError(t, os.WriteFile(stamp, []byte(want), 0o644))
	return true
}

// statusRecorder keeps the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// console collects the page's console messages from now on, and returns a
// function that gives them so far, one a line.
func console(ctx context.Context) func() string {
	var mu sync.Mutex
	var lines []string
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
		}
	}()
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
}
