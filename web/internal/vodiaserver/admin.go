package vodiaserver

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/web/users"
)

// DemoAdmin is the admin of the demo server, LOGIN:PASSWORD as -vodia-admin
// takes it; the README lists it, so it is no secret.
const DemoAdmin = "admin:vodia-demo"

// Admin is the system administrator of the PBX, the one account that may ask
// for temporary session ids. It keeps the login and a bcrypt hash of the
// password, never the password itself.
type Admin struct {
	login string
	hash  []byte
}

// NewAdmin returns the admin with this login and password. Neither may be
// empty, the login may not hold a colon (Basic credentials could not carry
// it), and the password may be at most users.MaxPasswordLen bytes, the most
// bcrypt checks.
func NewAdmin(login, password string) (*Admin, error) {
	switch {
	case login == "" || password == "":
		return nil, errors.New("vodia admin: give a login and a password, LOGIN:PASSWORD")
	case strings.Contains(login, ":"):
		return nil, errors.New("vodia admin: the login may not hold a colon")
	case len(password) > users.MaxPasswordLen:
		return nil, fmt.Errorf("vodia admin: the password is %d bytes; shorten it to at most %d, the most bcrypt checks", len(password), users.MaxPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), users.HashCost)
	if err != nil {
		return nil, fmt.Errorf("vodia admin: %w", err)
	}
	return &Admin{login: login, hash: hash}, nil
}

// ParseAdmin reads LOGIN:PASSWORD, as the flag -vodia-admin takes it (the
// password may hold colons), and returns that admin.
func ParseAdmin(s string) (*Admin, error) {
	login, password, ok := strings.Cut(s, ":")
	if !ok {
		return nil, errors.New("vodia admin: write LOGIN:PASSWORD")
	}
	return NewAdmin(login, password)
}

// dummyHash is compared against for a wrong login, so that it takes as long
// as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("not the admin"), users.HashCost)
	if err != nil {
		panic("vodia: hashing the dummy password: " + err.Error())
	}
	return h
})

// Check reports whether login and password are the admin's. A nil Admin
// matches nothing.
func (a *Admin) Check(login, password string) bool {
	if len(password) > users.MaxPasswordLen {
		return false
	}
	hash, ok := dummyHash(), false
	if a != nil {
		ok = subtle.ConstantTimeCompare([]byte(login), []byte(a.login)) == 1
		if ok {
			hash = a.hash
		}
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && ok
}
