//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"

	"github.com/hack-pad/safejs"
)

var (
	global     = safejs.Global()
	jsPromise  = mustGet(global, "Promise")
	jsObject   = mustGet(global, "Object")
	jsUint8Arr = mustGet(global, "Uint8Array")
	jsReflect  = func() safejs.Value { r, _ := global.Get("Reflect"); return r }()
)

// mustGet reads v[name], undefined if that throws.
func mustGet(v safejs.Value, name string) safejs.Value {
	out, err := prop(v, name)
	if err != nil {
		return safejs.Undefined()
	}
	return out
}

// newObject returns a new, empty JS object.
func newObject() safejs.Value {
	o, err := jsObject.New()
	if err != nil {
		return safejs.Undefined()
	}
	return o
}

// Promise runs fn in its own goroutine and returns a JS Promise of its result.
// The JS caller is never blocked (a blocked callback hangs the page), and a
// panic in fn rejects the Promise instead of ending the Go runtime.
func Promise(fn func() (any, error)) safejs.Value {
	var resolve, reject safejs.Value
	exec, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return safejs.Undefined()
	}
	p, err := jsPromise.New(exec)
	exec.Release() // the executor has run: new Promise calls it at once
	if err != nil {
		return safejs.Undefined()
	}
	go func() {
		v, err := guard(fn)
		if err != nil {
			_, _ = reject.Invoke(JSError(err))
			return
		}
		if v == nil {
			v = safejs.Undefined() // resolve with no data, as the vendor does
		}
		_, _ = resolve.Invoke(v)
	}()
	return p
}

// guard calls fn and turns a panic into an error with code "internal".
func guard(fn func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &internalError{panicText(r)}
		}
	}()
	return fn()
}

// panicText describes a recovered panic value without fmt, so that this
// package does not link fmt into the module (linked code costs bytes and load
// time; safejs still links fmt today, see DESIGN.md).
func panicText(r any) string {
	switch v := r.(type) {
	case string:
		return v
	case error: // runtime.Error included
		return v.Error()
	}
	return "a panic with a value that is not a string or an error"
}

type internalError struct{ what string }

func (e *internalError) Error() string {
	return "internal error in the auth module (" + e.what + "); the module keeps working, please report this"
}

// Await waits, in a goroutine that is not a JS callback, for a JS Promise to
// settle. If ctx ends first it returns ctx's error; the Promise's handlers
// stay until it settles and then release themselves.
func Await(ctx context.Context, p safejs.Value) (safejs.Value, error) {
	type result struct {
		v   safejs.Value
		err error
	}
	ch := make(chan result, 1)
	var onOK, onErr safejs.Func
	release := func() { onOK.Release(); onErr.Release() }
	var err error
	onOK, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{v: arg(args, 0)}
		release()
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	onErr, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		ch <- result{err: rejection(arg(args, 0))}
		release()
		return nil
	})
	if err != nil {
		onOK.Release()
		return safejs.Undefined(), err
	}
	if _, err := p.Call("then", onOK, onErr); err != nil {
		release()
		return safejs.Undefined(), err
	}
	done := ctx.Done()
	if done == nil { // a context that never ends: no select to compile
		r := <-ch
		return r.v, r.err
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-done:
		return safejs.Undefined(), ctx.Err()
	}
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}

// rejection turns a Promise's rejection reason into a Go error.
func rejection(v safejs.Value) error {
	msg := "rejected"
	if m, err := prop(v, "message"); err == nil && kind(m) == "string" {
		msg, _ = m.String()
	} else if s, err := v.String(); err == nil {
		msg = s
	}
	if n, err := prop(v, "name"); err == nil && kind(n) == "string" {
		name, _ := n.String()
		return &JSException{Name: name, Message: msg}
	}
	return errors.New(msg)
}

// JSException is a JavaScript exception (a DOMException or Error) as a Go
// error, for errors.As.
type JSException struct {
	Name, Message string
}

func (e *JSException) Error() string { return e.Name + ": " + e.Message }
