// Package users is the local PBX server's user directory.
//
// It says who may log in, with which password or API key, and which
// companies each user may select, and, for the Ping and Vodia phone
// systems, each user's extension, e-mail and domain. Users come from a JSON
// file (see Load) or from the built-in demo set (see Demo).
// Passwords are kept only as bcrypt hashes. Beside the read-only Directory,
// Externals holds the external users that administrators create while the
// server runs: single-use guests without a password.
package users

import "slices"

// Perm values: a permission holds for the user's whole system ("yes") or only
// inside its company ("company"), as the vendor's login reply says.
const (
	PermYes     = "yes"
	PermCompany = "company"
)

// User is one account of the directory. Load fills it; code outside this
// package reads it and must not modify it, because the directory shares it
// between requests.
type User struct {
	ID      int64
	Login   string
	Name    string
	Company string // the company selected at login
	Home    string // the user's own company
	Perms   map[string]string
	// Keys are API keys that act as this user without a session.
	Keys []string
	// Companies are the companies the user may select besides Home.
	Companies []string
	// External marks an external user (see Externals): it logs in once, with
	// any password, and may use only chat, AV and file calls.
	External bool
	// Extension is the user's phone number inside its domain, digits only;
	// "" for none. Ping logs in by extension, and Vodia names a user by its
	// domain and extension. An extension names one user across all domains.
	Extension string
	// Email is the user's e-mail address, "" for none.
	Email string
	// Domain is the user's Ping and Vodia domain: the company, unless the
	// users file gives another.
	Domain string

	hash []byte // bcrypt hash of the password; the password itself is not kept
}

// MaySelect reports whether the user may select company c: its home company,
// the company it starts with, and those listed in Companies.
func (u *User) MaySelect(c string) bool {
	return c != "" && (c == u.Home || c == u.Company || slices.Contains(u.Companies, c))
}
