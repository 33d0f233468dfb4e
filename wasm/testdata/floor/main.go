//go:build js && wasm

// Command floor is the smallest useful syscall/js program: the size the
// module is measured against (make size), built in the same run.
package main

import "syscall/js"

func main() {
	js.Global().Set("floor", js.FuncOf(func(js.Value, []js.Value) any { return nil }))
	select {}
}
