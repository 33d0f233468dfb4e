// Package store keeps the local PBX server's login sessions and login
// tokens in memory.
//
// Sessions holds the sessions (session.go) and Tokens the login tokens
// (token.go), each under caps of one user's and of all entries (ownedmap.go).
// Both find an entry by the Digest of its secret, never by the secret
// itself (secret.go); the login throttle and the Vodia sessions key their
// maps the same way. Cookie is the session cookie of the server's three
// systems (cookie.go).
package store
