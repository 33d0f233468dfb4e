//go:build js && wasm

package jsbridge

import (
	"strconv"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
)

// kind is a JS value's type as typeof names it, without panicking on the
// types syscall/js does not know (a BigInt makes js.Value.Type panic).
func kind(v safejs.Value) (k string) {
	defer func() {
		if recover() != nil {
			k = "bigint"
		}
	}()
	switch v.Type() {
	case safejs.TypeUndefined:
		return "undefined"
	case safejs.TypeNull:
		return "null"
	case safejs.TypeBoolean:
		return "boolean"
	case safejs.TypeNumber:
		return "number"
	case safejs.TypeString:
		return "string"
	case safejs.TypeSymbol:
		return "symbol"
	case safejs.TypeFunction:
		return "function"
	}
	return "object"
}

// prop reads v[key] through Reflect.get. Reading a page's object with
// js.Value.Get is not safe: wasm_exec.js does not catch an exception thrown
// by a getter (a Proxy, a throwing accessor) there, and the Go runtime dies.
// A call is caught, so prop returns the exception as an error.
func prop(v safejs.Value, key any) (safejs.Value, error) {
	return jsReflect.Call("get", v, key)
}

func absent(v safejs.Value) bool {
	k := kind(v)
	return k == "undefined" || k == "null"
}

// loginCall is a login call in any of the vendor's forms.
type loginCall struct {
	opts     auth.Options
	callback safejs.Value // a function, or undefined
}

// parseLogin accepts every form pages use:
//
//	login()  login(options)  login(options, callback)  login(callback)
//	login(callback, options)  login(username, password, insecure, callback)
//
// login(callback) alone is a check of the current login (no overlay), as
// old pages use it; login() with no arguments is the overlay login.
func parseLogin(args []safejs.Value) (loginCall, error) {
	a0, a1 := arg(args, 0), arg(args, 1)
	call := loginCall{callback: safejs.Undefined()}
	var opts safejs.Value
	switch kind(a0) {
	case "string": // the old form
		user, _ := a0.String()
		if kind(a1) != "string" {
			return call, typeErrorf("login", "login(username, password, insecure, callback) needs the password as a string, not "+kind(a1))
		}
		pass, _ := a1.String()
		call.opts = auth.Options{Username: user, Password: pass}
		cb, err := callbackArg("login", arg(args, 3))
		call.callback = cb
		return call, err
	case "function":
		call.callback, opts = a0, a1
	case "undefined", "null", "object":
		opts = a0
		cb, err := callbackArg("login", a1)
		if err != nil {
			return call, err
		}
		call.callback = cb
	default:
		return call, typeErrorf("login", "the first argument must be an options object, a callback or a username, not "+kind(a0))
	}
	o, err := parseLoginOptions(opts)
	if kind(a0) == "function" && absent(opts) {
		o.CheckOnly = true // login(callback) alone checks the current login, as old pages use it
	}
	call.opts = o
	return call, err
}

// callbackArg accepts a function, undefined or null.
func callbackArg(method string, v safejs.Value) (safejs.Value, error) {
	switch kind(v) {
	case "function":
		return v, nil
	case "undefined", "null":
		return safejs.Undefined(), nil
	}
	return safejs.Undefined(), typeErrorf(method, "the callback must be a function, not "+kind(v))
}

// loginOptions are the vendor's login options and their JS types, in the
// order they are read (a slice, not a map: the first wrong one is reported
// the same way every time, and the page compiles no map code to read them).
var loginOptions = [...]struct{ name, kind string }{
	{"checkonly", "boolean"}, {"notoken", "boolean"}, {"nodom", "boolean"},
	{"username", "string"}, {"password", "string"}, {"subid", "string"},
	{"application", "string"}, {"origin", "string"},
	{"tokens", "array"}, {"token", "array"}, {"tokenCB", "function"},
}

// Indexes into loginOptions.
const (
	optCheckOnly = iota
	optNoToken
	optNoDOM
	optUsername
	optPassword
	optSubID
	optApplication
	optOrigin
	optTokens
	optToken
	optTokenCB
)

func parseLoginOptions(v safejs.Value) (auth.Options, error) {
	var o auth.Options
	if absent(v) {
		return o, nil
	}
	if kind(v) != "object" {
		return o, typeErrorf("login", "options must be an object, not "+kind(v))
	}
	var fields [len(loginOptions)]safejs.Value // undefined where absent
	for i, opt := range loginOptions {
		f, err := prop(v, opt.name)
		if err != nil {
			return o, typeErrorf("login", "reading option "+opt.name+" failed: "+err.Error())
		}
		fields[i] = f
		if absent(f) {
			continue
		}
		got := kind(f)
		if got == "object" && isArray(f) {
			got = "array"
		}
		if got != opt.kind {
			return o, typeErrorf("login", "option "+opt.name+" must be a "+opt.kind+", not "+got)
		}
	}
	o.CheckOnly = boolField(fields[optCheckOnly])
	o.NoToken = boolField(fields[optNoToken])
	o.Headless = boolField(fields[optNoDOM])
	o.Username = stringField(fields[optUsername])
	o.Password = stringField(fields[optPassword])
	o.SubID = stringField(fields[optSubID])
	o.Application = stringField(fields[optApplication])
	o.Origin = stringField(fields[optOrigin])
	// "token" is the same option as "tokens": the vendor's own app passes it.
	for _, i := range [...]int{optTokens, optToken} {
		if !absent(fields[i]) {
			list, err := stringsOf(fields[i], loginOptions[i].name)
			if err != nil {
				return o, err
			}
			o.Tokens = append(o.Tokens, list...)
		}
	}
	if !absent(fields[optTokenCB]) {
		o.OnTokens = tokenCallback(fields[optTokenCB])
	}
	return o, nil
}

// tokenCallback calls the page's tokenCB with {token: expiry in ms}.
func tokenCallback(cb safejs.Value) func(map[string]time.Time) {
	return func(live map[string]time.Time) {
		obj := newObject()
		for t, exp := range live {
			_ = obj.Set(t, float64(exp.UnixMilli()))
		}
		if _, err := cb.Invoke(obj); err != nil {
			logConsole("error", "tokenCB threw: "+err.Error())
		}
	}
}

// boolField is an option's boolean (false where absent).
func boolField(v safejs.Value) bool {
	if absent(v) {
		return false
	}
	b, _ := v.Bool()
	return b
}

// stringField is an option's string ("" where absent).
func stringField(v safejs.Value) string {
	if absent(v) {
		return ""
	}
	s, _ := v.String()
	return s
}

func isArray(v safejs.Value) bool {
	r, err := mustGet(global, "Array").Call("isArray", v)
	if err != nil {
		return false
	}
	b, _ := r.Bool()
	return b
}

func stringsOf(arr safejs.Value, name string) ([]string, error) {
	bad := typeErrorf("login", "option "+name+" must be an array of strings")
	lv, err := prop(arr, "length")
	if err != nil || kind(lv) != "number" {
		return nil, bad
	}
	n, _ := lv.Int()
	if n > auth.MaxTokens {
		return nil, typeErrorf("login", "option "+name+" has over "+strconv.Itoa(auth.MaxTokens)+" entries")
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		e, err := prop(arr, i)
		if err != nil || kind(e) != "string" {
			return nil, bad
		}
		s, _ := e.String()
		out = append(out, s)
	}
	return out, nil
}

// optionalBool reads an optional boolean argument (undefined and null are false).
func optionalBool(method, what string, v safejs.Value) (bool, error) {
	switch kind(v) {
	case "undefined", "null":
		return false, nil
	case "boolean":
		return v.Bool()
	}
	return false, typeErrorf(method, what+" must be a boolean, not "+kind(v))
}

// requiredString reads a string argument.
func requiredString(method, what string, v safejs.Value) (string, error) {
	if kind(v) != "string" {
		return "", typeErrorf(method, what+" must be a string, not "+kind(v))
	}
	return v.String()
}
