package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pbxauth/pbxauth/web/site"
)

// Deadlines of the load benchmark. They bound waiting only.
const (
	loadDeadline    = 60 * time.Second // one cold page load, tab set-up included
	floorDeadline   = 5 * time.Minute  // building and compressing the floor, once
	benchFloorWasm  = "floor.wasm"
	benchLoadMetric = "ms/load"
)

// BenchmarkLoad measures, in the page, how long a cold load takes from the
// start of the navigation (performance.now() counts from it) to a ready
// module, against a baseline measured the same way in the same run:
//
//   - module: a vendor page on the second origin with the one script tag
//     <script src="PBX/api/api.js"> and a global onAPILoadReady, which the
//     loader calls once the module is ready;
//   - floor: a page on the second origin that loads the PBX's
//     /api/wasm_exec.js and the floor program (./wasm/testdata/floor, the
//     smallest syscall/js program, which make size measures too), built here
//     with the module's flags and sent brotli-compressed as application/wasm,
//     as the module is, from a third origin; it is ready when the program has
//     set its global "floor".
//
// Every iteration loads the page in a new tab of a new browser context (its
// own HTTP cache, connections and renderer process) with the cache disabled,
// so each one fetches and compiles every byte again over loopback. The
// metric is the mean of the in-page times, in ms/load; ns/op is the
// wall-clock time of the same loads seen from Go, tab set-up excluded.
func BenchmarkLoad(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	b.Run("module", func(b *testing.B) {
		url := env.pages.add("bench-module", benchPage("load: module", fmt.Sprintf(
			`<script>window.onAPILoadReady = function () { __benchReady(); };</script>
<script src="%s/api/api.js"></script>`, env.pbx)))
		benchLoads(b, url)
	})
	b.Run("floor", func(b *testing.B) {
		srv, err := floorServer()
		if err != nil {
			b.Fatalf("the floor program: %v", err)
		}
		url := env.pages.add("bench-floor", benchPage("load: floor", fmt.Sprintf(`<script src="%s/api/wasm_exec.js"></script>
<script>
(function () {
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(%q), go.importObject).then(function (r) {
    go.run(r.instance); // runs main until it blocks, so it has set floor by now
    if (typeof globalThis.floor !== 'function') throw new Error('the floor program did not set its global floor');
    __benchReady();
  }).catch(function (e) { __benchFail('loading the floor: ' + (e && e.message || e)); });
})();
</script>`, env.pbx, srv.URL+"/"+benchFloorWasm)))
		benchLoads(b, url)
		if n := srv.notBrotli.Load(); n > 0 {
			b.Fatalf("%d floor request(s) did not accept brotli; the comparison with the module, which the PBX sends as brotli, would be unfair", n)
		}
	})
}

// benchPage is a page whose head defines __bench, a Promise of the
// performance.now() at which the page called __benchReady, rejected by
// __benchFail, an uncaught error, a script that fails to load, an unhandled
// rejection or a console.error (the loader reports a module that cannot load
// with console.error).
func benchPage(title, body string) string {
	return fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>%s</title>
<script>
(function () {
  var settle = {};
  window.__bench = new Promise(function (resolve, reject) { settle.ok = resolve; settle.fail = reject; });
  window.__benchReady = function () { settle.ok(performance.now()); };
  window.__benchFail = function (why) { settle.fail(new Error(String(why))); };
  var consoleError = console.error;
  console.error = function () {
    __benchFail('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
  addEventListener('error', function (e) { // capturing, to see scripts that fail to load too
    __benchFail(e.target && e.target !== window ? 'cannot load ' + (e.target.src || e.target.tagName) : 'uncaught: ' + e.message);
  }, true);
  addEventListener('unhandledrejection', function (e) { __benchFail('unhandled rejection: ' + (e.reason && e.reason.message || e.reason)); });
})();
</script></head>
<body>
<h1>%s</h1>
%s
</body></html>
`, title, title, body)
}

// benchLoads loads url b.N times, each cold, and reports the mean in-page
// time to ready.
func benchLoads(b *testing.B, url string) {
	b.Helper()
	b.StopTimer()
	b.ResetTimer()
	var total float64
	for i := range b.N {
		ms, err := coldLoad(b, url)
		if err != nil {
			b.Fatalf("load %d of %d of %s: %v", i+1, b.N, url, err)
		}
		total += ms
	}
	b.ReportMetric(total/float64(b.N), benchLoadMetric)
}

// coldLoad opens a new tab in a new browser context with the cache disabled,
// then, with the benchmark timer running, navigates it to url and waits for
// the page's __bench. It returns the page's time to ready, in milliseconds.
func coldLoad(b *testing.B, url string) (float64, error) {
	ctx, cancelDeadline := context.WithTimeout(env.browser, loadDeadline)
	defer cancelDeadline()
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()

	console := &capBuffer{max: 16 << 10}
	if err := chromedp.Do(ctx); err != nil {
		return 0, fmt.Errorf("opening a tab: %w", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintf(console, "  %s: %s\n", m.Type, clipText(m.Text, 500))
		}
	}()
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		return 0, fmt.Errorf("disabling the cache: %w", err)
	}

	b.StartTimer()
	err := chromedp.Do(ctx, chromedp.Navigate(url))
	var ms float64
	if err == nil {
		ms, err = chromedp.Run(ctx, chromedp.Evaluate[float64]("window.__bench", chromedp.EvalAwaitPromise))
	}
	b.StopTimer()

	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("not ready within %s: %w", loadDeadline, err)
		}
		log := console.String()
		if log == "" {
			log = "  (empty)\n"
		}
		return 0, fmt.Errorf("%w\nconsole of the page:\n%s", err, log)
	}
	if ms <= 0 {
		return 0, fmt.Errorf("the page recorded %v ms", ms)
	}
	return ms, nil
}

// benchFloorServer serves the floor program at /floor.wasm, brotli-compressed,
// to pages of any origin.
type benchFloorServer struct {
	*httptest.Server
	notBrotli atomic.Int64 // requests whose Accept-Encoding lacked br
}

var floorOnce struct {
	sync.Once
	srv *benchFloorServer
	err error
}

// floorServer builds the floor program and starts its server, once per run
// (go test -count runs the benchmark again in the same process). The server
// lives until the process ends.
func floorServer() (*benchFloorServer, error) {
	floorOnce.Do(func() {
		body, err := buildFloor()
		if err != nil {
			floorOnce.err = err
			return
		}
		var br []byte
		for _, e := range site.Encodings() {
			if e.Name == "br" {
				br = e.Compress(body)
			}
		}
		if br == nil {
			floorOnce.err = errors.New("site.Encodings() offers no br encoding")
			return
		}
		s := &benchFloorServer{}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /"+benchFloorWasm, func(w http.ResponseWriter, r *http.Request) {
			if !acceptsBrotli(r.Header.Values("Accept-Encoding")) {
				s.notBrotli.Add(1)
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Cache-Control", "no-cache")
			h.Set("Vary", "Accept-Encoding")
			h.Set("Content-Type", "application/wasm")
			h.Set("Content-Encoding", "br")
			h.Set("Content-Length", strconv.Itoa(len(br)))
			w.Write(br)
		})
		s.Server = httptest.NewServer(mux)
		floorOnce.srv = s
	})
	return floorOnce.srv, floorOnce.err
}

// acceptsBrotli reports whether an Accept-Encoding lists br (Chromium sends
// no q values).
func acceptsBrotli(values []string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			coding, _, _ := strings.Cut(item, ";")
			if strings.EqualFold(strings.TrimSpace(coding), "br") {
				return true
			}
		}
	}
	return false
}

// buildFloor builds ./wasm/testdata/floor as make size does and returns the
// .wasm.
func buildFloor() ([]byte, error) {
	tmp, err := os.MkdirTemp("", "pbxauth-floor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, benchFloorWasm)
	ctx, cancel := context.WithTimeout(context.Background(), floorDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./wasm/testdata/floor")
	cmd.Dir = env.root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go build ./wasm/testdata/floor: %v\n%s", err, b)
	}
	return os.ReadFile(out)
}
