package users

import (
	"crypto/sha256"
	"errors"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// ErrAuthFailed is the one answer to an unknown login and to a wrong password,
// so that callers cannot tell which users exist.
var ErrAuthFailed = errors.New("wrong username or password")

// Directory looks users up by login, id and API key. It is read-only once
// built and safe for concurrent use.
type Directory struct {
	byLogin map[string]*User
	byID    map[int64]*User
	byKey   map[[sha256.Size]byte]*User
}

// NewDirectory indexes users. Pass what Load or Demo returned: they have
// checked that ids, logins and keys are unique (a later duplicate would win).
func NewDirectory(us []*User) *Directory {
	d := &Directory{
		byLogin: make(map[string]*User, len(us)),
		byID:    make(map[int64]*User, len(us)),
		byKey:   make(map[[sha256.Size]byte]*User),
	}
	for _, u := range us {
		d.byLogin[u.Login] = u
		d.byID[u.ID] = u
		for _, k := range u.Keys {
			d.byKey[sha256.Sum256([]byte(k))] = u
		}
	}
	return d
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
	if len(password) > MaxPasswordLen {
		return nil, ErrAuthFailed
	}
	u, ok := d.byLogin[login]
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
	u, ok := d.byKey[sha256.Sum256([]byte(k))]
	return u, ok
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
