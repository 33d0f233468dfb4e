package users

import (
	"cmp"
	"errors"
	"slices"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/web/internal/store"
)

// ErrAuthFailed is the one answer to an unknown login and to a wrong password,
// so that callers cannot tell which users exist.
var ErrAuthFailed = errors.New("wrong username or password")

// Directory looks users up by login, id, API key and extension. It is
// read-only once built and safe for concurrent use.
type Directory struct {
	byLogin     map[string]*User
	byID        map[int64]*User
	byKey       map[store.Digest]*User
	byExtension map[string]*User
	// domains lists the users with an extension by domain, in the order of
	// their extensions; a domain whose users have none maps to nil.
	domains map[string][]*User
}

// NewDirectory indexes users. Pass what Load or Demo returned: they have
// checked that ids, logins and keys are unique (a later duplicate would win).
func NewDirectory(us []*User) *Directory {
	d := &Directory{
		byLogin:     make(map[string]*User, len(us)),
		byID:        make(map[int64]*User, len(us)),
		byKey:       make(map[store.Digest]*User),
		byExtension: make(map[string]*User),
		domains:     make(map[string][]*User),
	}
	for _, u := range us {
		d.byLogin[u.Login] = u
		d.byID[u.ID] = u
		for _, k := range u.Keys {
			d.byKey[store.DigestOf(k)] = u
		}
		if u.Domain != "" {
			d.domains[u.Domain] = d.domains[u.Domain] // known, even without extensions
		}
		if u.Extension != "" && u.Domain != "" {
			d.byExtension[u.Extension] = u
			d.domains[u.Domain] = append(d.domains[u.Domain], u)
		}
	}
	for _, list := range d.domains {
		slices.SortFunc(list, func(a, b *User) int { return compareExtensions(a.Extension, b.Extension) })
	}
	return d
}

// compareExtensions orders extensions as numbers ("9" before "10"), and
// those of the same length as text ("040" before "041").
func compareExtensions(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
}

// dummyHash is compared against for unknown logins, so that they take as long
// as a wrong password and do not reveal which logins exist.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("no such user"), HashCost)
	if err != nil {
		panic("users: hashing the dummy password: " + err.Error())
	}
	return h
})

// Authenticate returns the user with this login and password, or ErrAuthFailed.
// A password over MaxPasswordLen bytes fails before bcrypt sees it: bcrypt
// reads only the first 72 bytes, so it would accept any tail after a correct
// password.
func (d *Directory) Authenticate(login, password string) (*User, error) {
	u, ok := d.byLogin[login]
	return check(u, ok, password)
}

// AuthenticateExtension returns the user with this extension and password,
// or ErrAuthFailed: the login of Ping, whose user name is the extension.
func (d *Directory) AuthenticateExtension(ext, password string) (*User, error) {
	u, ok := d.ByExtension(ext)
	return check(u, ok, password)
}

// check compares password with the hash of u, found (ok) or not: an unknown
// user is compared against a dummy hash, so that it takes as long as a wrong
// password.
func check(u *User, ok bool, password string) (*User, error) {
	if len(password) > MaxPasswordLen {
		return nil, ErrAuthFailed
	}
	hash := dummyHash()
	if ok && u.hash != nil {
		hash = u.hash
	} else {
		ok = false // a user built outside Load has no password
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !ok {
		return nil, ErrAuthFailed
	}
	return u, nil
}

// ByKey returns the user that owns API key k. Keys are looked up by their
// SHA-256 digest so that the lookup time says nothing about a key's prefix.
func (d *Directory) ByKey(k string) (*User, bool) {
	if k == "" {
		return nil, false
	}
	u, ok := d.byKey[store.DigestOf(k)]
	return u, ok
}

// ByExtension returns the user with this extension, whatever its domain.
func (d *Directory) ByExtension(ext string) (*User, bool) {
	if ext == "" {
		return nil, false
	}
	u, ok := d.byExtension[ext]
	return u, ok
}

// HasDomain reports whether some user of the directory is in domain.
func (d *Directory) HasDomain(domain string) bool {
	_, ok := d.domains[domain]
	return ok && domain != ""
}

// Extensions returns the users of domain that have an extension, in the
// order of their extensions. The slice is the directory's: do not modify it.
func (d *Directory) Extensions(domain string) []*User {
	return d.domains[domain]
}

// ByLogin returns the user with this login name.
func (d *Directory) ByLogin(login string) (*User, bool) {
	u, ok := d.byLogin[login]
	return u, ok
}

// MaxID returns the largest user id of the directory, 0 when it is empty.
func (d *Directory) MaxID() int64 {
	var m int64
	for id := range d.byID {
		m = max(m, id)
	}
	return m
}

// ByID returns the user with this id.
func (d *Directory) ByID(id int64) (*User, bool) {
	u, ok := d.byID[id]
	return u, ok
}
