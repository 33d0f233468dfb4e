//go:build js && wasm

package jsbridge

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// WebStorage is the core's Storage over window.sessionStorage or
// window.localStorage, or any object with the same getItem, setItem and
// removeItem (what a Node.js program gives). Where the browser refuses storage
// (a sandboxed frame, some private modes) every call returns an error instead
// of throwing.
type WebStorage struct {
	Name string // "sessionStorage" or "localStorage": the property that holds it
	// From is the object whose property Name is the storage, read at each
	// call; the zero Value stands for the global object.
	From safejs.Value
}

// SessionStorage is this tab's sessionStorage; LocalStorage the origin's
// localStorage, shared by its tabs.
var (
	SessionStorage = WebStorage{Name: "sessionStorage"}
	LocalStorage   = WebStorage{Name: "localStorage"}
)

func (s WebStorage) area() (safejs.Value, error) {
	from := s.From
	if absent(from) {
		from = global
	}
	v, err := prop(from, s.Name) // the getter throws in sandboxed frames
	if err != nil {
		return v, err
	}
	if v.IsUndefined() || v.IsNull() {
		return v, errors.New(s.Name + " is not available in this browser")
	}
	return v, nil
}

// Get returns the value kept under key.
func (s WebStorage) Get(key string) (string, bool, error) {
	a, err := s.area()
	if err != nil {
		return "", false, err
	}
	v, err := a.Call("getItem", key)
	if err != nil || v.IsNull() || v.IsUndefined() {
		return "", false, err
	}
	str, err := v.String()
	return str, err == nil, err
}

// Set keeps value under key.
func (s WebStorage) Set(key, value string) error {
	a, err := s.area()
	if err != nil {
		return err
	}
	_, err = a.Call("setItem", key, value)
	return err
}

// Remove forgets key.
func (s WebStorage) Remove(key string) error {
	a, err := s.area()
	if err != nil {
		return err
	}
	_, err = a.Call("removeItem", key)
	return err
}

// Random fills b from Web Crypto's getRandomValues.
func Random(b []byte) error {
	c, err := global.Get("crypto")
	if err != nil {
		return err
	}
	u8, err := jsUint8Arr.New(len(b))
	if err != nil {
		return err
	}
	if _, err := c.Call("getRandomValues", u8); err != nil {
		return err
	}
	_, err = safejs.CopyBytesToGo(b, u8)
	return err
}

// Jitter draws from Math.random, for the feed's reconnection jitter.
func Jitter() float64 {
	v, err := mustGet(global, "Math").Call("random")
	if err != nil {
		return 0.5
	}
	f, err := v.Float()
	if err != nil || f < 0 || f >= 1 {
		return 0.5
	}
	return f
}

// ConsoleWarn writes msg with console.warn.
func ConsoleWarn(msg string) { logConsole("warn", msg) }

func logConsole(level, msg string) {
	if c, err := global.Get("console"); err == nil {
		_, _ = c.Call(level, "IPCortex.PBX.Auth: "+jsWords(msg))
	}
}

// PageDebug logs the client's steps the way the page asks, through its
// IPCortex.PBX.Auth.debug, read at every step so that a page can switch it
// on and off at any time: true writes them with console.debug, a function
// is called with each.
type PageDebug struct{ Target safejs.Value }

// On reports whether the page asks for the steps now: debug is true or a
// function.
func (d PageDebug) On() bool {
	v, err := prop(d.Target, "debug")
	if err != nil {
		return false
	}
	switch v.Type() {
	case safejs.TypeBoolean:
		on, _ := v.Bool()
		return on
	case safejs.TypeFunction:
		return true
	}
	return false
}

// Log reports one step.
func (d PageDebug) Log(msg string) {
	v, err := prop(d.Target, "debug")
	if err != nil {
		return
	}
	switch kind(v) {
	case "boolean":
		if on, _ := v.Bool(); on {
			logConsole("debug", msg)
		}
	case "function":
		if _, err := v.Invoke(jsWords(msg)); err != nil {
			logConsole("error", "the debug function threw: "+err.Error())
		}
	}
}
