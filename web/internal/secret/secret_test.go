package secret_test

import (
	"testing"

	"github.com/pbxauth/pbxauth/web/internal/secret"
)

func TestDigestOf(t *testing.T) {
	a, b := secret.DigestOf("session-1"), secret.DigestOf("session-2")
	if a == b {
		t.Fatal("two secrets have one digest")
	}
	if a != secret.DigestOf("session-1") {
		t.Fatal("one secret has two digests")
	}
	// The well-known SHA-256 of the empty string.
	if got := secret.DigestOf(""); got[0] != 0xe3 || got[31] != 0x55 {
		t.Fatalf("DigestOf(\"\") = %x, not SHA-256", got)
	}
}
