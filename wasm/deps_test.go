//go:build !js

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBrowserBuildLinks guards the module's size: every page load pays for
// what the browser build links. net/http alone would add about 1.3 MB brotli
// (the browser talks through fetch), encoding/json about 110 KB (core/backend/ipcortex/wire
// has its own codec), crypto/rand its DRBG (Web Crypto is there already),
// fmt with the reflect and os it brings about 86 KB (jsbridge/safejs is
// safejs patched to do without it).
func TestBrowserBuildLinks(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	linked := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		linked[p] = true
	}
	if !linked["github.com/pbxauth/pbxauth/jsbridge"] {
		t.Fatalf("go list did not list the browser build's packages:\n%s", out)
	}
	for _, p := range []string{"net/http", "net/url", "encoding/json", "crypto/rand", "fmt", "reflect", "os", "github.com/coder/websocket", "github.com/pbxauth/pbxauth/core/native"} {
		if linked[p] {
			t.Errorf("the browser build links %s; see the comment above and README.md, How it is built", p)
		}
	}
}
