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
// feed that hears a logout elsewhere; tabs in step (another tab of the page
// follows a login and a logout without a feed, one of another origin is not
// told); the PBX's demo page (its form, its overlay button, its logout);
// logout; a wrong password.
//
//	make build && go test -count=1 -v ./web/internal/engines/
//
// The test installs the harness's packages (npm ci, pinned by
// js/package-lock.json) when js/node_modules is missing or stale. It needs
// Debian's chromium, chromium-driver, firefox-esr, webkit2gtk-driver (with
// libwebkit2gtk-4.1-0's MiniBrowser), xvfb, nodejs and npm; a missing one
// skips its engine (fails it under CI; see internal/browsertest).
// PBXAUTH_ENGINES_FLOWS=overlay,logout runs only those flows.
//
// Over https the page (https://localhost:Q) and the PBX
// (https://127.0.0.1:P) serve the PBX's certificate from a CA made for the
// test; each browser is told to accept it with the WebDriver capability
// acceptInsecureCerts (chromedriver and WebKitWebDriver report it back as
// true; puppeteer asks the BiDi session for it), and every engine honoured
// it. Node trusts the CA itself (NODE_EXTRA_CA_CERTS), to move the PBX's
// test clock.
//
// What differs between the engines, and what the page sees:
//
//   - Cookies across sites (over https; over http the PBX's cookie is
//     SameSite=Lax and no engine sends it cross-site). Firefox ESR sends
//     the PBX's SameSite=None cookie on the page's cross-site fetches;
//     Chromium (headless, a fresh profile) and WebKit (its tracking
//     prevention) do not. So a second tab without a sub-ID is let in by
//     the cookie in Firefox and by the saved token in the others (the
//     flow feed-logout-elsewhere notes which). The module sends its
//     session in the Authorization header and keeps a token in the page's
//     own localStorage, so the page sees the same in all three: the flows
//     assert the same outcomes everywhere.
//   - WebKitWebDriver's Element Send Keys into an element of a
//     cross-origin iframe (any, not only the overlay's) fails with
//     "Element is not focusable" unless the element has focus; a click
//     first gives it, so the harness clicks into a field before typing,
//     in every engine, as a user does.
//   - MiniBrowser paints only its front tab, so its second "tab" is a new
//     window (they share storage as tabs do; sessionStorage is per window).
package engines
