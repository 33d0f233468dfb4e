package store

import "testing"

func TestDigestOf(t *testing.T) {
	a, b := DigestOf("session-1"), DigestOf("session-2")
	if a == b {
		t.Fatal("two secrets have one digest")
	}
	if a != DigestOf("session-1") {
		t.Fatal("one secret has two digests")
	}
	// The well-known SHA-256 of the empty string.
	if got := DigestOf(""); got[0] != 0xe3 || got[31] != 0x55 {
		t.Fatalf("DigestOf(\"\") = %x, not SHA-256", got)
	}
}
