//go:build js && wasm

// Command floorfetch is the smallest syscall/js program that does one fetch:
// it fetches the URL the page puts in the global floorfetchURL, waits for
// the Promise with js.FuncOf callbacks, and sets the global floorfetch to
// the response's status (or to the error's message). The reference point of
// the compile benchmark (BenchmarkCompile of web/internal/e2e): how much
// code V8 compiles for a Go program that does one fetch.
package main

import "syscall/js"

func main() {
	g := js.Global()
	done := make(chan struct{})
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		g.Set("floorfetch", args[0].Get("status"))
		close(done)
		return nil
	})
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		g.Set("floorfetch", "fetch failed: "+args[0].Get("message").String())
		close(done)
		return nil
	})
	g.Call("fetch", g.Get("floorfetchURL")).Call("then", then, catch)
	<-done
	then.Release()
	catch.Release()
}
