package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdpio "github.com/chromedp/cdproto/io"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// What BenchmarkCompile records and reads.
const (
	// traceLazyCompile is V8's event of a function compiled lazily, on the
	// thread that calls it for the first time (category v8.wasm, args
	// func_index). traceBaseline nests in it (and in eager baseline
	// compilation): category disabled-by-default-v8.wasm.detailed, args
	// funcIndex and bodySize. Both as Chromium 156 names them.
	traceLazyCompile = "wasm.CompileLazy"
	traceBaseline    = "wasm.CompileBaseline"
	// The pages' performance.mark names; a mark is a trace event of category
	// blink.user_timing on the page's main thread, the thread that compiles
	// lazily, so the order of the two is exact.
	markReady  = "pbxauth-ready"
	markAnswer = "pbxauth-answer"

	compileReportFile = "out/compile-report.txt" // under the repository root
	compileTopFuncs   = 60                       // functions listed by bytes in the report
)

// compileTraceCategories are the trace's categories: the lazy compilations
// and their body sizes, the pages' marks, and tier-up (for the raw trace).
var compileTraceCategories = []string{
	"v8.wasm",
	"disabled-by-default-v8.wasm.detailed",
	"disabled-by-default-v8.wasm.turbofan",
	"blink.user_timing",
	"disabled-by-default-devtools.timeline", // v8.wasm.moduleCacheHit (BenchmarkCodeCache)
}

// compileTraceDirEnv names an environment variable: when set, BenchmarkCompile
// writes each load's raw trace (JSON, for chrome://tracing or Perfetto) into
// the directory it names.
const compileTraceDirEnv = "PBXAUTH_COMPILE_TRACE_DIR"

// BenchmarkCompile counts the WebAssembly functions V8 compiles lazily (its
// default: a function is compiled, by Liftoff, when it is first called) before
// a page can act, and the bytes of their bodies, for the module and for two
// floors built in the same run, each loaded in a Chromium of its own with a
// fresh profile (no cached code), from a Chrome trace:
//
//   - module: the page of BenchmarkLoad, on the second origin with the one
//     script tag; it is ready when the loader calls onAPILoadReady, and has
//     its first answer when login({checkonly: true}) has settled
//     (login_required);
//   - floorfetch: ./wasm/testdata/floorfetch, the smallest Go program that
//     does one fetch (the reference point); ready when main has run
//     (it has started the fetch and waits), first answer when the fetch has
//     settled and the program has set its global;
//   - floor: ./wasm/testdata/floor, the smallest syscall/js program (make
//     size's); ready when main has run. For the report only.
//
// Each page puts a performance.mark at ready and at its first answer; the
// windows are the wasm.CompileLazy events of the page's renderer before each
// mark. Counts, not times: they are the same from run to run as long as the
// programs run the same code, but for one runtime function called at random
// (compileRandomFuncs). The floors are built with the module's
// flags (-trimpath -ldflags=-s -w) and served as they are; the module is
// the one the PBX serves. To name the functions, each program is built again
// without -s -w (which only adds the name section: the benchmark checks that
// the import and code sections are the same bytes, so the function indexes
// are too) and go list names its packages.
//
// It reports the counts and bytes at ready and at the first answer, their
// ratios to floorfetch (lazy-compile-ratio, lazy-compile-bytes-ratio at the
// first answer, lazy-compile-ready-ratio and -bytes-ratio at ready), and
// lazy-compile-ready-extra, the module's count at ready minus floorfetch's;
// and it writes out/compile-report.txt: totals by package and the functions
// by bytes, module against floorfetch. With -benchtime Nx it loads each page
// N times, reports round 1, and fails if another round compiled other
// functions, but for those in compileRandomFuncs, which the Go runtime calls
// at random moments (the counts of a window can differ by one between loads
// for that reason). Run it with -benchtime 1x.
func BenchmarkCompile(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	progs, srv, err := compilePrograms()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	traceDir := os.Getenv(compileTraceDirEnv)

	var first map[string]*compileLoad
	var differ []string // differences between rounds, in compileRandomFuncs only
	round := 0
	for b.Loop() {
		round++
		loads := map[string]*compileLoad{}
		for _, p := range progs {
			var data []byte
			err := inBrowser(acceptZstd, func(ctx context.Context) error {
				var err error
				data, err = traceLoad(ctx, p.page)
				return err
			})
			if err != nil {
				b.Fatalf("round %d, %s: %v", round, p.name, err)
			}
			if traceDir != "" {
				if err := os.WriteFile(filepath.Join(traceDir, fmt.Sprintf("compile-%s-%d.json", p.name, round)), data, 0o644); err != nil {
					b.Fatal(err)
				}
			}
			l, err := readCompileTrace(data, p)
			if err != nil {
				b.Fatalf("round %d, %s: the trace: %v", round, p.name, err)
			}
			loads[p.name] = l
		}
		if first == nil {
			first = loads
			continue
		}
		for _, p := range progs {
			a, c := first[p.name], loads[p.name]
			for _, w := range []struct {
				name   string
				before []int
				now    []int
			}{{"ready", a.ready, c.ready}, {"the first answer", a.answer, c.answer}} {
				only1, onlyN := setDiff(w.before, w.now)
				if len(only1) == 0 && len(onlyN) == 0 {
					continue
				}
				what := fmt.Sprintf("%s compiled other functions until %s in round %d (%d) than in round 1 (%d): only in round 1 %s; only in round %d %s",
					p.name, w.name, round, len(w.now), len(w.before), p.describe(only1), round, p.describe(onlyN))
				if p.random(only1) && p.random(onlyN) {
					b.Log(what + " (a function the Go runtime calls at random)")
					differ = append(differ, what)
				} else {
					b.Error(what)
				}
			}
		}
	}

	m, ff, fl := first["module"], first["floorfetch"], first["floor"]
	mod, ffp := progs[0], progs[1]
	for _, s := range []struct {
		name string
		p    *compileProgram
		l    *compileLoad
	}{{"module", mod, m}, {"floorfetch", ffp, ff}, {"floor", progs[2], fl}} {
		b.ReportMetric(float64(len(s.l.ready)), s.name+"-ready-funcs")
		b.ReportMetric(float64(s.p.bytes(s.l.ready)), s.name+"-ready-bytes")
		if s.p.answers {
			b.ReportMetric(float64(len(s.l.answer)), s.name+"-answer-funcs")
			b.ReportMetric(float64(s.p.bytes(s.l.answer)), s.name+"-answer-bytes")
		}
	}
	b.ReportMetric(float64(len(m.answer))/float64(len(ff.answer)), "lazy-compile-ratio")
	b.ReportMetric(float64(mod.bytes(m.answer))/float64(ffp.bytes(ff.answer)), "lazy-compile-bytes-ratio")
	b.ReportMetric(float64(len(m.ready))/float64(len(ff.ready)), "lazy-compile-ready-ratio")
	b.ReportMetric(float64(mod.bytes(m.ready))/float64(ffp.bytes(ff.ready)), "lazy-compile-ready-bytes-ratio")
	b.ReportMetric(float64(len(m.ready)-len(ff.ready)), "lazy-compile-ready-extra")

	var report bytes.Buffer
	writeCompileReport(&report, progs, first, round, differ)
	file := filepath.Join(env.root, filepath.FromSlash(compileReportFile))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(file, report.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("lazily compiled, module / floorfetch / floor: at ready %d (%d bytes) / %d (%d bytes) / %d (%d bytes); at the first answer %d (%d bytes) / %d (%d bytes); round 1 of %d; the report is in %s",
		len(m.ready), mod.bytes(m.ready), len(ff.ready), ffp.bytes(ff.ready), len(fl.ready), progs[2].bytes(fl.ready),
		len(m.answer), mod.bytes(m.answer), len(ff.answer), ffp.bytes(ff.answer), round, compileReportFile)
}

// compileProgram is one program BenchmarkCompile loads.
type compileProgram struct {
	name    string // module, floorfetch, floor
	what    string // for the report
	page    string // the URL of its page
	answers bool   // whether its page has a first answer after ready
	funcs   *wasmFuncs
	pkgs    *packageNamer
}

// bytes returns the body bytes of the functions.
func (p *compileProgram) bytes(funcs []int) int {
	n := 0
	for _, f := range funcs {
		n += p.funcs.size(f)
	}
	return n
}

// compileRandomFuncs are the functions (as the name section names them) that
// every Go program calls at a moment chosen at random: whether V8 has
// compiled them by a page's mark differs between loads. The runtime tracks
// the time a goroutine waits to run for 1 in 8 of its transitions
// (casgstatus), from a counter that newproc1 starts at random, and records
// it with timeHistogram.record when it does.
var compileRandomFuncs = []string{"runtime.__timeHistogram_.record"}

// random reports whether every function of funcs is in compileRandomFuncs.
func (p *compileProgram) random(funcs []int) bool {
	for _, f := range funcs {
		if !slices.Contains(compileRandomFuncs, p.funcs.name(f)) {
			return false
		}
	}
	return true
}

// describe lists functions by name, with their sizes.
func (p *compileProgram) describe(funcs []int) string {
	if len(funcs) == 0 {
		return "none"
	}
	var s []string
	for _, f := range funcs {
		s = append(s, fmt.Sprintf("%s (%d B)", p.pkgs.display(p.funcs.name(f)), p.funcs.size(f)))
	}
	return strings.Join(s, ", ")
}

// setDiff returns the functions only in a and those only in b, each sorted.
func setDiff(a, b []int) (onlyA, onlyB []int) {
	in := func(s []int, f int) bool { return slices.Contains(s, f) }
	for _, f := range a {
		if !in(b, f) {
			onlyA = append(onlyA, f)
		}
	}
	for _, f := range b {
		if !in(a, f) {
			onlyB = append(onlyB, f)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}

// compileLoad is what one traced load of a page compiled lazily: function
// indexes in the order of their compilation.
type compileLoad struct {
	ready  []int // before the page was ready
	answer []int // before its first answer (ready's and more)
}

// compilePrograms builds the floors, reads the module the PBX serves, names
// the functions of all three, starts the server of the floors and adds their
// pages.
func compilePrograms() ([]*compileProgram, *httptest.Server, error) {
	module, err := servedModule()
	if err != nil {
		return nil, nil, err
	}
	floorfetch, err := buildWasm("./wasm/testdata/floorfetch", true)
	if err != nil {
		return nil, nil, err
	}
	floor, err := buildWasm("./wasm/testdata/floor", true)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	for name, body := range map[string][]byte{"floorfetch.wasm": floorfetch, "floor.wasm": floor} {
		mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Content-Type", "application/wasm")
			w.Header().Set("Cache-Control", "no-store")
			w.Write(body)
		})
	}
	mux.HandleFunc("GET /answer", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)

	progs := []*compileProgram{
		{name: "module", what: "the module (./wasm, as the PBX serves it), page on the second origin with the script tag", answers: true,
			page: env.pages.add("compile-module", benchPage("compile: module", fmt.Sprintf(`<script>window.onAPILoadReady = function () {
  performance.mark(%[1]q);
  var ready = performance.now();
  IPCortex.PBX.Auth.login({checkonly: true}).then(function () {
    __benchFail('login({checkonly: true}) resolved in a browser that never logged in');
  }, function (e) {
    performance.mark(%[2]q);
    if (e && e.code === 'login_required') __benchReady(ready, performance.now());
    else __benchFail('login({checkonly: true}): ' + (e && e.code) + ': ' + (e && e.message));
  });
};</script>
<script src="%[3]s/api/api.js"></script>`, markReady, markAnswer, env.pbx)))},
		{name: "floorfetch", what: "./wasm/testdata/floorfetch, the smallest Go program that does one fetch", answers: true,
			page: env.pages.add("compile-floorfetch", benchPage("compile: floorfetch", fmt.Sprintf(`<script src="%[1]s/api/wasm_exec.js"></script>
<script>
(function () {
  var go = new Go(), ready = 0;
  globalThis.floorfetchURL = %[2]q;
  Object.defineProperty(globalThis, 'floorfetch', {configurable: true, set: function (v) {
    performance.mark(%[4]q);
    if (typeof v === 'number') __benchReady(ready, performance.now());
    else __benchFail('floorfetch: ' + v);
  }});
  WebAssembly.instantiateStreaming(fetch(%[3]q), go.importObject).then(function (r) {
    go.run(r.instance); // runs main until it waits for the fetch
    performance.mark(%[5]q);
    ready = performance.now();
  }).catch(function (e) { __benchFail('loading floorfetch: ' + (e && e.message || e)); });
})();
</script>`, env.pbx, srv.URL+"/answer", srv.URL+"/floorfetch.wasm", markAnswer, markReady)))},
		{name: "floor", what: "./wasm/testdata/floor, the smallest syscall/js program (make size's floor)",
			page: env.pages.add("compile-floor", benchPage("compile: floor", fmt.Sprintf(`<script src="%[1]s/api/wasm_exec.js"></script>
<script>
(function () {
  var go = new Go();
  WebAssembly.instantiateStreaming(fetch(%[2]q), go.importObject).then(function (r) {
    go.run(r.instance); // runs main until it blocks
    performance.mark(%[3]q);
    if (typeof globalThis.floor !== 'function') throw new Error('the floor program did not set its global floor');
    __benchReady(performance.now());
  }).catch(function (e) { __benchFail('loading the floor: ' + (e && e.message || e)); });
})();
</script>`, env.pbx, srv.URL+"/floor.wasm", markReady)))},
	}
	for _, c := range []struct {
		p      *compileProgram
		pkg    string
		served []byte
	}{{progs[0], "./wasm", module}, {progs[1], "./wasm/testdata/floorfetch", floorfetch}, {progs[2], "./wasm/testdata/floor", floor}} {
		if c.p.funcs, err = namedFuncs(c.pkg, c.served); err == nil {
			c.p.pkgs, err = goPackages(c.pkg)
		}
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
	}
	return progs, srv, nil
}

// servedModule returns the module as the PBX sends it, uncompressed.
func servedModule() ([]byte, error) {
	client := &http.Client{Timeout: listenDeadline}
	defer client.CloseIdleConnections()
	resp, err := client.Get(env.pbx + "/api/pbxauth.wasm")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET /api/pbxauth.wasm: %s", resp.Status)
	}
	return body, err
}

// buildWasm builds the js/wasm program pkg (relative to the repository) with
// the module's flags, or without -s -w (so with the name section) when not
// strip, and returns the .wasm.
func buildWasm(pkg string, strip bool) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "pbxauth-compile-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "prog.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), buildDeadline)
	defer cancel()
	args := []string{"build", "-trimpath"}
	if strip {
		args = append(args, "-ldflags=-s -w")
	}
	cmd := exec.CommandContext(ctx, goTool(), append(args, "-o", out, pkg)...)
	cmd.Dir = env.root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	return os.ReadFile(out)
}

// namedFuncs parses served, a build of pkg with -s -w, and names its
// functions from a build of the same source without -s -w, after checking
// that the two have the same function imports and the same code section
// (then the indexes are the same functions).
func namedFuncs(pkg string, served []byte) (*wasmFuncs, error) {
	w, err := parseWasm(served)
	if err != nil {
		return nil, fmt.Errorf("%s as served: %w", pkg, err)
	}
	full, err := buildWasm(pkg, false)
	if err != nil {
		return nil, err
	}
	named, err := parseWasm(full)
	if err != nil {
		return nil, fmt.Errorf("%s built without -s -w: %w", pkg, err)
	}
	if named.imports != w.imports || !bytes.Equal(named.code, w.code) {
		hint := ""
		if pkg == "./wasm" {
			hint = ": the module the PBX serves is not a build of the source as it is now (run make build)"
		}
		return nil, fmt.Errorf("%s built without -s -w has %d function imports and a code section of %d bytes, the served build %d and %d bytes%s",
			pkg, named.imports, len(named.code), w.imports, len(w.code), hint)
	}
	if len(named.names) == 0 {
		return nil, fmt.Errorf("%s built without -s -w has no function names", pkg)
	}
	w.names = named.names
	return w, nil
}

// goPackages returns the namer of pkg's packages, from go list -deps.
func goPackages(pkg string) (*packageNamer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "list", "-deps", "-f", "{{.Name}} {{.ImportPath}}", pkg)
	cmd.Dir = env.root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go list -deps %s: %v", pkg, err)
	}
	var paths []string
	for line := range strings.Lines(string(out)) {
		if name, path, ok := strings.Cut(strings.TrimSpace(line), " "); ok && name != "main" {
			paths = append(paths, path)
		}
	}
	// Every program's own package is main: the module's and the floor's
	// compare under one name.
	return newPackageNamer(paths, "main"), nil
}

// traceLoad records a Chrome trace of compileTraceCategories while the tab
// loads url, until the page's __bench settles, and returns the trace (JSON).
func traceLoad(ctx context.Context, url string) ([]byte, error) {
	if _, err := chromedp.Call(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReturnAsStream,
		StreamFormat: tracing.StreamFormatJSON,
		TraceConfig: &tracing.TraceConfig{
			RecordMode:         tracing.TraceConfigRecordModeRecordAsMuchAsPossible,
			IncludedCategories: compileTraceCategories,
		},
	}); err != nil {
		return nil, fmt.Errorf("Tracing.start: %w", err)
	}
	if _, err := pageLoad(ctx, url); err != nil {
		return nil, err
	}
	lctx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	complete := chromedp.Events(lctx, tracing.TracingComplete)
	if _, err := chromedp.Call(ctx, tracing.End, cdp.Empty{}); err != nil {
		return nil, fmt.Errorf("Tracing.end: %w", err)
	}
	var done tracing.EventTracingComplete
	for ev, err := range complete {
		if err != nil {
			return nil, fmt.Errorf("waiting for Tracing.tracingComplete: %w", err)
		}
		done = ev
		break
	}
	if done.Stream == "" {
		return nil, errors.New("tracing ended without a stream")
	}
	defer chromedp.Call(ctx, cdpio.Close, cdpio.CloseParams{Handle: done.Stream})
	if done.DataLossOccurred {
		return nil, errors.New("the trace lost data (its buffer was full)")
	}
	var data []byte
	for {
		chunk, err := chromedp.Call(ctx, cdpio.Read, cdpio.ReadParams{Handle: done.Stream, Size: 1 << 20})
		if err != nil {
			return nil, fmt.Errorf("reading the trace: %w", err)
		}
		data = append(data, chunk.Data...)
		if chunk.EOF {
			return data, nil
		}
	}
}

// traceEvent is the part of a Chrome trace event that readCompileTrace reads.
type traceEvent struct {
	Name string  `json:"name"`
	Cat  string  `json:"cat"`
	Ph   string  `json:"ph"`
	PID  int     `json:"pid"`
	TID  int     `json:"tid"`
	TS   float64 `json:"ts"` // µs
	Args struct {
		FuncIndex *int `json:"func_index"` // wasm.CompileLazy
		Index     *int `json:"funcIndex"`  // wasm.CompileBaseline
		BodySize  *int `json:"bodySize"`   // wasm.CompileBaseline
	} `json:"args"`
}

// readCompileTrace reads the lazy compilations of p's page out of a trace:
// those of the thread that put the page's ready mark, before the mark, and
// before the answer mark. It checks every function index against p's code
// section (V8's body size must be the section's).
func readCompileTrace(data []byte, p *compileProgram) (*compileLoad, error) {
	var trace struct {
		Events []traceEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &trace); err != nil {
		return nil, err
	}
	marks := map[string][]traceEvent{}
	for _, e := range trace.Events {
		if strings.Contains(e.Cat, "blink.user_timing") && (e.Name == markReady || e.Name == markAnswer) {
			marks[e.Name] = append(marks[e.Name], e)
		}
	}
	want := []string{markReady}
	if p.answers {
		want = append(want, markAnswer)
	}
	for _, name := range want {
		if len(marks[name]) != 1 {
			return nil, fmt.Errorf("%d marks %s in the trace, want 1", len(marks[name]), name)
		}
	}
	ready := marks[markReady][0]
	answerTS := ready.TS
	if p.answers {
		a := marks[markAnswer][0]
		if a.PID != ready.PID || a.TID != ready.TID || a.TS < ready.TS {
			return nil, fmt.Errorf("the answer mark (pid %d, thread %d, %.0f µs) is not after the ready mark (pid %d, thread %d, %.0f µs) on its thread",
				a.PID, a.TID, a.TS, ready.PID, ready.TID, ready.TS)
		}
		answerTS = a.TS
	}
	l := &compileLoad{}
	lazy := 0
	for _, e := range trace.Events {
		if e.PID != ready.PID || e.Ph != "X" {
			continue
		}
		switch e.Name {
		case traceBaseline:
			if e.Args.Index == nil || e.Args.BodySize == nil {
				return nil, fmt.Errorf("a %s event without funcIndex and bodySize", traceBaseline)
			}
			if got := p.funcs.size(*e.Args.Index); got != *e.Args.BodySize {
				return nil, fmt.Errorf("V8 compiled function %d of %d bytes; the code section has %d bytes for it", *e.Args.Index, *e.Args.BodySize, got)
			}
		case traceLazyCompile:
			if e.Args.FuncIndex == nil {
				return nil, fmt.Errorf("a %s event without func_index", traceLazyCompile)
			}
			f := *e.Args.FuncIndex
			if p.funcs.size(f) == 0 {
				return nil, fmt.Errorf("a lazy compilation of function %d, which is no body of the code section (%d imports, %d bodies)", f, p.funcs.imports, len(p.funcs.bodies))
			}
			if e.TID != ready.TID {
				continue // a page's code runs on its main thread, which puts the marks
			}
			lazy++
			if e.TS < ready.TS {
				l.ready = append(l.ready, f)
			}
			if e.TS < answerTS {
				l.answer = append(l.answer, f)
			}
		}
	}
	if len(l.ready) == 0 && !traceHas(data, traceCacheHit) { // a module from the code cache may need none
		return nil, fmt.Errorf("no %s event before the ready mark (%d in all): lazy compilation is off, or the trace lacks category v8.wasm", traceLazyCompile, lazy)
	}
	return l, nil
}

// compileTally is the functions and bytes of a group.
type compileTally struct{ funcs, bytes int }

// tallyPackages sums funcs by package.
func tallyPackages(p *compileProgram, funcs []int) map[string]compileTally {
	t := map[string]compileTally{}
	for _, f := range funcs {
		pkg := p.pkgs.pkg(p.funcs.name(f))
		c := t[pkg]
		c.funcs++
		c.bytes += p.funcs.size(f)
		t[pkg] = c
	}
	return t
}

// writeCompileReport writes out/compile-report.txt: the totals, then by
// package, then the module's functions by bytes, at the first answer and at
// ready, against floorfetch.
func writeCompileReport(w io.Writer, progs []*compileProgram, loads map[string]*compileLoad, rounds int, differ []string) {
	mod, ff := progs[0], progs[1]
	m, f := loads["module"], loads["floorfetch"]
	fmt.Fprintf(w, "Functions V8 compiled lazily (Liftoff, at their first call) before each page was ready and had its first answer\n")
	fmt.Fprintf(w, "(BenchmarkCompile, web/internal/e2e; round 1 of %d; bytes are function body bytes of the code section).\n", rounds)
	fmt.Fprintf(w, "The counts are exact but for %s, which the Go runtime calls at random (it samples\n", strings.Join(compileRandomFuncs, ", "))
	fmt.Fprintf(w, "the scheduling latency of 1 in 8 goroutine transitions, picked at random): it is compiled before a mark or after it.\n")
	fmt.Fprintf(w, "Names are the name section's, which has _ for every character but letters, digits, _ and . ((*T).M is __T_.M), with the\n")
	fmt.Fprintf(w, "package's import path put back; main is each program's own package.\n\n")
	if len(differ) > 0 {
		fmt.Fprintf(w, "The other rounds differed from round 1 in that function only:\n")
		for _, d := range differ {
			fmt.Fprintf(w, "  %s\n", d)
		}
		fmt.Fprintln(w)
	}
	for _, p := range progs {
		fmt.Fprintf(w, "  %-10s %s: %d functions, %d bytes of code\n", p.name, p.what, len(p.funcs.bodies), len(p.funcs.code))
	}
	fmt.Fprintf(w, "\n%-12s %22s %22s\n", "", "at ready", "at the first answer")
	for _, p := range progs {
		l := loads[p.name]
		answer := "-"
		if p.answers {
			answer = fmt.Sprintf("%d (%d B)", len(l.answer), p.bytes(l.answer))
		}
		fmt.Fprintf(w, "%-12s %22s %22s\n", p.name, fmt.Sprintf("%d (%d B)", len(l.ready), p.bytes(l.ready)), answer)
	}
	fmt.Fprintf(w, "\nmodule / floorfetch: at the first answer %.2f functions, %.2f bytes; at ready %.2f functions (%+d), %.2f bytes\n",
		float64(len(m.answer))/float64(len(f.answer)), float64(mod.bytes(m.answer))/float64(ff.bytes(f.answer)),
		float64(len(m.ready))/float64(len(f.ready)), len(m.ready)-len(f.ready), float64(mod.bytes(m.ready))/float64(ff.bytes(f.ready)))

	for _, win := range []struct {
		name   string
		mf, ff []int
	}{{"the first answer", m.answer, f.answer}, {"ready", m.ready, f.ready}} {
		mp, fp := tallyPackages(mod, win.mf), tallyPackages(ff, win.ff)
		pkgs := slices.Collect(maps.Keys(mp))
		for k := range fp {
			if _, ok := mp[k]; !ok {
				pkgs = append(pkgs, k)
			}
		}
		slices.SortFunc(pkgs, func(a, b string) int {
			return cmp.Or(cmp.Compare(mp[b].bytes, mp[a].bytes), cmp.Compare(fp[b].bytes, fp[a].bytes), strings.Compare(a, b))
		})
		fmt.Fprintf(w, "\nBy package, until %s, by the module's bytes:\n\n", win.name)
		fmt.Fprintf(w, "%8s %8s %8s %8s %8s  %s\n", "module", "bytes", "floorf.", "bytes", "+bytes", "package")
		for _, k := range pkgs {
			fmt.Fprintf(w, "%8d %8d %8d %8d %+8d  %s\n", mp[k].funcs, mp[k].bytes, fp[k].funcs, fp[k].bytes, mp[k].bytes-fp[k].bytes, k)
		}
	}

	floorNames := map[string]bool{}
	for _, i := range f.answer {
		floorNames[ff.funcs.name(i)] = true
	}
	byBytes := func(funcs []int) []int {
		s := slices.Clone(funcs)
		slices.SortStableFunc(s, func(a, b int) int { return cmp.Compare(mod.funcs.size(b), mod.funcs.size(a)) })
		return s
	}
	var extra []int
	extraBytes := 0
	for _, i := range m.answer {
		if !floorNames[mod.funcs.name(i)] {
			extra = append(extra, i)
			extraBytes += mod.funcs.size(i)
		}
	}
	list := func(title string, funcs []int, n int) {
		fmt.Fprintf(w, "\n%s\n\n%8s %6s %-7s %s\n", title, "bytes", "index", "window", "function")
		readySet := map[int]bool{}
		for _, i := range m.ready {
			readySet[i] = true
		}
		for k, i := range funcs {
			if n > 0 && k == n {
				fmt.Fprintf(w, "... %d more\n", len(funcs)-n)
				break
			}
			win, mark := "answer", ""
			if readySet[i] {
				win = "ready"
			}
			if floorNames[mod.funcs.name(i)] {
				mark = "  (floorfetch too)"
			}
			fmt.Fprintf(w, "%8d %6d %-7s %s%s\n", mod.funcs.size(i), i, win, mod.pkgs.display(mod.funcs.name(i)), mark)
		}
	}
	list(fmt.Sprintf("The module's %d largest functions compiled until the first answer (window: compiled before ready, or between ready and the answer):", compileTopFuncs), byBytes(m.answer), compileTopFuncs)
	list(fmt.Sprintf("The module's functions compiled until the first answer that floorfetch did not compile (by name): %d functions, %d bytes, by bytes:", len(extra), extraBytes), byBytes(extra), 0)
	list("Every function the module compiled until the first answer, in the order V8 compiled them:", m.answer, 0)
}
