// Command precompress compresses the build outputs and checks the module's size budget.
//
// It writes the Zstandard, brotli and gzip copies of the build outputs that
// the local PBX server sends to browsers accepting them, and measures the
// browser module against its size budget.
//
//	go run ./web/internal/cmd/precompress DIR
//	go run ./web/internal/cmd/precompress [-budget RATIO] -size FLOOR.wasm MODULE.wasm
//
// With DIR (make build passes web/internal/site/dist) it writes FILE.zst (zstd, the
// best level of klauspost/compress), FILE.br (brotli quality 11) and FILE.gz
// (gzip, best) beside every regular file but README.md and the copies
// themselves, skipping a file whose copies are newer than it. The
// copies are written to a temporary file and renamed, so an interrupted run
// never leaves a truncated copy that looks up to date.
//
// With -size it prints the raw, gzip, brotli and zstd bytes of a floor module
// (the smallest useful build, say syscall/js alone) and of the module, then
// their zstd and brotli ratios, and exits 1 when the brotli ratio is over the
// budget: what the module costs over the floor is what this project controls.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pbxauth/pbxauth/web/internal/site"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is the program; it returns the exit code: 0, 1 on failure or over
// budget, 2 for bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("precompress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Bool("size", false, "compare FLOOR.wasm and MODULE.wasm instead of compressing a folder")
	budget := fs.Float64("budget", 1.60, "with -size, the largest brotli `RATIO` of module to floor")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: precompress DIR\n       precompress [-budget RATIO] -size FLOOR.wasm MODULE.wasm")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	want, what := 1, "one folder"
	if *size {
		want, what = 2, "FLOOR.wasm and MODULE.wasm"
	}
	if fs.NArg() != want {
		fmt.Fprintf(stderr, "precompress: give %s, not %q\n", what, fs.Args())
		fs.Usage()
		return 2
	}

	if *size {
		ratio, err := report(stdout, fs.Arg(0), fs.Arg(1), *budget)
		if err != nil {
			fmt.Fprintln(stderr, "precompress:", err)
			return 1
		}
		if ratio > *budget {
			fmt.Fprintf(stderr, "precompress: over budget: with brotli, %s is %.4f times %s, more than %.2f\n",
				fs.Arg(1), ratio, fs.Arg(0), *budget)
			return 1
		}
		return 0
	}
	if err := compressDir(stdout, fs.Arg(0)); err != nil {
		fmt.Fprintln(stderr, "precompress:", err)
		return 1
	}
	return 0
}

// compressDir writes the copies of every file in dir that needs them and
// prints one line per file.
func compressDir(out io.Writer, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !wantsCopies(e.Name()) {
			continue
		}
		if err := compressFile(out, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// wantsCopies reports whether a file of the build output is one to compress:
// not the README, not a copy, not hidden (such as our own temporary files).
func wantsCopies(name string) bool {
	if name == "README.md" || strings.HasPrefix(name, ".") {
		return false
	}
	for _, e := range site.Encodings() {
		if strings.HasSuffix(name, e.Suffix) {
			return false
		}
	}
	return true
}

func compressFile(out io.Writer, path string) error {
	src, err := os.Stat(path)
	if err != nil {
		return err
	}
	if upToDate(path, src) {
		fmt.Fprintf(out, "%s: up to date\n", path)
		return nil
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s: %d bytes", path, len(body))
	for _, e := range site.Encodings() {
		b := e.Compress(body)
		if err := writeAtomic(path+e.Suffix, b); err != nil {
			return err
		}
		line += fmt.Sprintf(", %s %d", e.Name, len(b))
	}
	fmt.Fprintln(out, line)
	return nil
}

// upToDate reports whether every copy of path exists and is newer than src.
func upToDate(path string, src os.FileInfo) bool {
	for _, e := range site.Encodings() {
		c, err := os.Stat(path + e.Suffix)
		if err != nil || !c.ModTime().After(src.ModTime()) {
			return false
		}
	}
	return true
}

// writeAtomic writes b to path through a temporary file in the same folder.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Chmod(0o644), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// sizes are one file's bytes raw and in each encoding, by name.
type sizes struct {
	path       string
	raw        int
	compressed map[string]int
}

// report compresses the two files at once (brotli 11 takes seconds on a
// module), prints the table and returns the brotli ratio of module to floor.
func report(out io.Writer, floorPath, modulePath string, budget float64) (ratio float64, err error) {
	rows := []*sizes{{path: floorPath}, {path: modulePath}}
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, row := range rows {
		wg.Go(func() { errs[i] = row.measure() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	fmt.Fprintf(out, "%-8s %10s %10s %10s %10s\n", "", "raw", "gzip", "brotli", "zstd")
	for i, name := range []string{"floor", "module"} {
		r := rows[i]
		fmt.Fprintf(out, "%-8s %10d %10d %10d %10d  %s\n", name, r.raw, r.compressed["gzip"], r.compressed["br"], r.compressed["zstd"], r.path)
	}
	fmt.Fprintf(out, "zstd ratio module/floor: %.2f\n", float64(rows[1].compressed["zstd"])/float64(rows[0].compressed["zstd"]))
	ratio = float64(rows[1].compressed["br"]) / float64(rows[0].compressed["br"])
	fmt.Fprintf(out, "brotli ratio module/floor: %.2f (budget %.2f)\n", ratio, budget)
	return ratio, nil
}

func (s *sizes) measure() error {
	body, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return fmt.Errorf("%s is empty", s.path)
	}
	s.raw = len(body)
	s.compressed = map[string]int{}
	for _, e := range site.Encodings() {
		s.compressed[e.Name] = len(e.Compress(body))
	}
	return nil
}
