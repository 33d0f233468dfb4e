// Package secret keys the server's maps by the digest of a secret (a
// session id, a login token, an API key, a Vodia temporary id) instead of
// the secret itself: a map compares keys in time that depends on how many
// bytes match, and the digest's bytes tell nothing about the secret's. The
// login throttle uses it too, for keys of any length in fixed space.
package secret

import "crypto/sha256"

// Digest is the SHA-256 digest of a secret.
type Digest [sha256.Size]byte

// DigestOf returns s's digest.
func DigestOf(s string) Digest { return sha256.Sum256([]byte(s)) }
