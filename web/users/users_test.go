package users

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	HashCost = bcrypt.MinCost // bcrypt is slow under -race
	os.Exit(m.Run())
}

func TestLoad(t *testing.T) {
	us, err := Load(strings.NewReader(`[
		{"id": 7, "login": "dave", "password": "pw", "name": "Dave", "home": "h",
		 "perms": {"chat": "yes", "admin": "company"}, "keys": ["k1"], "companies": ["x"]},
		{"id": 8, "login": "erin", "password": "pw2", "company": "c"}
	]`))
	require.NoError(t, err)
	require.Len(t, us, 2)
	d := us[0]
	assert.Equal(t, int64(7), d.ID)
	assert.Equal(t, "dave", d.Login)
	assert.Equal(t, "Dave", d.Name)
	assert.Equal(t, "h", d.Home)
	assert.Equal(t, "h", d.Company, "company defaults to home")
	assert.Equal(t, map[string]string{"chat": "yes", "admin": "company"}, d.Perms)
	assert.Equal(t, []string{"k1"}, d.Keys)
	assert.True(t, d.MaySelect("x"))
	assert.True(t, d.MaySelect("h"))
	assert.False(t, d.MaySelect("y"))
	assert.False(t, d.MaySelect(""))
	e := us[1]
	assert.Equal(t, "c", e.Home, "home defaults to company")
	assert.NotNil(t, e.Perms, "perms is {} in replies, not null")
}

func TestLoadErrors(t *testing.T) {
	const ok = `{"id": 1, "login": "a", "password": "p", "home": "h"}`
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", `[` + ok + `, {"id": 2, "login": "b", "pasword": "p", "home": "h"}]`,
			`users file: user 2: unknown field "pasword"`},
		{"key given twice", `[{"id": 1, "login": "a", "password": "p", "password": "q", "home": "h"}]`,
			`users file: user 1: key "password" appears twice in the top-level object; give each key once`},
		{"case-folded key", `[{"id": 1, "LOGIN": "a", "password": "p", "home": "h"}]`,
			`users file: user 1: key "LOGIN" in the top-level object: field names are case-sensitive; write "login"`},
		{"duplicate id", `[` + ok + `, {"id": 1, "login": "b", "password": "p", "home": "h"}]`,
			`users file: user 2 ("b"): "id" 1 is used by an earlier user`},
		{"duplicate login", `[` + ok + `, {"id": 2, "login": "a", "password": "p", "home": "h"}]`,
			`users file: user 2 ("a"): "login" is used by an earlier user`},
		{"duplicate key", `[{"id": 1, "login": "a", "password": "p", "home": "h", "keys": ["k"]},
			{"id": 2, "login": "b", "password": "p", "home": "h", "keys": ["k"]}]`,
			`users file: user 2 ("b"): "keys" holds a key used earlier`},
		{"empty key", `[{"id": 1, "login": "a", "password": "p", "home": "h", "keys": [""]}]`,
			`"keys" holds an empty key`},
		{"bad perm", `[{"id": 1, "login": "a", "password": "p", "home": "h", "perms": {"chat": "no"}}]`,
			`users file: user 1 ("a"): perm "chat" is "no"; use "yes" or "company"`},
		{"empty password", `[{"id": 1, "login": "a", "password": "", "home": "h"}]`,
			`"password" must not be empty`},
		{"no password", `[{"id": 1, "login": "a", "home": "h"}]`, `"password" must not be empty`},
		{"no login", `[{"id": 1, "password": "p", "home": "h"}]`, `"login" must not be empty`},
		{"no id", `[{"login": "a", "password": "p", "home": "h"}]`, `"id" must be a number above 0`},
		{"negative id", `[{"id": -3, "login": "a", "password": "p", "home": "h"}]`, `"id" must be a number above 0`},
		{"no company", `[{"id": 1, "login": "a", "password": "p"}]`, `set "home"`},
		{"id as string", `[{"id": "1", "login": "a", "password": "p", "home": "h"}]`,
			`users file: user 1: field "id": want a whole number, got a JSON string`},
		{"login as number", `[{"id": 1, "login": 5, "password": "p", "home": "h"}]`,
			`field "login": want a string, got a JSON number`},
		{"perms as array", `[{"id": 1, "login": "a", "password": "p", "home": "h", "perms": ["chat"]}]`,
			`field "perms": want an object of strings`},
		{"fractional id", `[{"id": 1.5, "login": "a", "password": "p", "home": "h"}]`, `field "id": want a whole number`},
		{"keys not an array", `[{"id": 1, "login": "a", "password": "p", "home": "h", "keys": "k"}]`,
			`field "keys": want an array of strings, got a JSON string`},
		{"user not an object", `[1]`, `users file: user 1: want a users object`},
		{"syntax error", `[{"id": 1,}]`, `users file: user 1: invalid character`},
		{"not an array", ok, "want a JSON array"},
		{"empty", ``, "want a JSON array"},
		{"no users", `[]`, "no users"},
		{"trailing data", `[` + ok + `] []`, "unexpected data after the array"},
		{"unterminated", `[` + ok, "users file: "},
		{"password too long", `[{"id": 1, "login": "a", "password": "p", "home": "h"},
			{"id": 2, "login": "b", "password": "` + strings.Repeat("x", 73) + `", "home": "h"}]`,
			`users file: user 2 ("b"): "password" is 73 bytes; shorten it to at most 72`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestPasswordOver72Bytes: bcrypt reads only the first 72 bytes, so a longer
// password that starts with the right one must not pass for it.
func TestPasswordOver72Bytes(t *testing.T) {
	pw := strings.Repeat("p", MaxPasswordLen)
	us, err := Load(strings.NewReader(`[{"id": 1, "login": "a", "password": "` + pw + `", "home": "h"}]`))
	require.NoError(t, err, "72 bytes is allowed")
	d := NewDirectory(us)
	_, err = d.Authenticate("a", pw)
	require.NoError(t, err)
	_, err = d.Authenticate("a", pw+"x")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, err = d.Authenticate("a", pw+pw)
	assert.ErrorIs(t, err, ErrAuthFailed)
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	require.NoError(t, os.WriteFile(path, []byte(`[{"id": 1, "login": "a", "password": "p", "home": "h"}]`), 0o600))
	us, err := LoadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "a", us[0].Login)

	_, err = LoadFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorContains(t, err, "users file: open ")
}

func TestDemo(t *testing.T) {
	d := NewDirectory(Demo())
	tests := []struct {
		login, password string
		id              int64
		company         string
	}{
		{"alice", "wonderland", 101, "default"},
		{"bob", "builder", 102, "default"},
		{"carol", "carolpass", 103, "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.login, func(t *testing.T) {
			u, err := d.Authenticate(tt.login, tt.password)
			require.NoError(t, err)
			assert.Equal(t, tt.id, u.ID)
			assert.Equal(t, tt.company, u.Company)
			assert.Equal(t, tt.company, u.Home)
			assert.Equal(t, PermYes, u.Perms["chat"])

			_, err = d.Authenticate(tt.login, tt.password+"x")
			assert.ErrorIs(t, err, ErrAuthFailed)
		})
	}
	alice, ok := d.ByID(101)
	require.True(t, ok)
	assert.Equal(t, "Alice Example", alice.Name)
	assert.Equal(t, map[string]string{"chat": "yes", "admin": "company"}, alice.Perms)
	assert.True(t, alice.MaySelect("acme"))
	byKey, ok := d.ByKey("demo-key-alice-6f1c2a9e")
	require.True(t, ok)
	assert.Same(t, alice, byKey)
	bob, _ := d.ByID(102)
	assert.False(t, bob.MaySelect("acme"))
}

func TestDirectoryMisses(t *testing.T) {
	d := NewDirectory(Demo())
	_, err := d.Authenticate("nobody", "wonderland")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, err = d.Authenticate("alice", "")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, ok := d.ByKey("")
	assert.False(t, ok)
	_, ok = d.ByKey("demo-key-alice")
	assert.False(t, ok)
	_, ok = d.ByID(999)
	assert.False(t, ok)

	// A user that did not come from Load has no password: nothing matches,
	// not even the dummy one.
	d = NewDirectory([]*User{{ID: 1, Login: "x"}})
	_, err = d.Authenticate("x", "no such user")
	assert.ErrorIs(t, err, ErrAuthFailed)
}

// TestPasswordNotKept walks every field of every loaded user and checks that
// none of them holds the password in clear.
func TestPasswordNotKept(t *testing.T) {
	for _, u := range Demo() {
		assertNoString(t, reflect.ValueOf(u), "wonderland")
		assertNoString(t, reflect.ValueOf(u), "builder")
		assertNoString(t, reflect.ValueOf(u), "carolpass")
	}
}

func assertNoString(t *testing.T, v reflect.Value, secret string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			assertNoString(t, v.Elem(), secret)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			assertNoString(t, v.Field(i), secret)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			assert.NotContains(t, string(v.Bytes()), secret)
			return
		}
		for i := range v.Len() {
			assertNoString(t, v.Index(i), secret)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			assertNoString(t, k, secret)
			assertNoString(t, v.MapIndex(k), secret)
		}
	case reflect.String:
		assert.NotContains(t, v.String(), secret)
	}
}

// TestPhoneFields: extension, email and domain are optional; the domain
// defaults to the company (which defaults to home).
func TestPhoneFields(t *testing.T) {
	us, err := Load(strings.NewReader(`[
		{"id": 1, "login": "a", "password": "p", "home": "h", "extension": "012345678", "email": "a@example.com", "domain": "d.example"},
		{"id": 2, "login": "b", "password": "p", "home": "h", "extension": "9"},
		{"id": 3, "login": "c", "password": "p", "company": "c", "home": "h"},
		{"id": 4, "login": "d", "password": "p", "home": "h", "extension": "10"}
	]`))
	require.NoError(t, err)
	assert.Equal(t, "012345678", us[0].Extension, "leading zeros are kept")
	assert.Equal(t, "a@example.com", us[0].Email)
	assert.Equal(t, "d.example", us[0].Domain)
	assert.Equal(t, "h", us[1].Domain, "the domain defaults to the company, here home's")
	assert.Empty(t, us[1].Email)
	assert.Equal(t, "c", us[2].Domain, "the domain defaults to the company")
	assert.Empty(t, us[2].Extension)

	d := NewDirectory(us)
	u, ok := d.ByExtension("012345678")
	require.True(t, ok)
	assert.Same(t, us[0], u)
	_, ok = d.ByExtension("12345678")
	assert.False(t, ok, "extensions are strings: a leading zero counts")
	_, ok = d.ByExtension("")
	assert.False(t, ok)
	assert.True(t, d.HasDomain("d.example"))
	assert.True(t, d.HasDomain("h"))
	assert.True(t, d.HasDomain("c"), "a domain without extensions is still a domain")
	assert.False(t, d.HasDomain("nowhere"))
	assert.False(t, d.HasDomain(""))
	assert.Equal(t, []*User{us[1], us[3]}, d.Extensions("h"), "ordered as numbers: 9 before 10; c has no extension")
	assert.Empty(t, d.Extensions("c"))
	assert.Empty(t, d.Extensions("nowhere"))

	got, err := d.AuthenticateExtension("9", "p")
	require.NoError(t, err)
	assert.Same(t, us[1], got)
	_, err = d.AuthenticateExtension("9", "wrong")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, err = d.AuthenticateExtension("b", "p")
	assert.ErrorIs(t, err, ErrAuthFailed, "Ping's user name is the extension, not the login")
	_, err = d.AuthenticateExtension("77", "p")
	assert.ErrorIs(t, err, ErrAuthFailed)
	_, err = d.AuthenticateExtension("9", "p"+strings.Repeat("x", MaxPasswordLen))
	assert.ErrorIs(t, err, ErrAuthFailed)
}

func TestPhoneFieldErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"extension not digits", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extension": "4a"}]`,
			`users file: user 1 ("a"): "extension" is "4a"; write 1 to 20 digits`},
		{"extension with a plus", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extension": "+4640"}]`,
			`"extension" is "+4640"`},
		{"extension too long", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extension": "` + strings.Repeat("1", 21) + `"}]`,
			`write 1 to 20 digits`},
		{"extension a number", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extension": 40}]`,
			`field "extension": want a string, got a JSON number`},
		{"duplicate extension across domains", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extension": "40"},
			{"id": 2, "login": "b", "password": "p", "home": "h", "domain": "other", "extension": "40"}]`,
			`users file: user 2 ("b"): "extension" "40" is used by an earlier user`},
		{"email without @", `[{"id": 1, "login": "a", "password": "p", "home": "h", "email": "alice"}]`,
			`"email" is "alice"`},
		{"domain with spaces", `[{"id": 1, "login": "a", "password": "p", "home": "h", "domain": " d "}]`,
			`"domain" has surrounding spaces`},
		{"unknown field still", `[{"id": 1, "login": "a", "password": "p", "home": "h", "extention": "40"}]`,
			`unknown field "extention"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDemoPhoneFields(t *testing.T) {
	d := NewDirectory(Demo())
	tests := []struct {
		login, password, extension, email, domain string
	}{
		{"alice", "wonderland", "40", "alice@example.com", "default"},
		{"bob", "builder", "41", "", "default"},
		{"carol", "carolpass", "42", "", "acme"},
	}
	for _, tt := range tests {
		u, ok := d.ByLogin(tt.login)
		require.True(t, ok)
		assert.Equal(t, tt.extension, u.Extension, tt.login)
		assert.Equal(t, tt.email, u.Email, tt.login)
		assert.Equal(t, tt.domain, u.Domain, tt.login)
		got, err := d.AuthenticateExtension(tt.extension, tt.password)
		require.NoError(t, err, "the same password on every system")
		assert.Same(t, u, got)
	}
	assert.Len(t, d.Extensions("default"), 2)
	assert.Len(t, d.Extensions("acme"), 1)
}
