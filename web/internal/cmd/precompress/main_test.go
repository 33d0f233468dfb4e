package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noise returns n bytes that do not compress, the same on every run.
func noise(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func runTool(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCompressDir(t *testing.T) {
	dir := t.TempDir()
	js := []byte(strings.Repeat("console.log('pbxauth');\n", 200))
	wasm := append([]byte("\x00asm"), noise(3000, 1)...)
	write(t, filepath.Join(dir, "wasm_exec.js"), js)
	write(t, filepath.Join(dir, "pbxauth.wasm"), wasm)
	write(t, filepath.Join(dir, "README.md"), []byte("# not served\n"))
	write(t, filepath.Join(dir, "old.br"), []byte("a copy is not compressed again"))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))

	code, stdout, stderr := runTool(dir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "wasm_exec.js: 4800 bytes, zstd ")

	for name, want := range map[string][]byte{"wasm_exec.js": js, "pbxauth.wasm": wasm} {
		br, err := os.ReadFile(filepath.Join(dir, name+".br"))
		require.NoError(t, err)
		got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
		require.NoError(t, err)
		assert.Equal(t, want, got, name+".br")

		gz, err := os.ReadFile(filepath.Join(dir, name+".gz"))
		require.NoError(t, err)
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		got, err = io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, want, got, name+".gz")

		zst, err := os.ReadFile(filepath.Join(dir, name+".zst"))
		require.NoError(t, err)
		zd, err := zstd.NewReader(bytes.NewReader(zst))
		require.NoError(t, err)
		got, err = io.ReadAll(zd)
		zd.Close()
		require.NoError(t, err)
		assert.Equal(t, want, got, name+".zst")
	}
	left, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"README.md", "old.br", "sub", "wasm_exec.js", "wasm_exec.js.br", "wasm_exec.js.gz", "wasm_exec.js.zst",
		"pbxauth.wasm", "pbxauth.wasm.br", "pbxauth.wasm.gz", "pbxauth.wasm.zst"}, names(left), "no README copies, no copies of copies, no temporary files")
}

func names(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	return out
}

func TestCompressDirSkipsUpToDate(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "wasm_exec.js")
	write(t, src, []byte(strings.Repeat("x", 1000)))
	past := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(src, past, past))

	code, _, stderr := runTool(dir)
	require.Equal(t, 0, code, stderr)
	code, stdout, _ := runTool(dir)
	require.Equal(t, 0, code)
	assert.Equal(t, src+": up to date\n", stdout)

	// A rebuilt source is newer than its copies again.
	write(t, src, []byte(strings.Repeat("y", 1000)))
	require.NoError(t, os.Chtimes(src, time.Now().Add(time.Hour), time.Now().Add(time.Hour)))
	code, stdout, _ = runTool(dir)
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, src+": 1000 bytes, zstd ")
	gz, err := os.ReadFile(src + ".gz")
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("y", 1000), string(got))

	// One missing copy is enough to redo the file.
	require.NoError(t, os.Remove(src+".br"))
	_, stdout, _ = runTool(dir)
	assert.Contains(t, stdout, src+": 1000 bytes, zstd ")
	assert.FileExists(t, src+".br")
}

func TestSize(t *testing.T) {
	dir := t.TempDir()
	floor, module := filepath.Join(dir, "floor.wasm"), filepath.Join(dir, "module.wasm")
	write(t, floor, noise(10000, 1))

	tests := []struct {
		name       string
		moduleSize int
		args       []string
		code       int
		ratio      string
	}{
		{"under budget", 15000, nil, 0, "brotli ratio module/floor: 1.50 (budget 1.60)\n"},
		{"over budget", 20000, nil, 1, "brotli ratio module/floor: 2.00 (budget 1.60)\n"},
		{"budget flag", 20000, []string{"-budget", "2.5"}, 0, "brotli ratio module/floor: 2.00 (budget 2.50)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, module, noise(tt.moduleSize, 2))
			code, stdout, stderr := runTool(append(tt.args, "-size", floor, module)...)
			assert.Equal(t, tt.code, code, stderr)
			lines := strings.Split(stdout, "\n")
			require.Len(t, lines, 6, stdout)
			assert.Equal(t, []string{"raw", "gzip", "brotli", "zstd"}, strings.Fields(lines[0]))
			assert.Equal(t, []string{"floor", "10000"}, strings.Fields(lines[1])[:2])
			assert.Equal(t, floor, strings.Fields(lines[1])[5])
			assert.Equal(t, "module", strings.Fields(lines[2])[0])
			assert.True(t, strings.HasPrefix(lines[3], "zstd ratio module/floor: "), lines[3])
			assert.True(t, strings.HasSuffix(stdout, tt.ratio), stdout)
			if tt.code == 1 {
				assert.Contains(t, stderr, "over budget")
			} else {
				assert.Empty(t, stderr)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.wasm")
	write(t, empty, nil)
	some := filepath.Join(dir, "some.wasm")
	write(t, some, []byte("\x00asm"))
	missing := filepath.Join(dir, "none")

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no folder", nil, 2, "give one folder"},
		{"two folders", []string{dir, dir}, 2, "give one folder"},
		{"size with one file", []string{"-size", some}, 2, "give FLOOR.wasm and MODULE.wasm"},
		{"unknown flag", []string{"-level", "9", dir}, 2, "flag provided but not defined"},
		{"help", []string{"-h"}, 0, "usage: precompress DIR"},
		{"missing folder", []string{missing}, 1, "precompress: open " + missing},
		{"missing module", []string{"-size", some, missing}, 1, "precompress: open " + missing},
		{"empty floor", []string{"-size", empty, some}, 1, "precompress: " + empty + " is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runTool(tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, stderr, tt.stderr)
		})
	}
}
