// Package engines runs the module's main flows in Chromium, Firefox and
// WebKit, each from Debian's packages, over http and https.
//
// Its test starts a PBX (web/pbxtest) on 127.0.0.1 and, for it, a page
// server on localhost (another site), and runs the Node harness in js/ once
// per engine: selenium-webdriver drives Chromium through chromedriver and
// WebKitGTK's MiniBrowser through WebKitWebDriver (under xvfb-run), and
// puppeteer-core drives Firefox ESR over WebDriver BiDi. The flows, written
// once in js/flows.mjs: one script tag and a login; a saved token after a
// reload; a sub-ID per tab; the overlay login, filled in by the test; a live
// feed that hears a logout elsewhere; logout; a wrong password.
//
//	make build && go test -count=1 -v ./web/internal/engines/
//
// The test installs the harness's packages (npm ci, pinned by
// js/package-lock.json) when js/node_modules is missing or stale.
package engines
