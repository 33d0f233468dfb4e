//go:build !js

package jsbridge

import (
	"go/build/constraint"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAllWasmTags fails if a file of this package, other than the native
// test runners, lacks the js && wasm build constraint: jsbridge is the one
// place that touches syscall/js, and must never build natively.
func TestAllWasmTags(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f == "wasm_tags_test.go" || f == "browser_test.go" || f == "words_test.go" {
			continue // the native tests themselves
		}
		if f == "words.go" {
			continue // pure Go, so that words_test.go checks it natively
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !hasJSWasm(string(data)) {
			t.Errorf("%s lacks //go:build js && wasm", f)
		}
	}
}

// hasJSWasm reports whether the first //go:build line requires js and wasm.
func hasJSWasm(src string) bool {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "//") {
			return false // code before any constraint
		}
		if !constraint.IsGoBuild(line) {
			continue
		}
		expr, err := constraint.Parse(line)
		if err != nil {
			return false
		}
		with := func(tags ...string) bool {
			return expr.Eval(func(tag string) bool {
				for _, t := range tags {
					if t == tag {
						return true
					}
				}
				return false
			})
		}
		return with("js", "wasm") && !with("js") && !with("wasm") && !with("linux", "amd64")
	}
	return false
}

func TestHasJSWasm(t *testing.T) {
	for src, want := range map[string]bool{
		"//go:build js && wasm\n\npackage x":     true,
		"// doc\n//go:build wasm && js\npackage": true,
		"//go:build js\npackage x":               false, // js alone: also gopherjs
		"//go:build !js\npackage x":              false,
		"package x":                              false,
		"//go:build js || linux\npackage x":      false,
	} {
		if got := hasJSWasm(src); got != want {
			t.Errorf("hasJSWasm(%q) = %v, want %v", src, got, want)
		}
	}
}
