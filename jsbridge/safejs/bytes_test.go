//go:build js && wasm

// Changed from github.com/hack-pad/safejs v0.1.1 by the pbxauth authors:
// the messages of syscall/js as Go 1.26 writes them ("a Uint8Array", was
// "an Uint8Array") (see PATCHES).

package safejs

import (
	"testing"

	"github.com/hack-pad/safejs/internal/assert"
)

func TestCopyBytesError(t *testing.T) {
	t.Parallel()
	_, err := CopyBytesToGo(nil, Undefined())
	assert.EqualError(t, err, "syscall/js: CopyBytesToGo: expected src to be a Uint8Array or Uint8ClampedArray")

	_, err = CopyBytesToJS(Undefined(), nil)
	assert.EqualError(t, err, "syscall/js: CopyBytesToJS: expected dst to be a Uint8Array or Uint8ClampedArray")
}
