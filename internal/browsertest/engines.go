package browsertest

import "path/filepath"

// Tools of the tests that drive Chromium, Firefox and WebKit over WebDriver
// (web/internal/engines), all from Debian's packages: no browser can be
// downloaded here, and Playwright cannot drive Debian's Firefox or WebKit.
var (
	// ChromeDriver drives Chromium over WebDriver classic.
	ChromeDriver = Tool{Name: "chromedriver", Paths: []string{"/usr/bin/chromedriver"},
		Cmds: []string{"chromedriver"}, Get: "install Debian's chromium-driver package"}
	// Firefox is Debian's Firefox ESR, driven over WebDriver BiDi.
	Firefox = Tool{Name: "Firefox", Paths: []string{"/usr/bin/firefox-esr"},
		Cmds: []string{"firefox-esr", "firefox"}, Get: "install Debian's firefox-esr package"}
	// WebKitWebDriver drives WebKitGTK's MiniBrowser over WebDriver classic.
	WebKitWebDriver = Tool{Name: "WebKitWebDriver", Paths: []string{"/usr/bin/WebKitWebDriver"},
		Cmds: []string{"WebKitWebDriver"}, Get: "install Debian's webkit2gtk-driver package"}
	// MiniBrowser is the WebKitGTK browser that WebKitWebDriver starts.
	MiniBrowser = Tool{Name: "MiniBrowser", Paths: miniBrowsers(),
		Get: "install Debian's webkit2gtk-driver package, whose libwebkit2gtk-4.1-0 has it"}
	// XvfbRun gives MiniBrowser, a GTK program, a display of its own.
	XvfbRun = Tool{Name: "xvfb-run", Paths: []string{"/usr/bin/xvfb-run"},
		Cmds: []string{"xvfb-run"}, Get: "install Debian's xvfb package"}
)

// miniBrowsers returns where Debian puts MiniBrowser, for every
// architecture found.
func miniBrowsers() []string {
	found, _ := filepath.Glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")
	return found
}
