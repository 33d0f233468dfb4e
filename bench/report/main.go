// Command report writes bench/results.json from what make bench wrote in out/.
//
// It then prints the table of figures, each beside its baseline from the
// same run, with the ratios and the goals.
//
//	go run ./bench/report [-in out] [-out bench/results.json]
//
// It reads:
//
//   - size.txt: make size (web/internal/cmd/precompress -size): the module's raw,
//     gzip, brotli and zstd bytes against the floor (a minimal syscall/js
//     program built in the same run);
//   - load.txt: BenchmarkLoad (web/internal/e2e): page load to ready, cold, warm in
//     the same tab and in a new tab, against the floor page;
//   - login.txt: BenchmarkLogin (web/internal/e2e): a login through the module
//     against a plain fetch() of the same request;
//   - memory.txt: BenchmarkMemory (web/internal/e2e): the wasm memory after the 1000th
//     login/logout cycle against after the first;
//   - compile.txt: BenchmarkCompile (web/internal/e2e): the wasm functions V8
//     compiles lazily, and their bytes, until the module page is ready and
//     until its first answer, against a minimal Go program that does one
//     fetch (wasm/testdata/floorfetch);
//   - server-load.json: bench/load, the server under load on loopback;
//   - codec.txt and feed.txt: the wire codec against encoding/json, and the
//     live feed's figures (optional).
//
// A missing or unreadable input is an error, except the optional ones.
// Nothing is measured here.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	in := flag.String("in", "out", "the `DIR` make bench wrote its outputs to")
	out := flag.String("out", "bench/results.json", "write the results to `FILE`")
	flag.Parse()
	res, err := collect(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err == nil {
		err = os.WriteFile(*out, append(data, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, res)
	fmt.Printf("\nwritten to %s\n", *out)
}

// Results is bench/results.json.
type Results struct {
	Date    string  `json:"date"`
	Machine Machine `json:"machine"`

	// The headline ratios (module over baseline, medians of the same run).
	SizeRatio         float64 `json:"size_ratio"` // brotli bytes
	ReadyRatio        float64 `json:"ready_ratio"`
	WarmReadyRatio    float64 `json:"warm_ready_ratio"`
	NewTabReadyRatio  float64 `json:"newtab_ready_ratio"`
	LoginRatio        float64 `json:"login_ratio"`
	MemoryGrowthRatio float64 `json:"memory_growth_ratio"`       // a Go collection forced after each cycle: what is live
	PlainMemoryGrowth float64 `json:"plain_memory_growth_ratio"` // a page as pages are: the collector's pacing too
	PreflightsAfter   float64 `json:"preflights_after_first_call"`

	// Functions V8 compiled lazily (and their body bytes), the module's over
	// the floor's (wasm/testdata/floorfetch): until the first answer, and
	// until ready; and the module's count at ready minus the floor's.
	LazyCompileRatio           float64 `json:"lazy_compile_ratio"`
	LazyCompileBytesRatio      float64 `json:"lazy_compile_bytes_ratio"`
	LazyCompileReadyRatio      float64 `json:"lazy_compile_ready_ratio"`
	LazyCompileReadyBytesRatio float64 `json:"lazy_compile_ready_bytes_ratio"`
	LazyCompileReadyExtra      float64 `json:"lazy_compile_ready_extra"`
	// A second visit once Chrome has written the module's code cache: the
	// functions it compiled lazily, over the cold visit's; and how long after
	// the first visit Chrome wrote the cache (see BenchmarkCodeCache).
	SecondVisitCompileRatio float64 `json:"second_visit_lazy_compile_ratio"`
	CodeCacheWrittenS       float64 `json:"code_cache_written_s"`

	Goals []Goal `json:"goals"`

	Size       Size            `json:"size"`
	Load       Figures         `json:"page_load"`
	Login      Figures         `json:"login"`
	Memory     Figures         `json:"memory"`
	Compile    Figures         `json:"lazy_compile"`
	CodeCache  Figures         `json:"code_cache,omitzero"`
	ServerLoad json.RawMessage `json:"server_load"`
	Codec      Figures         `json:"codec,omitzero"`
	Feed       Figures         `json:"feed,omitzero"`
	Notes      []string        `json:"notes"`
}

// Machine is where the figures were measured.
type Machine struct {
	NProc     int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	Chromium  string `json:"chromium_version"`
	Kernel    string `json:"kernel,omitzero"`
}

// Goal is one goal and whether this run met it.
type Goal struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Max   float64 `json:"max"`
	Aim   float64 `json:"aim,omitzero"`
	Met   bool    `json:"met"`
	What  string  `json:"what"`
}

// Size is the size table: bytes by encoding of each side, and the ratios.
type Size struct {
	Floor  map[string]int     `json:"floor"`
	Module map[string]int     `json:"module"`
	Ratio  map[string]float64 `json:"ratio"`
}

// Figures are one benchmark's reported metrics by unit name, plus its
// iterations (rounds).
type Figures map[string]float64

func collect(dir string) (*Results, error) {
	r := &Results{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine()}
	var err error
	if r.Size, err = readSize(filepath.Join(dir, "size.txt")); err != nil {
		return nil, err
	}
	r.SizeRatio = r.Size.Ratio["brotli"]
	if r.Load, err = readBench(filepath.Join(dir, "load.txt"), "BenchmarkLoad", "ready-ratio", "warm-ready-ratio", "newtab-ready-ratio"); err != nil {
		return nil, err
	}
	r.ReadyRatio, r.WarmReadyRatio, r.NewTabReadyRatio = r.Load["ready-ratio"], r.Load["warm-ready-ratio"], r.Load["newtab-ready-ratio"]
	if r.Login, err = readBench(filepath.Join(dir, "login.txt"), "BenchmarkLogin", "login-ratio", "preflights-after-first"); err != nil {
		return nil, err
	}
	r.LoginRatio, r.PreflightsAfter = r.Login["login-ratio"], r.Login["preflights-after-first"]
	if r.Memory, err = readBench(filepath.Join(dir, "memory.txt"), "BenchmarkMemory", "memory-growth-ratio", "plain-memory-growth-ratio"); err != nil {
		return nil, err
	}
	r.MemoryGrowthRatio, r.PlainMemoryGrowth = r.Memory["memory-growth-ratio"], r.Memory["plain-memory-growth-ratio"]
	if r.Compile, err = readBench(filepath.Join(dir, "compile.txt"), "BenchmarkCompile", "lazy-compile-ratio", "lazy-compile-bytes-ratio",
		"lazy-compile-ready-ratio", "lazy-compile-ready-bytes-ratio", "lazy-compile-ready-extra"); err != nil {
		return nil, err
	}
	C := r.Compile
	r.LazyCompileRatio, r.LazyCompileBytesRatio = C["lazy-compile-ratio"], C["lazy-compile-bytes-ratio"]
	r.LazyCompileReadyRatio, r.LazyCompileReadyBytesRatio = C["lazy-compile-ready-ratio"], C["lazy-compile-ready-bytes-ratio"]
	r.LazyCompileReadyExtra = C["lazy-compile-ready-extra"]
	if r.CodeCache, err = readBench(filepath.Join(dir, "codecache.txt"), "BenchmarkCodeCache", "cold-answer-funcs", "second-visit-answer-funcs", "code-cache-written-s"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if K := r.CodeCache; K["cold-answer-funcs"] > 0 {
		r.SecondVisitCompileRatio = K["second-visit-answer-funcs"] / K["cold-answer-funcs"]
		r.CodeCacheWrittenS = K["code-cache-written-s"]
	}
	server, err := os.ReadFile(filepath.Join(dir, "server-load.json"))
	if err != nil {
		return nil, fmt.Errorf("the server load figures: %w (go run ./bench/load -out %s writes them)", err, filepath.Join(dir, "server-load.json"))
	}
	if !json.Valid(server) {
		return nil, fmt.Errorf("%s is not JSON", filepath.Join(dir, "server-load.json"))
	}
	r.ServerLoad = json.RawMessage(bytes.TrimSpace(server))
	if r.Codec, err = readCodec(filepath.Join(dir, "codec.txt")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if r.Feed, err = readBench(filepath.Join(dir, "feed.txt"), "BenchmarkFeedLogout"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}

	r.Goals = []Goal{
		{Name: "ready_ratio", Value: r.ReadyRatio, Max: 1.3,
			What: "cold: a cross-origin page with the script tag until login({checkonly: true}) settles, over the floor page until its Go program runs"},
		{Name: "warm_ready_ratio", Value: r.WarmReadyRatio, Max: 0.6,
			What: "the module page again in the same tab, over the cold floor"},
		{Name: "newtab_ready_ratio", Value: r.NewTabReadyRatio, Max: 0.8,
			What: "the module page in a new tab of the same browser, over the cold floor"},
		{Name: "login_ratio", Value: r.LoginRatio, Max: 1.3,
			What: "login through the module over a plain fetch() of the same request, cross-origin, interleaved"},
		{Name: "size_ratio", Value: r.SizeRatio, Max: 1.4,
			What: "brotli bytes of the module over the floor's"},
		{Name: "memory_growth_ratio", Value: r.MemoryGrowthRatio, Max: 1.05,
			What: "wasm memory after the 1000th login/logout cycle over after the first, with a Go collection after each cycle (as TestMemoryIsFlatOverLoginCycles)"},
		{Name: "preflights_after_first_call", Value: r.PreflightsAfter, Max: 0,
			What: "OPTIONS requests the server saw during the timed logins of BenchmarkLogin, after each page's first call"},
		{Name: "lazy_compile_ratio", Value: r.LazyCompileRatio, Max: 1.3,
			What: "wasm functions V8 compiled lazily until login({checkonly: true}) settled, over those of a minimal Go program until its one fetch settled (wasm/testdata/floorfetch)"},
		{Name: "lazy_compile_bytes_ratio", Value: r.LazyCompileBytesRatio, Max: 1.3,
			What: "the body bytes of those functions, module over floorfetch"},
		{Name: "lazy_compile_ready_extra", Value: r.LazyCompileReadyExtra, Max: 60,
			What: "wasm functions V8 compiled lazily until the module was ready (onAPILoadReady), minus floorfetch's until its main ran"},
	}
	for i := range r.Goals {
		g := &r.Goals[i]
		g.Met = g.Value <= g.Max
	}
	r.Notes = []string{
		"Ratios are of medians measured in the same run, module and baseline interleaved; on a shared machine loopback timings swing by some 20%: read the ratios, not the milliseconds.",
		"memory_growth_ratio forces a Go collection after every cycle, so the wasm memory (which never shrinks) follows what is live: the leak check. plain_memory_growth_ratio is a page as pages are: the Go collector lets garbage reach its 4 MB minimum heap goal before it collects, so the memory climbs over the first hundreds of cycles and then stays.",
		"server_load: the server and its clients share the machine's CPUs; per_server_cpu_s (replies with 200 per CPU second of the server) is swayed less by other load than per_second.",
		"The browser test TestNoPreflightAfterTheFirstCall (make test) also counts OPTIONS requests over 20 calls of a page, with cookies and with a sub-ID.",
		"code_cache: a cold visit, a wait until Chrome writes the module into the profile's code cache, then a second visit in a new tab that must show v8.wasm.moduleCacheHit; V8 writes the cache a minute or two after the first visit, not 2 s (the README says why).",
		"lazy_compile: counts from a Chrome trace (wasm.CompileLazy events before the page's performance.mark), each page in a fresh profile; exact, but for one runtime function the Go runtime calls at random (runtime.(*timeHistogram).record, 562 bytes), which falls before a mark or after it: a window's count can differ by one between runs. out/compile-report.txt has them by package and by function.",
	}
	return r, nil
}

// machine describes this machine.
func machine() Machine {
	m := Machine{NProc: runtime.NumCPU(), GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	if out, err := exec.Command("nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.NProc = n
		}
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if out, err := exec.Command(name, "--version").Output(); err == nil {
			m.Chromium = strings.TrimSpace(string(out))
			break
		}
	}
	return m
}

// readSize reads make size's table:
//
//	                raw       gzip     brotli       zstd
//	floor       1923172     577751     442091     529194  out/floor.wasm
//	module      3700854    1024704     760361     915774  web/internal/site/dist/pbxauth.wasm
func readSize(file string) (Size, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Size{}, fmt.Errorf("the size figures: %w (make size writes them)", err)
	}
	s := Size{Ratio: map[string]float64{}}
	cols := []string{"raw", "gzip", "brotli", "zstd"}
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || (f[0] != "floor" && f[0] != "module") {
			continue
		}
		row := map[string]int{}
		for i, c := range cols {
			n, err := strconv.Atoi(f[i+1])
			if err != nil {
				return Size{}, fmt.Errorf("%s: %q: %w", file, line, err)
			}
			row[c] = n
		}
		if f[0] == "floor" {
			s.Floor = row
		} else {
			s.Module = row
		}
	}
	if s.Floor == nil || s.Module == nil {
		return Size{}, fmt.Errorf("%s: no floor and module rows", file)
	}
	for _, c := range cols {
		s.Ratio[c] = round(float64(s.Module[c])/float64(s.Floor[c]), 3)
	}
	return s, nil
}

// benchLine is one result line of go test -bench.
type benchLine struct {
	name    string // without the -GOMAXPROCS suffix
	n       int
	metrics map[string]float64
}

// readBenchLines reads the result lines of go test -bench output.
func readBenchLines(r io.Reader) ([]benchLine, error) {
	var out []benchLine
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		l := benchLine{name: name, n: n, metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", sc.Text(), err)
			}
			l.metrics[f[i+1]] = v
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// readBench reads the metrics of the benchmark name (and of its
// sub-benchmarks, as "sub/metric") from file, and requires the metrics want.
func readBench(file, name string, want ...string) (Figures, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := readBenchLines(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	fig := Figures{}
	found := false
	for _, l := range lines {
		prefix := ""
		switch {
		case l.name == name:
			fig["rounds"] = float64(l.n)
		case strings.HasPrefix(l.name, name+"/"):
			prefix = strings.TrimPrefix(l.name, name+"/") + "/"
		default:
			continue
		}
		found = true
		for k, v := range l.metrics {
			if k == "ns/op" {
				continue
			}
			fig[prefix+k] = round(v, 4)
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: no %s results (did the benchmark fail? its output is in the file)", file, name)
	}
	for _, w := range want {
		if _, ok := fig[w]; !ok {
			return nil, fmt.Errorf("%s: %s reported no %s", file, name, w)
		}
	}
	return fig, nil
}

// readCodec reads the codec benchmarks (sub-benchmarks wire and
// encoding_json, several counts) and returns the medians of ns/op and
// their ratios.
func readCodec(file string) (Figures, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, err := readBenchLines(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	ns := map[string][]float64{}
	for _, l := range lines {
		ns[l.name] = append(ns[l.name], l.metrics["ns/op"])
	}
	fig := Figures{}
	for name, v := range ns {
		base, side, ok := strings.Cut(name, "/")
		if !ok || side != "wire" {
			continue
		}
		j, ok := ns[base+"/encoding_json"]
		if !ok {
			continue
		}
		b := strings.TrimPrefix(base, "Benchmark")
		fig[b+"/wire-ns"] = round(median(v), 1)
		fig[b+"/encoding_json-ns"] = round(median(j), 1)
		fig[b+"/ratio"] = round(median(v)/median(j), 3)
	}
	return fig, nil
}

func median(s []float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	s = slices.Clone(s)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// serverLoad is the part of bench/load's JSON that the table shows.
type serverLoad struct {
	Logins []struct {
		Clients      int            `json:"clients"`
		PerSecond    float64        `json:"per_second"`
		PerCPUSecond float64        `json:"per_server_cpu_s"`
		P50          float64        `json:"ok_p50_ms"`
		P99          float64        `json:"ok_p99_ms"`
		Statuses     map[string]int `json:"statuses"`
		ChecksDuring *struct {
			P50 float64 `json:"p50_ms"`
			P99 float64 `json:"p99_ms"`
		} `json:"checks_during"`
	} `json:"logins"`
	Checks []struct {
		Clients      int            `json:"clients"`
		PerSecond    float64        `json:"per_second"`
		PerCPUSecond float64        `json:"per_server_cpu_s"`
		P50          float64        `json:"p50_ms"`
		P99          float64        `json:"p99_ms"`
		Statuses     map[string]int `json:"statuses"`
	} `json:"checks"`
	OneUser struct {
		PerSecond float64        `json:"per_second"`
		P99       float64        `json:"ok_p99_ms"`
		Statuses  map[string]int `json:"statuses"`
	} `json:"one_user_one_address"`
	Wrong struct {
		Statuses map[string]int `json:"statuses"`
	} `json:"wrong_passwords_one_user_one_address"`
	Flood    flood `json:"idle_flood"`
	FloodOne flood `json:"idle_flood_one_address"`
	Burst    struct {
		Logins        int            `json:"logins"`
		Received      map[string]int `json:"received"`
		ServerReplies map[string]int `json:"server_replies"`
		Sessions      int            `json:"sessions_left"`
		Orphans       int            `json:"orphan_sessions"`
		CPUAfter      float64        `json:"server_cpu_after_clients_s"`
		Deadline      float64        `json:"client_deadline_s"`
	} `json:"burst"`
	OtherLeft int `json:"other_phases_sessions_left"`
}

type flood struct {
	Conns       int            `json:"conns"`
	Addresses   int            `json:"addresses"`
	Answered    map[string]int `json:"answered"`
	OpenAtLogin int            `json:"open_when_logging_in"`
	Through     bool           `json:"login_got_through"`
	Logins      struct {
		P50      float64        `json:"p50_ms"`
		Statuses map[string]int `json:"statuses"`
	} `json:"logins_during"`
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// printTable prints the results as a Markdown table (the README shows it).
func printTable(w io.Writer, r *Results) {
	m := r.Machine
	fmt.Fprintf(w, "make bench, %s: %d CPUs (%s), %s, %s\n\n", r.Date, m.NProc, m.CPUModel, m.GoVersion, m.Chromium)
	goal := map[string]Goal{}
	for _, g := range r.Goals {
		goal[g.Name] = g
	}
	verdict := func(name string) string {
		g, ok := goal[name]
		if !ok {
			return ""
		}
		s := fmt.Sprintf("≤ %g", g.Max)
		if g.Max == 0 {
			s = "none"
		}
		if g.Aim != 0 {
			s += fmt.Sprintf(" (aim %g)", g.Aim)
		}
		if g.Met {
			return s + ": met"
		}
		return s + ": **missed**"
	}
	ms := func(v float64) string { return fmt.Sprintf("%.0f ms", v) }
	L, Lg, M := r.Load, r.Login, r.Memory
	fmt.Fprintln(w, "| figure | module | baseline | ratio | goal |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, c := range []struct{ name, col string }{{"raw", "raw"}, {"gzip", "gzip"}, {"brotli", "brotli"}, {"zstd", "zstd"}} {
		v := ""
		if c.col == "brotli" {
			v = verdict("size_ratio")
		}
		fmt.Fprintf(w, "| size, %s | %d KB | %d KB (floor) | %.2f | %s |\n", c.name, r.Size.Module[c.col]/1000, r.Size.Floor[c.col]/1000, r.Size.Ratio[c.col], v)
	}
	rounds := int(L["rounds"])
	q := func(name string) string { // a ratio's quartiles over the rounds: its spread
		if L[name+"-p75"] == 0 {
			return ""
		}
		return fmt.Sprintf(" (%.2f–%.2f)", L[name+"-p25"], L[name+"-p75"])
	}
	fmt.Fprintf(w, "| cold ready (checkonly settled), median of %d | %s | %s (floor) | %.2f%s | %s |\n", rounds, ms(L["module-ready-ms"]), ms(L["floor-ready-ms"]), L["ready-ratio"], q("ready-ratio"), verdict("ready_ratio"))
	fmt.Fprintf(w, "| warm ready, same tab | %s | %s (cold floor) | %.2f%s | %s |\n", ms(L["module-warm-ready-ms"]), ms(L["floor-ready-ms"]), L["warm-ready-ratio"], q("warm-ready-ratio"), verdict("warm_ready_ratio"))
	fmt.Fprintf(w, "| warm ready, new tab | %s | %s (cold floor) | %.2f%s | %s |\n", ms(L["module-newtab-ready-ms"]), ms(L["floor-ready-ms"]), L["newtab-ready-ratio"], q("newtab-ready-ratio"), verdict("newtab_ready_ratio"))
	fmt.Fprintf(w, "| cold, module loaded (onAPILoadReady) | %s | %s (floor) | %.2f | |\n", ms(L["module-loaded-ms"]), ms(L["floor-ready-ms"]), L["loaded-ratio"])
	fmt.Fprintf(w, "| cold ready, as brotli | %s | %s (floor as brotli) | %.2f | |\n", ms(L["module-br-ready-ms"]), ms(L["floor-br-ready-ms"]), L["br-ready-ratio"])
	fmt.Fprintf(w, "| login, median of %d each, interleaved | %s | %s (fetch) | %.2f | %s |\n", int(Lg["rounds"]), ms(Lg["module-login-ms"]), ms(Lg["fetch-login-ms"]), Lg["login-ratio"], verdict("login_ratio"))
	fmt.Fprintf(w, "| preflights after the first call | %.0f | | | %s |\n", r.PreflightsAfter, verdict("preflights_after_first_call"))
	fmt.Fprintf(w, "| wasm memory after 1000 login/logout cycles, a Go collection after each | %.2f MB | %.2f MB (after the first) | %.2f | %s |\n", M["last-MB"], M["first-MB"], M["memory-growth-ratio"], verdict("memory_growth_ratio"))
	fmt.Fprintf(w, "| the same, a plain page (no forced collection) | %.2f MB | %.2f MB (after the first) | %.2f | |\n", M["plain-last-MB"], M["plain-first-MB"], M["plain-memory-growth-ratio"])
	C := r.Compile
	fmt.Fprintf(w, "| wasm functions compiled lazily until the first answer (checkonly settled) | %.0f | %.0f (floorfetch, its fetch settled) | %.2f | %s |\n",
		C["module-answer-funcs"], C["floorfetch-answer-funcs"], r.LazyCompileRatio, verdict("lazy_compile_ratio"))
	fmt.Fprintf(w, "| their body bytes | %.0f KB | %.0f KB (floorfetch) | %.2f | %s |\n",
		C["module-answer-bytes"]/1000, C["floorfetch-answer-bytes"]/1000, r.LazyCompileBytesRatio, verdict("lazy_compile_bytes_ratio"))
	fmt.Fprintf(w, "| wasm functions compiled lazily until ready (onAPILoadReady) | %.0f | %.0f (floorfetch, its main ran) | %+.0f (%.2f) | %s |\n",
		C["module-ready-funcs"], C["floorfetch-ready-funcs"], r.LazyCompileReadyExtra, r.LazyCompileReadyRatio,
		strings.Replace(verdict("lazy_compile_ready_extra"), "≤ ", "≤ floor + ", 1))
	fmt.Fprintf(w, "| their body bytes, until ready | %.0f KB | %.0f KB (floorfetch) | %.2f | |\n",
		C["module-ready-bytes"]/1000, C["floorfetch-ready-bytes"]/1000, r.LazyCompileReadyBytesRatio)
	if K := r.CodeCache; K["cold-answer-funcs"] > 0 {
		fmt.Fprintf(w, "| wasm functions compiled lazily by a second visit, the module from the code cache | %.0f | %.0f (the cold visit) | %.2f | |\n",
			K["second-visit-answer-funcs"], K["cold-answer-funcs"], r.SecondVisitCompileRatio)
		fmt.Fprintf(w, "| seconds until Chrome wrote the code cache, after the first visit | %.0f s | | | |\n", K["code-cache-written-s"])
	}
	for _, k := range []string{"DecodeResponse", "EncodeRequest"} {
		if v, ok := r.Codec[k+"/ratio"]; ok {
			fmt.Fprintf(w, "| codec, %s | %.0f ns | %.0f ns (encoding/json) | %.2f | |\n", k, r.Codec[k+"/wire-ns"], r.Codec[k+"/encoding_json-ns"], v)
		}
	}

	for _, n := range []string{"N=100", "N=2000"} {
		if v, ok := r.Feed[n+"/ms/last-told"]; ok {
			fmt.Fprintf(w, "\nlive feed, %s feeds of one session: the last told %.1f ms after the logout; %.1f KB per held feed (both ends, one process)", n[2:], v, r.Feed[n+"/KB/conn"])
		}
	}
	fmt.Fprintln(w)

	var s serverLoad
	if err := json.Unmarshal(r.ServerLoad, &s); err != nil {
		fmt.Fprintf(w, "\nserver load: %v\n", err)
		return
	}
	fmt.Fprintln(w, "\nThe server on loopback (bench/load; clients from distinct addresses, logins cycling through 128 users at bcrypt cost 10):")
	fmt.Fprintln(w, "\n| | clients | 200s per second | per server CPU second | p50 of 200s | p99 of 200s | statuses |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	for _, l := range s.Logins {
		fmt.Fprintf(w, "| logins | %d | %.1f | %.1f | %.0f ms | %.0f ms | %s |\n", l.Clients, l.PerSecond, l.PerCPUSecond, l.P50, l.P99, counts(l.Statuses))
	}
	for _, l := range s.Checks {
		fmt.Fprintf(w, "| checks | %d | %.0f | %.0f | %.1f ms | %.1f ms | %s |\n", l.Clients, l.PerSecond, l.PerCPUSecond, l.P50, l.P99, counts(l.Statuses))
	}
	for _, l := range s.Logins {
		if d := l.ChecksDuring; d != nil {
			fmt.Fprintf(w, "\n- one client's checks while %d clients logged in: p50 %.1f ms, p99 %.1f ms", l.Clients, d.P50, d.P99)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n- one user from one address, 64 clients: %.1f logins/s, p99 %.0f ms, %s; 30 wrong passwords one at a time: %s\n",
		s.OneUser.PerSecond, s.OneUser.P99, counts(s.OneUser.Statuses), counts(s.Wrong.Statuses))
	for _, fl := range []flood{s.Flood, s.FloodOne} {
		if fl.Conns == 0 {
			continue
		}
		fmt.Fprintf(w, "- idle flood, %d keep-alive connections from %d address(es) (first requests %s, %d held open): a login from another address got through: %t (%s, p50 %.0f ms)\n",
			fl.Conns, fl.Addresses, counts(fl.Answered), fl.OpenAtLogin, fl.Through, counts(fl.Logins.Statuses), fl.Logins.P50)
	}
	b := s.Burst
	fmt.Fprintf(w, "- burst of %d logins at once, clients giving up after %.0f s: received %s; the server logged %s (lost: the client left first) and held %d sessions after, %d of them for clients that never got the reply; %.1f s of server CPU after the clients were done\n",
		b.Logins, b.Deadline, counts(b.Received), counts(b.ServerReplies), b.Sessions, b.Orphans, b.CPUAfter)
	if s.OtherLeft > 0 {
		fmt.Fprintf(w, "- the other phases left %d sessions whose clients gave up before the reply\n", s.OtherLeft)
	}
}
