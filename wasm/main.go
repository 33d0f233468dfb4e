//go:build js && wasm

// Command wasm is the browser module: it wires the core to the browser and
// hands IPCortex.PBX.Auth's implementation to the loader (web/site/api.js),
// which set up globalThis.__pbxauth = {host, auth, ready} before starting it.
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

	var session auth.Storage = jsbridge.SessionStorage
	if _, _, err := session.Get(auth.SubIDKey); err != nil {
		jsbridge.ConsoleWarn("sessionStorage is not available (" + err.Error() + "); the sub-ID lasts only as long as this page")
		session = auth.NewMemoryStorage()
	}
	var tokens auth.Storage = jsbridge.LocalStorage
	if _, _, err := tokens.Get(auth.SubIDKey); err != nil {
		jsbridge.ConsoleWarn("localStorage is not available (" + err.Error() + "); logins are not remembered across page loads")
		tokens = nil
	}
	c, err := auth.New(auth.Config{
		Transport: jsbridge.Fetch{},
		Host:      hostStr,
		Session:   session,
		Tokens:    tokens,
		Prompt:    jsbridge.Overlay{},
		Dialer:    jsbridge.WebSockets{},
		Backends:  []backend.Backend{ipcortex.New(), vodia.New(), ping.New()},
		Jitter:    jsbridge.Jitter,
		Random:    jsbridge.Random,
		OnChange:  jsbridge.Properties{Target: target}.Set,
		Warn:      jsbridge.ConsoleWarn,
		Debug:     jsbridge.PageDebug{Target: target}.Log,
	})
	if err != nil {
		jsbridge.ConsoleWarn("cannot start: " + err.Error())
		return
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
