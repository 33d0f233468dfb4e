package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestTypesMatchTheObject: every member web/internal/site/api.d.ts declares on
// IPCortex.PBX.Auth and IPCortex.PBX is on the real objects, and every one
// they expose is declared.
func TestTypesMatchTheObject(t *testing.T) {
	requireEnv(t)
	src, err := os.ReadFile(filepath.Join(env.root, "web", "internal", "site", "api.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "interface AuthAPI {")
	end := strings.Index(text[start:], "\n  }\n")
	if start < 0 || end < 0 {
		t.Fatal("api.d.ts has no interface AuthAPI { ... }")
	}
	member := regexp.MustCompile(`(?m)^    (?:readonly )?([A-Za-z_]+)\??[(:]`)
	declared := map[string]bool{}
	for _, m := range member.FindAllStringSubmatch(text[start:start+end], -1) {
		declared[m[1]] = true
	}
	fn := regexp.MustCompile(`(?m)^  function ([A-Za-z_]+)\(`)
	declaredPBX := map[string]bool{"Auth": true}
	for _, m := range fn.FindAllStringSubmatch(text, -1) {
		declaredPBX[m[1]] = true
	}

	if len(declared) < 15 || len(declaredPBX) < 7 {
		t.Fatalf("read too few declarations from api.d.ts (%d on Auth, %d on PBX): the pattern no longer matches its layout", len(declared), len(declaredPBX))
	}

	tb := newSession(t, testDeadline)
	tb.navigate(addPage("types", `IPCortex.PBX.Auth.setHost('{{PBX}}');`))
	tb.checkonly() // the module is ready
	exposed := evalIn[[]string](tb, "Object.keys(IPCortex.PBX.Auth)")
	exposedPBX := evalIn[[]string](tb, "Object.keys(IPCortex.PBX)")

	compare := func(what string, declared map[string]bool, exposed []string, optional ...string) {
		have := map[string]bool{}
		for _, k := range exposed {
			have[k] = true
			if !declared[k] {
				t.Errorf("%s exposes %q, which api.d.ts does not declare", what, k)
			}
		}
		opt := map[string]bool{}
		for _, k := range optional {
			opt[k] = true
		}
		var names []string
		for k := range declared {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !have[k] && !opt[k] {
				t.Errorf("api.d.ts declares %s.%s, which the real object lacks", what, k)
			}
		}
	}
	compare("IPCortex.PBX.Auth", declared, exposed, "debug") // debug is the page's to set
	compare("IPCortex.PBX", declaredPBX, exposedPBX)
}
