package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/chromedp/chromedp"

	"github.com/pbxauth/pbxauth/internal/browsertest"
)

// Deadlines of the set-up. Nothing is asserted on time: these only keep a
// broken build, server or browser from hanging the run.
const (
	buildDeadline   = 5 * time.Minute
	listenDeadline  = 30 * time.Second
	browserDeadline = 90 * time.Second
	stopDeadline    = 10 * time.Second
)

// env is what TestMain sets up once for every test.
var env struct {
	root    string // the repository root
	pbx     string // the PBX's origin, http://127.0.0.1:PORT
	pbxLog  *capBuffer
	bin     string // the PBX server binary, for tests that start their own
	pingKey string // the key file the PBX signs Ping JWTs with
	pages   *pageServer
	browser context.Context // a chromedp context with a running browser

	unavailable string // why the tests cannot run here (-short, no Chromium); every test skips with it
	setupErr    error  // why the set-up failed; every test reports it
}

func TestMain(m *testing.M) {
	flag.Parse() // for testing.Short
	stop := func() {}
	if env.unavailable = browsertest.Unavailable(browsertest.Chromium); env.unavailable == "" {
		var err error
		stop, err = setUp()
		env.setupErr = err
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e set-up failed:", err)
		}
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// requireEnv skips the test where browser tests cannot run (failing it
// under CI), and fails it when the set-up failed, with the reason.
func requireEnv(t testing.TB) {
	t.Helper()
	browsertest.Skip(t, env.unavailable)
	if env.root != "" {
		statOnce.Do(func() { statInputs(env.root) })
	}
	if env.setupErr != nil {
		t.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
}

// setUp finds the repository, checks the module build, builds and starts the
// PBX server, starts the page server and the browser. The returned stop
// undoes what was done, also after a failure.
func setUp() (stop func(), err error) {
	var undo []func()
	stop = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	root, err := repoRoot()
	if err != nil {
		return stop, err
	}
	env.root = root
	for _, f := range []string{"pbxauth.wasm", "wasm_exec.js"} {
		p := filepath.Join(root, "web", "internal", "site", "dist", f)
		if _, err := os.Stat(p); err != nil {
			return stop, fmt.Errorf("%s is missing (%v): run make build first (it builds the module into web/internal/site/dist, which the server embeds)", p, err)
		}
	}

	tmp, err := os.MkdirTemp("", "pbxauth-e2e-")
	if err != nil {
		return stop, err
	}
	undo = append(undo, func() { os.RemoveAll(tmp) })

	bin := filepath.Join(tmp, "pbx")
	if err := buildServer(root, bin); err != nil {
		return stop, err
	}
	env.bin = bin
	env.pbxLog = &capBuffer{max: 1 << 20}
	env.pingKey = filepath.Join(tmp, "ping.key")
	pbx, stopPBX, err := startServer(bin, env.pbxLog, "-addr", "127.0.0.1:0", "-test-clock", "-ping-key", env.pingKey)
	if err != nil {
		return stop, err
	}
	undo = append(undo, stopPBX)
	env.pbx = pbx
	if err := checkServedModule(pbx); err != nil {
		return stop, err
	}

	env.pages = newPageServer()
	undo = append(undo, env.pages.Close)

	browser, stopBrowser, err := startBrowser(filepath.Join(tmp, "chromium-profile"))
	if err != nil {
		return stop, err
	}
	undo = append(undo, stopBrowser)
	env.browser = browser
	return stop, nil
}

var statOnce sync.Once

// statInputs stats every file the server and the module are built from. The
// tests build them with go build in a child process, which go test's result
// cache cannot see; the stats it does see, so that a change to the loader,
// the module or the server runs the tests again instead of reporting a cached
// pass. It must run during m.Run (go test logs file accesses only then).
func statInputs(root string) {
	for _, f := range []string{"go.mod", "go.sum"} {
		_, _ = os.Stat(filepath.Join(root, f))
	}
	for _, dir := range []string{"core", "jsbridge", "wasm", "web"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && path == filepath.Join(root, "web", "internal", "e2e") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				_, _ = os.Stat(path)
			}
			return nil
		})
	}
}

// repoRoot walks up from the working directory (web/internal/e2e under go test) to the
// directory of go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/pbxauth/pbxauth")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/pbxauth/pbxauth) above the working directory")
		}
		dir = parent
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func buildServer(root, bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./web")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./web: %v\n%s", err, out)
	}
	return nil
}

var listeningLine = regexp.MustCompile(`^listening on (http://127\.0\.0\.1:(\d+))$`)

// startServer starts the PBX with args and returns its origin once it has
// printed its listening line; its log goes to log.
func startServer(bin string, log *capBuffer, args ...string) (origin string, stop func(), err error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", func() {}, err
	}
	if err := cmd.Start(); err != nil {
		return "", func() {}, fmt.Errorf("starting the PBX server: %w", err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		if first {
			close(lines)
		}
		exited <- cmd.Wait()
	}()
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(stopDeadline):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case line, ok := <-lines:
		m := listeningLine.FindStringSubmatch(line)
		if !ok || m == nil {
			stop()
			return "", func() {}, fmt.Errorf("the PBX server printed %q instead of \"listening on http://127.0.0.1:PORT\"; its stderr:\n%s", line, log)
		}
		if _, err := strconv.Atoi(m[2]); err != nil {
			stop()
			return "", func() {}, err
		}
		return m[1], stop, nil
	case <-time.After(listenDeadline):
		stop()
		return "", func() {}, fmt.Errorf("the PBX server printed no listening line within %s; its stderr:\n%s", listenDeadline, log)
	}
}

// startBrowser starts one headless Chromium for the whole run. Each test
// makes its own browser context (its own cookie jar and storage) in it.
// A test that needs other flags starts a browser of its own with extra.
func startBrowser(profile string, extra ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	browserOut := &capBuffer{max: 64 << 10}
	opts := append(browsertest.ChromiumOptions(profile, browserOut), extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	stop := func() {
		cctx, cancel := context.WithTimeout(context.Background(), stopDeadline)
		defer cancel()
		_ = chromedp.Cancel(cctx)
		cancelCtx()
		cancelAlloc()
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			stop()
			return nil, func() {}, fmt.Errorf("starting Chromium: %v; its output:\n%s", err, browserOut)
		}
	case <-time.After(browserDeadline):
		stop()
		return nil, func() {}, fmt.Errorf("Chromium did not start within %s; its output:\n%s", browserDeadline, browserOut)
	}
	return ctx, stop, nil
}

// capBuffer keeps the first max bytes written to it, safely across goroutines.
type capBuffer struct {
	mu   sync.Mutex
	max  int
	buf  bytes.Buffer
	lost int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	if room < len(p) {
		if room > 0 {
			b.buf.Write(p[:room])
		}
		b.lost += len(p) - max(room, 0)
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

func (b *capBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lost > 0 {
		return b.buf.String() + fmt.Sprintf("\n[... %d more bytes]", b.lost)
	}
	return b.buf.String()
}

// pageServer is the second origin: it serves the test pages that load the
// module from the PBX with one script tag.
type pageServer struct {
	*httptest.Server
	mu    sync.Mutex
	pages map[string]string
	files map[string]servedFile
	n     int
}

// servedFile is a file of the page server with its own headers (a script
// beside a page, a page with a Content-Security-Policy).
type servedFile struct {
	body   string
	header map[string]string
}

func newPageServer() *pageServer {
	ps := &pageServer{pages: map[string]string{}, files: map[string]servedFile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /p/{name}", func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		html, ok := ps.pages[r.PathValue("name")]
		ps.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, html)
	})
	mux.HandleFunc("GET /f/{name}", func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		f, ok := ps.files[r.PathValue("name")]
		ps.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		for k, v := range f.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, f.body)
	})
	ps.Server = httptest.NewServer(mux)
	return ps
}

// addFile serves body with the headers at /f/name and returns its URL.
func (ps *pageServer) addFile(name, body string, header map[string]string) string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.files[name] = servedFile{body: body, header: header}
	return ps.URL + "/f/" + name
}

// add serves html and returns its URL.
func (ps *pageServer) add(name, html string) string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.n++
	key := fmt.Sprintf("%d-%s", ps.n, strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, name))
	ps.pages[key] = html
	return ps.URL + "/p/" + key
}

// checkServedModule fetches the module and its runtime glue in every encoding
// the server offers and requires the same bytes in each: the server sends the
// precompressed copies (.br, .gz) that make build writes beside the module,
// so a module rebuilt without them would reach browsers stale.
func checkServedModule(pbx string) error {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: listenDeadline}
	defer client.CloseIdleConnections()
	for _, name := range []string{"pbxauth.wasm", "wasm_exec.js"} {
		var plain []byte
		for _, enc := range []string{"identity", "br", "gzip"} {
			req, err := http.NewRequest(http.MethodGet, pbx+"/api/"+name, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Accept-Encoding", enc)
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("fetching /api/%s: %w", name, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return fmt.Errorf("fetching /api/%s: %w", name, err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET /api/%s: %s: %s (run make build)", name, resp.Status, clipText(string(body), 300))
			}
			var r io.Reader = bytes.NewReader(body)
			switch got := resp.Header.Get("Content-Encoding"); got {
			case "", "identity":
			case "br":
				r = brotli.NewReader(r)
			case "gzip":
				if r, err = gzip.NewReader(r); err != nil {
					return fmt.Errorf("GET /api/%s with Accept-Encoding %s: %w", name, enc, err)
				}
			default:
				return fmt.Errorf("GET /api/%s with Accept-Encoding %s: unexpected Content-Encoding %q", name, enc, got)
			}
			decoded, err := io.ReadAll(r)
			if err != nil {
				return fmt.Errorf("GET /api/%s with Accept-Encoding %s: decoding: %w", name, enc, err)
			}
			if plain == nil {
				plain = decoded
			} else if !bytes.Equal(plain, decoded) {
				return fmt.Errorf("the server sends a different /api/%s with Accept-Encoding %s (%d bytes decoded) than without (%d bytes): the precompressed copies in web/internal/site/dist are stale; run make build", name, enc, len(decoded), len(plain))
			}
		}
	}
	return nil
}
