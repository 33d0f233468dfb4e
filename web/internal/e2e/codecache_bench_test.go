package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// codeCacheWait bounds the wait for Chrome to write the module's code
	// cache after the first visit (see BenchmarkCodeCache).
	codeCacheWait = 4 * time.Minute
	// codeCacheMin is the least size of a code cache entry that holds a
	// compiled module (ours is about 100 KB); the directory also holds an
	// index and small entries.
	codeCacheMin = 32 << 10

	traceCacheHit = "v8.wasm.moduleCacheHit" // devtools.timeline: the second visit took the cached module
)

// BenchmarkCodeCache measures what a second visit compiles once Chrome has
// written the module's code cache: a cold visit to the module page in a
// fresh profile; then a wait, up to codeCacheWait, until the profile's
// "Code Cache/wasm" directory holds a compiled module; then a second visit
// in a new tab of the same browser, traced as BenchmarkCompile traces (the
// wasm.CompileLazy events before the page's marks) and checked for V8's
// v8.wasm.moduleCacheHit.
//
// Chrome writes the cache when V8 says that more functions can be
// serialized: once 1,000 bytes of optimised (TurboFan) code exist and no
// more has been added for 2 s (--wasm-caching-threshold,
// --wasm-caching-timeout-ms). The trace shows how V8 times that in Chromium
// 156: a task posted 2 s after the first optimised function checks that
// none came since; when one did (the Go runtime's start tiers up a handful
// of functions over about 100 ms), it posts itself again with the
// milliseconds left as its delay in seconds (a task_delay_us of 74,000,000
// for 74 ms left), so the cache is written a minute or two after the
// first visit instead of 2 s. The benchmark reports that wait
// (code-cache-written-s) beside the counts.
func BenchmarkCodeCache(b *testing.B) {
	if env.setupErr != nil {
		b.Fatalf("end-to-end set-up failed: %v", env.setupErr)
	}
	progs, srv, err := compilePrograms()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	mod := progs[0]
	var cold, second *compileLoad
	var written time.Duration
	for b.Loop() {
		err := inBrowserFor(loadDeadline+codeCacheWait, acceptZstd, func(ctx context.Context, profile string) error {
			data, err := traceLoad(ctx, mod.page)
			if err != nil {
				return fmt.Errorf("the first visit: %w", err)
			}
			if cold, err = readCompileTrace(data, mod); err != nil {
				return fmt.Errorf("the first visit's trace: %w", err)
			}
			start := time.Now()
			if err := waitForCodeCache(ctx, filepath.Join(profile, "Default", "Code Cache", "wasm")); err != nil {
				return err
			}
			written = time.Since(start)
			tab, cancel := chromedp.NewContext(ctx)
			defer cancel()
			if err := prepareTab(tab, acceptZstd); err != nil {
				return err
			}
			if data, err = traceLoad(tab, mod.page); err != nil {
				return fmt.Errorf("the second visit: %w", err)
			}
			if !traceHas(data, traceCacheHit) {
				return fmt.Errorf("the second visit's trace has no %s: Chrome did not take the cached module", traceCacheHit)
			}
			if second, err = readCompileTrace(data, mod); err != nil {
				return fmt.Errorf("the second visit's trace: %w", err)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cold.answer)), "cold-answer-funcs")
	b.ReportMetric(float64(len(second.ready)), "second-visit-ready-funcs")
	b.ReportMetric(float64(len(second.answer)), "second-visit-answer-funcs")
	b.ReportMetric(float64(mod.bytes(second.answer)), "second-visit-answer-bytes")
	b.ReportMetric(written.Seconds(), "code-cache-written-s")
	b.Logf("lazily compiled until the first answer: cold %d, second visit (the module from the code cache) %d (%d bytes, %d until ready); the cache was written %.0f s after the first visit's answer",
		len(cold.answer), len(second.answer), mod.bytes(second.answer), len(second.ready), written.Seconds())
}

// waitForCodeCache returns once dir holds a file of at least codeCacheMin
// bytes (a compiled module), or fails when ctx ends or codeCacheWait passes.
func waitForCodeCache(ctx context.Context, dir string) error {
	deadline := time.After(codeCacheWait)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Size() >= codeCacheMin {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("Chrome wrote no compiled module into %s within %s", dir, codeCacheWait)
		case <-tick.C:
		}
	}
}

// traceHas reports whether the trace has an event named name.
func traceHas(data []byte, name string) bool {
	var trace struct {
		Events []struct {
			Name string `json:"name"`
		} `json:"traceEvents"`
	}
	if json.Unmarshal(data, &trace) != nil {
		return false
	}
	for _, e := range trace.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}
