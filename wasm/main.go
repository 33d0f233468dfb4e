//go:build js && wasm

// Command wasm is the browser module, pbxauth.wasm: the core wired to the browser.
//
// It hands IPCortex.PBX.Auth's implementation to the loader
// (web/internal/site/api.js), which set up globalThis.__pbxauth = {host,
// auth, ready} before starting it. The same module runs in Node.js
// (web/npm/node.mjs), whose boot object also has dom: false and the getters
// storage, tokens and WebSocket.
package main

import (
	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
	"github.com/pbxauth/pbxauth/jsbridge"
)

func main() {
	boot, err := safejs.Global().Get("__pbxauth")
	if err != nil || boot.IsUndefined() {
		jsbridge.ConsoleWarn("load the module through api.js, not on its own")
		return
	}
	host, _ := boot.Get("host")
	hostStr, _ := host.String()
	target, _ := boot.Get("auth")

	cfg := auth.Config{
		Transport: backend.SelfTimed{Transport: jsbridge.Fetch{}},
		Host:      hostStr,
		Backends:  []backend.Backend{ipcortex.New(), vodia.New(), ping.New()},
		Jitter:    jsbridge.Jitter,
		Random:    jsbridge.Random,
		OnChange:  jsbridge.Properties{Target: target}.Set,
		Warn:      jsbridge.ConsoleWarn,
		Debug:     jsbridge.PageDebug{Target: target}.Log,
		Debugging: jsbridge.PageDebug{Target: target}.On,
	}
	// dom is false only in Node.js; a page's loader leaves it undefined, and
	// Bool on undefined would panic (recovered, but its recovery code would
	// be compiled at every page load).
	var tabs *jsbridge.Tabs
	dom, _ := boot.Get("dom")
	if dom.Type() == safejs.TypeBoolean && !mustBool(dom) {
		// No page (Node.js, web/npm/node.mjs): no overlay, and the storage
		// and the WebSocket constructor the program gave, which the boot
		// object's getters hand out at each use.
		cfg.Session = jsbridge.WebStorage{From: boot, Name: "storage"}
		cfg.Credentials = &auth.Sessions{Store: cfg.Session, Tokens: jsbridge.WebStorage{From: boot, Name: "tokens"}}
		cfg.Dialer = jsbridge.WebSockets{From: boot}
	} else {
		var tokens auth.Storage
		cfg.Session, tokens = browserStorage()
		cfg.Credentials = &auth.Sessions{Store: cfg.Session, Tokens: tokens}
		cfg.Prompt = jsbridge.Overlay{}
		cfg.Dialer = jsbridge.WebSockets{}
		cfg.OnChange = jsbridge.Properties{Target: target, Event: jsbridge.ChangeEvent}.Set
		tabs = jsbridge.NewTabs()
		cfg.Tabs = tabs
	}
	c, err := auth.New(cfg)
	if err != nil {
		jsbridge.ConsoleWarn("cannot start: " + err.Error())
		return
	}
	if tabs != nil {
		if err := tabs.Listen(c.TabChanged); err != nil {
			jsbridge.ConsoleWarn("other tabs' logins and logouts will not be followed: " + err.Error())
		}
	}
	impl, err := jsbridge.Export(c)
	if err != nil {
		jsbridge.ConsoleWarn("cannot start: " + err.Error())
		return
	}
	if _, err := boot.Call("ready", impl); err != nil {
		jsbridge.ConsoleWarn("cannot start: " + err.Error())
		return
	}
	select {} // serve calls from the page for as long as it lives
}

// browserStorage is the tab's sessionStorage and the origin's localStorage,
// or what stands in for each where the browser refuses it.
func browserStorage() (session, tokens auth.Storage) {
	session = jsbridge.SessionStorage
	if _, _, err := session.Get(auth.SubIDKey); err != nil {
		jsbridge.ConsoleWarn("sessionStorage is not available (" + err.Error() + "); the sub-ID lasts only as long as this page")
		session = auth.NewMemoryStorage()
	}
	tokens = jsbridge.LocalStorage
	if _, _, err := tokens.Get(auth.SubIDKey); err != nil {
		jsbridge.ConsoleWarn("localStorage is not available (" + err.Error() + "); logins are not remembered across page loads")
		tokens = nil
	}
	return session, tokens
}

func mustBool(v safejs.Value) bool {
	b, _ := v.Bool()
	return b
}
