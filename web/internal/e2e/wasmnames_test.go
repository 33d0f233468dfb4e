package e2e

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// wasmFuncs is what BenchmarkCompile reads of a .wasm: its functions by
// index, as V8 numbers them (the imported functions first, then the bodies of
// the code section in order).
type wasmFuncs struct {
	imports int            // imported functions: the index of the first body
	bodies  []int          // the size in bytes of each body, by index - imports
	code    []byte         // the code section's contents, to compare two builds
	names   map[int]string // the name section's function names, by index; nil without one
}

// size returns the body size of function index (0 for an import or an index
// out of range).
func (w *wasmFuncs) size(index int) int {
	if i := index - w.imports; i >= 0 && i < len(w.bodies) {
		return w.bodies[i]
	}
	return 0
}

// name returns the name of function index, or "func N" when there is none.
func (w *wasmFuncs) name(index int) string {
	if n, ok := w.names[index]; ok {
		return n
	}
	return fmt.Sprintf("func %d", index)
}

// Section ids of the WebAssembly binary format.
const (
	wasmSectionCustom = 0
	wasmSectionImport = 2
	wasmSectionCode   = 10
)

// parseWasm reads the import, code and name sections of a .wasm (the name
// section's subsection 1, the function names).
func parseWasm(b []byte) (*wasmFuncs, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, errors.New("not a WebAssembly binary")
	}
	w := &wasmFuncs{}
	r := &wasmReader{b: b[8:]}
	sawCode := false
	for !r.done() {
		id := r.byte()
		body := r.bytes(r.uint())
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		var err error
		switch id {
		case wasmSectionImport:
			w.imports, err = countFuncImports(body)
		case wasmSectionCode:
			sawCode = true
			w.code = body
			w.bodies, err = bodySizes(body)
		case wasmSectionCustom:
			s := &wasmReader{b: body}
			if string(s.bytes(s.uint())) == "name" && s.err == nil {
				w.names, err = functionNames(s)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
	}
	if !sawCode {
		return nil, errors.New("no code section")
	}
	return w, nil
}

// countFuncImports counts the function imports of an import section.
func countFuncImports(body []byte) (int, error) {
	r := &wasmReader{b: body}
	n, funcs := r.uint(), 0
	for i := uint64(0); i < n && r.err == nil; i++ {
		r.bytes(r.uint()) // module
		r.bytes(r.uint()) // name
		switch kind := r.byte(); kind {
		case 0: // function: type index
			funcs++
			r.uint()
		case 1: // table: reference type, limits
			r.byte()
			r.limits()
		case 2: // memory: limits
			r.limits()
		case 3: // global: value type, mutability
			r.byte()
			r.byte()
		case 4: // tag: attribute, type index
			r.byte()
			r.uint()
		default:
			return 0, fmt.Errorf("import %d: unknown kind %d", i, kind)
		}
	}
	return funcs, r.err
}

// bodySizes returns the size of each function body of a code section.
func bodySizes(body []byte) ([]int, error) {
	r := &wasmReader{b: body}
	n := r.uint()
	var sizes []int
	for i := uint64(0); i < n && r.err == nil; i++ {
		size := r.uint()
		r.bytes(size)
		sizes = append(sizes, int(size))
	}
	if r.err == nil && !r.done() {
		return nil, errors.New("bytes after the last body")
	}
	return sizes, r.err
}

// functionNames reads the function names (subsection 1) of a name section
// whose reader stands after the section's name.
func functionNames(r *wasmReader) (map[int]string, error) {
	names := map[int]string{}
	for !r.done() && r.err == nil {
		id := r.byte()
		sub := &wasmReader{b: r.bytes(r.uint())}
		if id != 1 {
			continue
		}
		n := sub.uint()
		for i := uint64(0); i < n && sub.err == nil; i++ {
			index := sub.uint()
			names[int(index)] = string(sub.bytes(sub.uint()))
		}
		if sub.err != nil {
			return nil, fmt.Errorf("function names: %w", sub.err)
		}
	}
	return names, r.err
}

// wasmReader reads the binary format; the first error sticks, and reads
// after it return zeros.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) done() bool { return r.err != nil || len(r.b) == 0 }

func (r *wasmReader) fail(what string) {
	if r.err == nil {
		r.err = errors.New(what)
	}
}

func (r *wasmReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uint reads an unsigned LEB128 number.
func (r *wasmReader) uint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 number too long")
	return 0
}

func (r *wasmReader) bytes(n uint64) []byte {
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail("unexpected end")
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

// limits reads the limits of a table or memory type.
func (r *wasmReader) limits() {
	flags := r.byte()
	r.uint()
	if flags&1 != 0 {
		r.uint()
	}
}

// wasmNameMangling is what Go's linker does to a symbol's name in the name
// section (cmd/link/internal/wasm: every character but a word character or
// a dot becomes "_"): "net/http.(*Client).Do" is "net_http.__Client_.Do".
var wasmNameMangling = regexp.MustCompile(`[^\w.]`)

// packageNamer tells the Go package of a function of the name section: the
// mangled names lose the slashes of the import paths, so it matches the
// names against the mangled import paths of the program's packages (from
// go list -deps), longest first.
type packageNamer struct {
	mangled []string          // the mangled import paths, longest first
	paths   map[string]string // the import path of each
}

// newPackageNamer takes the program's import paths and the import path of
// its main package, whose symbols are named main.*.
func newPackageNamer(importPaths []string, mainPath string) *packageNamer {
	p := &packageNamer{paths: map[string]string{"main": mainPath}}
	for _, ip := range importPaths {
		p.paths[wasmNameMangling.ReplaceAllString(ip, "_")] = ip
	}
	for m := range p.paths {
		p.mangled = append(p.mangled, m)
	}
	slices.SortFunc(p.mangled, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return p
}

// pkg returns the import path of the package of the function named name, or
// "type:" for the compiler's generated functions (type:.eq.T, type:.hash.T),
// or "(no package)" for the runtime's assembly helpers that have none
// (memeqbody, wasm_export_run).
func (p *packageNamer) pkg(name string) string {
	switch {
	case strings.HasPrefix(name, "type_."):
		return "type:"
	case strings.HasPrefix(name, "go_"):
		return "go:"
	}
	for _, m := range p.mangled {
		if len(name) > len(m) && name[len(m)] == '.' && strings.HasPrefix(name, m) {
			return p.paths[m]
		}
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		// A package the program does not import, named by a go:linkname
		// (the runtime defines runtime/debug's setGCPercent, for one).
		return name[:i] + " (not in go list -deps)"
	}
	return "(no package)"
}

// display returns name with its package's import path in place of the
// mangled one: "net/http.__Client_.Do" for "net_http.__Client_.Do".
func (p *packageNamer) display(name string) string {
	for _, m := range p.mangled {
		if len(name) > len(m) && name[len(m)] == '.' && strings.HasPrefix(name, m) {
			return p.paths[m] + name[len(m):]
		}
	}
	return name
}

// TestWasmFuncs reads a small module made by hand: two function imports
// around a memory import, two bodies, and their names.
func TestWasmFuncs(t *testing.T) {
	section := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	imports := cat([]byte{3},
		name("go"), name("a"), []byte{0, 0}, // function of type 0
		name("go"), name("mem"), []byte{2, 1, 1, 2}, // memory, min 1 max 2
		name("go"), name("b"), []byte{0, 0})
	code := []byte{2, 2, 0, 0x0b, 4, 0, 0x01, 0x01, 0x0b}
	names := cat(name("name"), section(1, cat([]byte{2}, []byte{2}, name("main.main"), []byte{3}, name("runtime.x"))...))
	bin := cat([]byte("\x00asm\x01\x00\x00\x00"), section(wasmSectionImport, imports...), section(wasmSectionCode, code...), section(wasmSectionCustom, names...))

	w, err := parseWasm(bin)
	if err != nil {
		t.Fatal(err)
	}
	if w.imports != 2 || !slices.Equal(w.bodies, []int{2, 4}) || !bytes.Equal(w.code, code) {
		t.Fatalf("imports %d, bodies %v, code %x", w.imports, w.bodies, w.code)
	}
	for _, c := range []struct {
		index int
		name  string
		size  int
	}{{0, "func 0", 0}, {2, "main.main", 2}, {3, "runtime.x", 4}, {4, "func 4", 0}} {
		if w.name(c.index) != c.name || w.size(c.index) != c.size {
			t.Errorf("function %d: %q of %d bytes, want %q of %d", c.index, w.name(c.index), w.size(c.index), c.name, c.size)
		}
	}
	if _, err := parseWasm(bin[:len(bin)-3]); err == nil {
		t.Error("a truncated module parsed")
	}

	p := newPackageNamer([]string{"github.com/pbxauth/pbxauth/core", "github.com/pbxauth/pbxauth/core/auth", "internal/runtime/maps", "runtime"}, "github.com/pbxauth/pbxauth/wasm")
	for name, want := range map[string]string{
		"github.com_pbxauth_pbxauth_core_auth.__Client_.Login": "github.com/pbxauth/pbxauth/core/auth",
		"github.com_pbxauth_pbxauth_core.New":                  "github.com/pbxauth/pbxauth/core",
		"internal_runtime_maps.__Map_.getWithKey":              "internal/runtime/maps",
		"runtime.mallocgc":                                     "runtime",
		"main.main.func1":                                      "github.com/pbxauth/pbxauth/wasm",
		"type_.eq.runtime._panic":                              "type:",
		"go_buildid":                                           "go:",
		"memeqbody":                                            "(no package)",
		"runtime_debug.setGCPercent":                           "runtime_debug (not in go list -deps)",
	} {
		if got := p.pkg(name); got != want {
			t.Errorf("pkg(%q) = %q, want %q", name, got, want)
		}
	}
	if got, want := p.display("github.com_pbxauth_pbxauth_core_auth.__Client_.Login"), "github.com/pbxauth/pbxauth/core/auth.__Client_.Login"; got != want {
		t.Errorf("display: %q, want %q", got, want)
	}
}
