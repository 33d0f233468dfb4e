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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pbxauth/pbxauth/internal/browsertest"
	"github.com/pbxauth/pbxauth/web/internal/site"
)

// Deadlines of the load benchmark. They bound waiting only.
const (
	loadDeadline   = 60 * time.Second // one browser: start, the loads it makes, stop
	floorDeadline  = 5 * time.Minute  // building and compressing the floor, once
	benchFloorWasm = "floor.wasm"
)

// The Accept-Encoding of the loads: Chromium's own, and Chromium's without
// zstd, for the loads that measure the module sent as brotli. Every load sets
// it through DevTools, so that all of them pay the same instrumentation.
const (
	acceptZstd = "gzip, deflate, br, zstd"
	acceptBr   = "gzip, deflate, br"
)

// BenchmarkLoad measures, in the page, how long a page takes from the start
// of its navigation (performance.now() counts from it) to ready, against a
// baseline measured the same way in the same run, and prints the medians and
// their ratios (make bench reads them into bench/results.json):
//
//   - module: a vendor page on the second origin (cross-origin to the PBX)
//     with the one script tag <script src="PBX/api/api.js"> and a global
//     onAPILoadReady, which the loader calls once the module is ready
//     ("loaded"); the page then calls login({checkonly: true}), and it is
//     ready when that first answer (login_required) has settled: a page can
//     act on the login only then;
//   - floor: a page on the second origin that loads the PBX's
//     /api/wasm_exec.js and the floor program (./wasm/testdata/floor, the
//     smallest syscall/js program, which make size measures too), built here
//     with the module's flags and sent as the PBX sends the module (zstd when
//     the browser accepts it, else brotli) as application/wasm from a third
//     origin; it is ready when the program has set its global "floor".
//
// Every round (b.N of them: -benchtime 10x) loads, each in a Chromium of its
// own with a fresh profile, so with an empty HTTP cache and no compiled code
// cached: the module page, then again in the same tab (warm), then in a new
// tab of the same browser (a second visit); the floor page; and both again in
// a Chromium that does not accept zstd (so they come as brotli). The order of
// module and floor alternates between rounds, so that a drift of the machine
// weighs on both alike. The warm and second-visit figures are divided by the
// cold floor: what a returning user waits against what the smallest Go
// program costs a new one. Nothing is asserted on time.
func BenchmarkLoad(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	srv, err := floorServer()
	if err != nil {
		b.Fatalf("the floor program: %v", err)
	}
	modulePage := env.pages.add("bench-module", benchPage("load: module", fmt.Sprintf(
		`<script>window.onAPILoadReady = function () {
  var ready = performance.now();
  IPCortex.PBX.Auth.login({checkonly: true}).then(function () {
    __benchFail('login({checkonly: true}) resolved in a browser that never logged in');
  }, function (e) {
    if (e && e.code === 'login_required') __benchReady(ready, performance.now());
    else __benchFail('login({checkonly: true}): ' + (e && e.code) + ': ' + (e && e.message));
  });
};</script>
<script src="%s/api/api.js"></script>`, env.pbx)))
	floorPage := env.pages.add("bench-floor", benchPage("load: floor", fmt.Sprintf(`<script src="%s/api/wasm_exec.js"></script>
<script>
(function () {
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(%q), go.importObject).then(function (r) {
    go.run(r.instance); // runs main until it blocks, so it has set floor by now
    if (typeof globalThis.floor !== 'function') throw new Error('the floor program did not set its global floor');
    __benchReady(performance.now());
  }).catch(function (e) { __benchFail('loading the floor: ' + (e && e.message || e)); });
})();
</script>`, env.pbx, srv.URL+"/"+benchFloorWasm)))

	// samples of each series, in ms.
	samples := map[string][]float64{}
	add := func(name string, ms float64) { samples[name] = append(samples[name], ms) }
	steps := []func() error{
		func() error { // the module as Chromium gets it: zstd
			return inBrowser(acceptZstd, func(ctx context.Context) error {
				cold, err := pageLoad(ctx, modulePage)
				if err != nil {
					return fmt.Errorf("module, cold: %w", err)
				}
				warm, err := pageLoad(ctx, modulePage)
				if err != nil {
					return fmt.Errorf("module, again in the same tab: %w", err)
				}
				tab, cancel := chromedp.NewContext(ctx)
				defer cancel()
				if err := prepareTab(tab, acceptZstd); err != nil {
					return err
				}
				second, err := pageLoad(tab, modulePage)
				if err != nil {
					return fmt.Errorf("module, second visit in a new tab: %w", err)
				}
				add("module-loaded", cold.Ready)
				add("module-ready", cold.Answer)
				add("module-warm-loaded", warm.Ready)
				add("module-warm-ready", warm.Answer)
				add("module-newtab-loaded", second.Ready)
				add("module-newtab-ready", second.Answer)
				return nil
			})
		},
		func() error {
			return inBrowser(acceptZstd, func(ctx context.Context) error {
				r, err := pageLoad(ctx, floorPage)
				if err != nil {
					return fmt.Errorf("floor, cold: %w", err)
				}
				add("floor-ready", r.Ready)
				return nil
			})
		},
		func() error { // brotli, as before zstd
			return inBrowser(acceptBr, func(ctx context.Context) error {
				r, err := pageLoad(ctx, modulePage)
				if err != nil {
					return fmt.Errorf("module, cold, brotli: %w", err)
				}
				add("module-br-ready", r.Answer)
				return nil
			})
		},
		func() error {
			return inBrowser(acceptBr, func(ctx context.Context) error {
				r, err := pageLoad(ctx, floorPage)
				if err != nil {
					return fmt.Errorf("floor, cold, brotli: %w", err)
				}
				add("floor-br-ready", r.Ready)
				return nil
			})
		},
	}
	// One round first that does not count: the first Chromium started and the
	// first pages served pay for disk and server caches the others find warm.
	for _, step := range steps {
		if err := step(); err != nil {
			b.Fatalf("the round before the measured ones: %v", err)
		}
	}
	clear(samples)
	zstd0, br0 := srv.served["zstd"].Load(), srv.served["br"].Load()

	round := 0
	for b.Loop() {
		order := []int{0, 1, 2, 3}
		if round%2 == 1 {
			order = []int{1, 0, 3, 2}
		}
		for _, i := range order {
			if err := steps[i](); err != nil {
				b.Fatalf("round %d: %v", round+1, err)
			}
		}
		round++
	}
	if n := srv.served["zstd"].Load() - zstd0; n != int64(round) {
		b.Fatalf("the floor went out as zstd %d times in %d rounds; the loads that accept zstd did not ask for it (Accept-Encoding seen: %s)", n, round, srv.seen())
	}
	if n := srv.served["br"].Load() - br0; n != int64(round) {
		b.Fatalf("the floor went out as brotli %d times in %d rounds; the loads without zstd did not get brotli (Accept-Encoding seen: %s)", n, round, srv.seen())
	}

	// Each round's ratio, before the medians sort the samples: their
	// quartiles are the run-to-run spread of each ratio.
	roundRatios := func(of, to string) []float64 {
		var out []float64
		for i := range min(len(samples[of]), len(samples[to])) {
			out = append(out, samples[of][i]/samples[to][i])
		}
		return out
	}
	spread := map[string][2]float64{}
	med := map[string]float64{}
	ratios := []struct{ name, of, to string }{
		{"ready-ratio", "module-ready", "floor-ready"},
		{"warm-ready-ratio", "module-warm-ready", "floor-ready"},
		{"newtab-ready-ratio", "module-newtab-ready", "floor-ready"},
		{"loaded-ratio", "module-loaded", "floor-ready"},
		{"br-ready-ratio", "module-br-ready", "floor-br-ready"},
		{"zstd-vs-br", "module-ready", "module-br-ready"},
	}
	for _, r := range ratios {
		rr := roundRatios(r.of, r.to)
		spread[r.name] = [2]float64{loadQuantile(rr, 0.25), loadQuantile(rr, 0.75)}
	}
	for name, s := range samples {
		med[name] = loadMedian(s)
		b.ReportMetric(med[name], name+"-ms")
	}
	for _, r := range ratios {
		b.ReportMetric(med[r.of]/med[r.to], r.name)
		b.ReportMetric(spread[r.name][0], r.name+"-p25")
		b.ReportMetric(spread[r.name][1], r.name+"-p75")
	}
	b.Logf("medians of %d rounds, in ms: module ready (checkonly settled) %.1f (loaded %.1f), warm in the same tab %.1f, second visit in a new tab %.1f; floor ready %.1f; as brotli: module %.1f, floor %.1f",
		round, med["module-ready"], med["module-loaded"], med["module-warm-ready"], med["module-newtab-ready"], med["floor-ready"], med["module-br-ready"], med["floor-br-ready"])
}

// loadQuantile is the q quantile of s (nearest rank), which it sorts.
func loadQuantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// loadMedian is the median of s (which it sorts).
func loadMedian(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// benchPage is a page whose head defines __bench, a Promise of the
// performance.now() at which the page was ready (and, for the module, had its
// first answer), given to __benchReady, rejected by __benchFail, an uncaught
// error, a script that fails to load, an unhandled rejection or a
// console.error (the loader reports a module that cannot load with
// console.error).
func benchPage(title, body string) string {
	return fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>%s</title>
<script>
(function () {
  var settle = {};
  window.__bench = new Promise(function (resolve, reject) { settle.ok = resolve; settle.fail = reject; });
  window.__benchReady = function (ready, answer) { settle.ok({ready: ready, answer: answer || 0}); };
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

// inBrowser starts a headless Chromium with a fresh profile and the flags of
// the test browser, runs fn with its first tab, whose requests carry
// acceptEncoding, and stops it.
func inBrowser(acceptEncoding string, fn func(ctx context.Context) error) error {
	return inBrowserFor(loadDeadline, acceptEncoding, func(ctx context.Context, _ string) error { return fn(ctx) })
}

// inBrowserFor is inBrowser with its own deadline, and fn also gets the
// browser's profile directory.
func inBrowserFor(deadline time.Duration, acceptEncoding string, fn func(ctx context.Context, profile string) error) error {
	profile, err := os.MkdirTemp("", "pbxauth-bench-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	out := &capBuffer{max: 16 << 10}
	opts := browsertest.ChromiumOptions(profile, out)
	ctx, cancelDeadline := context.WithTimeout(context.Background(), deadline)
	defer cancelDeadline()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer func() {
		_ = chromedp.Cancel(tab)
		cancelTab()
	}()
	if err := chromedp.Do(tab); err != nil {
		return fmt.Errorf("starting Chromium: %w; its output:\n%s", err, out)
	}
	if err := prepareTab(tab, acceptEncoding); err != nil {
		return err
	}
	if err := fn(tab, profile); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("not done within %s: %w", deadline, err)
		}
		return err
	}
	return nil
}

// prepareTab opens the tab and has its requests carry acceptEncoding.
func prepareTab(tab context.Context, acceptEncoding string) error {
	if err := chromedp.Do(tab); err != nil {
		return fmt.Errorf("opening a tab: %w", err)
	}
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		return fmt.Errorf("enabling the network domain: %w", err)
	}
	if _, err := chromedp.Call(tab, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Encoding": acceptEncoding},
	}); err != nil {
		return fmt.Errorf("setting Accept-Encoding: %w", err)
	}
	return nil
}

// loadResult is what a bench page recorded: when it was ready, and when the
// module's first answer came (0 for the floor), in ms since its navigation
// began.
type loadResult struct {
	Ready  float64 `json:"ready"`
	Answer float64 `json:"answer"`
}

// pageLoad navigates the tab to url and waits for the page's __bench.
func pageLoad(ctx context.Context, url string) (loadResult, error) {
	console := &capBuffer{max: 16 << 10}
	if err := chromedp.Do(ctx); err != nil {
		return loadResult{}, fmt.Errorf("opening a tab: %w", err)
	}
	lctx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	msgs := chromedp.Console(lctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			fmt.Fprintf(console, "  %s: %s\n", m.Type, clipText(m.Text, 500))
		}
	}()
	err := chromedp.Do(ctx, chromedp.Navigate(url))
	var r loadResult
	if err == nil {
		r, err = chromedp.Run(ctx, chromedp.Evaluate[loadResult]("window.__bench", chromedp.EvalAwaitPromise))
	}
	if err != nil {
		log := console.String()
		if log == "" {
			log = "  (empty)\n"
		}
		return loadResult{}, fmt.Errorf("%w\nconsole of the page:\n%s", err, log)
	}
	if r.Ready <= 0 {
		return loadResult{}, fmt.Errorf("the page recorded %v ms", r.Ready)
	}
	return r, nil
}

// benchFloorServer serves the floor program at /floor.wasm to pages of any
// origin, as zstd to browsers that accept it and as brotli to the others
// (the PBX's choice for the module).
type benchFloorServer struct {
	*httptest.Server
	served map[string]*atomic.Int64 // replies by Content-Encoding

	mu       sync.Mutex
	accepted map[string]int // Accept-Encoding values seen
}

func (s *benchFloorServer) seen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprint(s.accepted)
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
		encoded := map[string][]byte{}
		for _, e := range site.Encodings() {
			if e.Name == "br" || e.Name == "zstd" {
				encoded[e.Name] = e.Compress(body)
			}
		}
		if len(encoded) != 2 {
			floorOnce.err = errors.New("site.Encodings() lacks br or zstd")
			return
		}
		s := &benchFloorServer{
			served:   map[string]*atomic.Int64{"zstd": {}, "br": {}, "": {}},
			accepted: map[string]int{},
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /"+benchFloorWasm, func(w http.ResponseWriter, r *http.Request) {
			accept := r.Header.Values("Accept-Encoding")
			s.mu.Lock()
			s.accepted[strings.Join(accept, ",")]++
			s.mu.Unlock()
			enc := ""
			switch {
			case acceptsCoding(accept, "zstd"):
				enc = "zstd"
			case acceptsCoding(accept, "br"):
				enc = "br"
			}
			s.served[enc].Add(1)
			if enc == "" {
				http.Error(w, "the floor is sent as zstd or brotli only, as the module is", http.StatusNotAcceptable)
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Cache-Control", "no-cache")
			h.Set("Vary", "Accept-Encoding")
			h.Set("Content-Type", "application/wasm")
			h.Set("Content-Encoding", enc)
			h.Set("Content-Length", strconv.Itoa(len(encoded[enc])))
			w.Write(encoded[enc])
		})
		s.Server = httptest.NewServer(mux)
		floorOnce.srv = s
	})
	return floorOnce.srv, floorOnce.err
}

// acceptsCoding reports whether an Accept-Encoding lists coding (Chromium sends no
// q values).
func acceptsCoding(values []string, coding string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			c, _, _ := strings.Cut(item, ";")
			if strings.EqualFold(strings.TrimSpace(c), coding) {
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
