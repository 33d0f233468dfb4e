package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Cycles of BenchmarkMemory, and its deadline (which bounds waiting only).
const (
	memoryBenchCycles   = 1000
	memoryBenchBatch    = 100
	memoryBenchDeadline = 15 * time.Minute
)

// memoryBenchJS is put in the page after memoryProbeJS (of
// TestMemoryIsFlatOverLoginCycles): plainCycles runs login/logout cycles as a
// page would, without the Go collection after each that loginCycles forces,
// and measures (with one collection) at the end.
const memoryBenchJS = `
window.plainCycles = async function (n) {
  var A = IPCortex.PBX.Auth;
  for (var i = 0; i < n; i++) {
    await A.login({username: 'alice', password: 'wonderland'});
    await A.logout();
  }
  return memoryStats();
};
`

// BenchmarkMemory reports the wasm memory (the Go instance's linear memory,
// which never shrinks) of a page after its first login/logout cycle and
// after its 1000th, and their ratio, in two pages of their own, each with a
// fresh module:
//
//   - memory-growth-ratio: a page that forces a Go collection after every
//     cycle (through the heap probe of TestMemoryIsFlatOverLoginCycles, which
//     only this build of the module has), so that its memory follows what is
//     live: what a leak would grow, the measure of that test and of the goal;
//   - plain-memory-growth-ratio: a page that logs in and out as pages do; its
//     memory follows the Go collector's pacing as well as what is live (the
//     collector lets garbage reach its 4 MB minimum heap goal before it
//     collects), so it climbs over the first hundreds of cycles and then
//     stays.
//
// The module is built with the probe and served, with the demo users hashed
// at bcrypt's least cost (so that 2000 logins take seconds), by a PBX in this
// process, as TestMemoryIsFlatOverLoginCycles does. Run it with -benchtime 1x:
// each iteration runs both pages' 1000 cycles.
func BenchmarkMemory(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	pbxURL := memoryServer(b)
	page := env.pages.add("bench-memory", fmt.Sprintf(`<!doctype html>
<html><head><meta charset="utf-8"><title>memory over login cycles</title></head><body>
<script>%s</script>
<script>%s</script>
<script src="%s/api/wasm_exec.js"></script>
<script>var RealGo = Go; window.Go = function () { var g = new RealGo(); window.theGo = g; return g; };</script>
<script src="%s/api/api.js"></script>
</body></html>`, memoryProbeJS, memoryBenchJS, pbxURL, pbxURL))

	type series struct {
		name, fn    string
		first, last memoryStats
	}
	for b.Loop() {
		runs := []*series{{name: "plain", fn: "plainCycles"}, {name: "gc", fn: "loginCycles"}}
		for _, s := range runs {
			s.first, s.last = memoryCyclesIn(b, page, s.fn)
			b.Logf("%s page: after 1 cycle: %s", s.name, s.first)
			b.Logf("%s page: after %d cycles: %s", s.name, memoryBenchCycles, s.last)
		}
		plain, gc := runs[0], runs[1]
		b.ReportMetric(gc.first.Memory/1e6, "first-MB")
		b.ReportMetric(gc.last.Memory/1e6, "last-MB")
		b.ReportMetric(gc.last.Memory/gc.first.Memory, "memory-growth-ratio")
		b.ReportMetric(gc.last.Heap/1e3, "last-heap-KB")
		b.ReportMetric(gc.last.Objects-gc.first.Objects, "object-growth")
		b.ReportMetric(float64(gc.last.JSValues-gc.first.JSValues), "jsvalue-growth")
		b.ReportMetric(plain.first.Memory/1e6, "plain-first-MB")
		b.ReportMetric(plain.last.Memory/1e6, "plain-last-MB")
		b.ReportMetric(plain.last.Memory/plain.first.Memory, "plain-memory-growth-ratio")
	}
}

// memoryCyclesIn loads page in a browser context of its own, runs one
// login/logout cycle with the page's function fn and then the rest of
// memoryBenchCycles, and returns the stats after the first and the last.
func memoryCyclesIn(b *testing.B, page, fn string) (first, last memoryStats) {
	b.Helper()
	ctx, cancel := context.WithTimeout(env.browser, memoryBenchDeadline)
	defer cancel()
	tab, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
		b.Fatalf("loading the memory page: %v", err)
	}
	if _, err := chromedp.Run(tab, chromedp.Poll[bool]("typeof window.__pbxauthHeap === 'function' && !!window.theGo")); err != nil {
		b.Fatalf("the module with the heap probe did not start: %v", err)
	}
	run := func(n int) memoryStats {
		m, err := chromedp.Run(tab, chromedp.Evaluate[memoryStats](fmt.Sprintf("%s(%d)", fn, n), chromedp.EvalAwaitPromise))
		if err != nil {
			b.Fatalf("%s(%d): %v", fn, n, err)
		}
		return m
	}
	first = run(1)
	for done := 1; done < memoryBenchCycles; {
		n := min(memoryBenchBatch, memoryBenchCycles-done)
		last = run(n)
		done += n
	}
	return first, last
}
