package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Digest is the SHA-256 digest of a secret (a session id, a login token, an
// API key, a Vodia temporary id). The server's maps are keyed by it instead
// of the secret: a map compares keys in time that depends on how many bytes
// match, and the digest's bytes tell nothing about the secret's. The login
// throttle uses it too, for keys of any length in fixed space.
type Digest [sha256.Size]byte

// DigestOf returns s's digest.
func DigestOf(s string) Digest { return sha256.Sum256([]byte(s)) }

// NewSecret returns 32 random bytes, base64url without padding: session ids,
// login tokens and phone passwords that nobody can guess.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; it crashes the program if the system has no randomness
	return base64.RawURLEncoding.EncodeToString(b)
}
