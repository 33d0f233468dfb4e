package users

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/web/internal/strictjson"
)

// HashCost is the bcrypt cost of the passwords that Load hashes. 10 keeps the
// demo users' start-up well under a second; tests lower it to bcrypt.MinCost
// (in TestMain, before anything is loaded) to run fast under -race.
var HashCost = 10

// MaxPasswordLen is the longest password in bytes: bcrypt reads no further.
const MaxPasswordLen = 72

// fileUser is one entry of a users file, as written by people.
type fileUser struct {
	ID        int64             `json:"id"`
	Login     string            `json:"login"`
	Password  string            `json:"password"`
	Name      string            `json:"name"`
	Company   string            `json:"company"`
	Home      string            `json:"home"`
	Perms     map[string]string `json:"perms"`
	Keys      []string          `json:"keys"`
	Companies []string          `json:"companies"`
	Extension string            `json:"extension"`
	Email     string            `json:"email"`
	Domain    string            `json:"domain"`
}

// LoadFile reads a users file; see Load.
func LoadFile(path string) ([]*User, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	defer f.Close()
	return Load(f)
}

// Load reads a users file: a JSON array of users with the fields id, login,
// password, name, company, home, perms, keys and companies, and the optional
// extension, email and domain of the Ping and Vodia phone systems. It refuses
// unknown fields, wrong types, missing or duplicate ids and logins, duplicate
// keys and extensions, extensions that are not digits, perms other than "yes"
// and "company" and passwords over MaxPasswordLen bytes, naming the user (by
// its position, counted from 1) and the field. Passwords are hashed and not
// kept.
func Load(r io.Reader) ([]*User, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("users file: want a JSON array of users, [{...}, ...]")
	}
	var us []*User
	seen := newUniq()
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("users file: user %d: %s", n, describe(err))
		}
		var fu fileUser // duplicate keys and case-folded names refused, as in requests
		if err := strictjson.Unmarshal(raw, &fu); err != nil {
			return nil, fmt.Errorf("users file: user %d: %s", n, describe(err))
		}
		u, err := fu.user()
		if err == nil {
			err = seen.add(u)
		}
		if err != nil {
			return nil, fmt.Errorf("users file: user %d (%q): %w", n, fu.Login, err)
		}
		us = append(us, u)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("users file: %s", describe(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("users file: unexpected data after the array of users")
	}
	if len(us) == 0 {
		return nil, errors.New("users file: no users; add at least one")
	}
	return us, nil
}

// user checks one entry and turns it into a User with a hashed password.
func (fu *fileUser) user() (*User, error) {
	switch {
	case fu.ID <= 0:
		return nil, errors.New(`"id" must be a number above 0`)
	case fu.Login == "":
		return nil, errors.New(`"login" must not be empty`)
	case fu.Password == "":
		return nil, errors.New(`"password" must not be empty`)
	case len(fu.Password) > MaxPasswordLen:
		return nil, fmt.Errorf(`"password" is %d bytes; shorten it to at most %d, the most bcrypt checks`, len(fu.Password), MaxPasswordLen)
	case fu.Home == "" && fu.Company == "":
		return nil, errors.New(`set "home" (and "company", if it starts in another one)`)
	case fu.Extension != "" && !validExtension(fu.Extension):
		return nil, fmt.Errorf(`"extension" is %q; write 1 to %d digits, such as "40"`, fu.Extension, MaxExtensionLen)
	case fu.Email != "" && (strings.TrimSpace(fu.Email) != fu.Email || !strings.Contains(fu.Email, "@")):
		return nil, fmt.Errorf(`"email" is %q; write an address such as "alice@example.com", or leave it out`, fu.Email)
	case strings.TrimSpace(fu.Home) != fu.Home || strings.TrimSpace(fu.Company) != fu.Company || strings.TrimSpace(fu.Domain) != fu.Domain:
		return nil, errors.New(`"home", "company" or "domain" has surrounding spaces`)
	}
	for name, v := range fu.Perms {
		if v != PermYes && v != PermCompany {
			return nil, fmt.Errorf(`perm %q is %q; use "yes" or "company"`, name, v)
		}
	}
	for _, k := range fu.Keys {
		if strings.TrimSpace(k) != k || k == "" {
			return nil, errors.New(`"keys" holds an empty key or one with surrounding spaces`)
		}
	}
	if fu.Home == "" {
		fu.Home = fu.Company
	}
	if fu.Company == "" {
		fu.Company = fu.Home
	}
	if fu.Domain == "" {
		fu.Domain = fu.Company
	}
	if fu.Perms == nil {
		fu.Perms = map[string]string{} // the reply shows "perms": {}, not null
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(fu.Password), HashCost)
	if err != nil {
		return nil, fmt.Errorf(`"password": %w`, err)
	}
	return &User{
		ID: fu.ID, Login: fu.Login, Name: fu.Name, Company: fu.Company, Home: fu.Home,
		Perms: fu.Perms, Keys: fu.Keys, Companies: fu.Companies,
		Extension: fu.Extension, Email: fu.Email, Domain: fu.Domain, hash: hash,
	}, nil
}

// MaxExtensionLen is the longest extension number: enough for a full
// international number, which some PBXes use as an extension.
const MaxExtensionLen = 20

// validExtension reports whether ext is 1 to MaxExtensionLen ASCII digits.
// Leading zeros are kept: "012345678" is the Ping document's example user.
func validExtension(ext string) bool {
	if ext == "" || len(ext) > MaxExtensionLen {
		return false
	}
	return strings.Trim(ext, "0123456789") == ""
}

// uniq finds ids, logins, keys and extensions used twice.
type uniq struct {
	ids        map[int64]bool
	logins     map[string]bool
	keys       map[string]bool
	extensions map[string]bool
}

func newUniq() *uniq {
	return &uniq{ids: map[int64]bool{}, logins: map[string]bool{}, keys: map[string]bool{}, extensions: map[string]bool{}}
}

func (q *uniq) add(u *User) error {
	if q.ids[u.ID] {
		return fmt.Errorf(`"id" %d is used by an earlier user`, u.ID)
	}
	if q.logins[u.Login] {
		return errors.New(`"login" is used by an earlier user`)
	}
	if u.Extension != "" && q.extensions[u.Extension] {
		// Ping's login names the extension alone, without a domain, so an
		// extension names one user across every domain.
		return fmt.Errorf(`"extension" %q is used by an earlier user (in any domain: Ping logs in by extension alone)`, u.Extension)
	}
	for _, k := range u.Keys {
		if q.keys[k] {
			return errors.New(`"keys" holds a key used earlier; give every key to one user`)
		}
		q.keys[k] = true
	}
	q.ids[u.ID], q.logins[u.Login] = true, true
	if u.Extension != "" {
		q.extensions[u.Extension] = true
	}
	return nil
}

// describe turns a decoding error into words about the users file.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf(`want a users object {"id": ..., "login": ...}, got a JSON %s`, te.Value)
		}
		return fmt.Sprintf("field %q: want %s, got a JSON %s", te.Field, kind(te.Type.String()), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// kind names a Go type the way the users file's author thinks of it.
func kind(goType string) string {
	switch {
	case goType == "int64":
		return "a whole number"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "map["):
		return `an object of strings ({"name": "yes"})`
	default:
		return "an array of strings"
	}
}
