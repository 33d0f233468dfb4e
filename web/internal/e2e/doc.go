// Package e2e holds the end-to-end browser tests of the module.
//
// It builds and starts the local PBX server (./web), serves vendor-style
// test pages from a second origin that load the module with one script
// tag, and drives Debian's Chromium through chromedp against both.
//
//	make build && go test -race -timeout 10m ./web/internal/e2e/
//
// The tests fail (they do not skip) when web/internal/site/dist/pbxauth.wasm is
// missing: run make build first. Screenshots of the demo page are written to
// out/screenshots at the repository root.
package e2e
