package users

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzLoad checks the users file reader. A refused file is an error that
// says "users file:". An accepted one gives at least one user, each as
// encoding/json reads its entry (so that duplicate and case-folded keys
// mean what they mean to encoding/json), within every documented rule:
// ids above 0, logins, keys and extensions unique, extensions of digits,
// perms "yes" or "company", keys without surrounding spaces, a home and a
// company, passwords of 1 to MaxPasswordLen bytes that the directory then
// accepts, and those users written out again load the same.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`[{"id":1,"login":"a","password":"p","home":"h"}]`,
		`[{"id": 7, "login": "dave", "password": "pw", "name": "Dave", "home": "h", "company": "c", "perms": {"chat": "yes", "admin": "company"},
		  "keys": ["k1"], "companies": ["x"], "extension": "040", "email": "d@e", "domain": "dom"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h"},{"id":1,"login":"b","password":"p","home":"h"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h"},{"id":2,"login":"a","password":"p","home":"h"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","keys":["k"]},{"id":2,"login":"b","password":"p","home":"h","keys":["k"]}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","extension":"1"},{"id":2,"login":"b","password":"p","home":"h","extension":"1"}]`,
		`[{"id":1,"login":"a","password":"p","password":"q","home":"h"}]`, `[{"id":1,"LOGIN":"a","Password":"p","HOME":"h"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","x":1}]`, `[{"id":"1","login":"a","password":"p","home":"h"}]`,
		`[{"id":1.5,"login":"a","password":"p","home":"h"}]`, `[{"id":99999999999999999999,"login":"a","password":"p","home":"h"}]`,
		`[{"id":-1,"login":"a","password":"p","home":"h"}]`, `[{"id":1,"login":"","password":"p","home":"h"}]`,
		`[{"id":1,"login":"a","password":"` + strings.Repeat("p", 73) + `","home":"h"}]`,
		`[{"id":1,"login":"a","password":"` + strings.Repeat("é", 36) + `","home":"h"}]`,
		`[{"id":1,"login":"a\u0000","password":"\u0000","home":"` + "\xff" + `","perms":{"x":"no"}}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","perms":null,"keys":null,"companies":null}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","keys":[" k"]}]`, `[{"id":1,"login":"a","password":"p","home":"h","keys":[""]}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","extension":"1a"}]`, `[{"id":1,"login":"a","password":"p","home":"h","extension":"` + strings.Repeat("1", 21) + `"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h","email":" a@b"}]`, `[{"id":1,"login":"a","password":"p","home":"h","domain":" d"}]`,
		`[{"id":1,"login":"a","password":"p","home":"h"}] x`, `[{"id":1,"login":"a","password":"p","home":"h"},]`, `[]`, `{}`, `null`, ``, `[`,
		`[` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]`, `[{"id":1,"login":"a","password":"p","home":"h","perms":{"a":` + strings.Repeat("[", 50) + `}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		us, err := Load(bytes.NewReader(data))
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "users file: "), "%v", err)
			return
		}
		require.NotEmpty(t, us)
		var entries []fileUser
		require.NoError(t, json.Unmarshal(data, &entries), "encoding/json refuses an accepted file %q", data)
		require.Len(t, entries, len(us))

		ids, logins, keys, exts := map[int64]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i, u := range us {
			fu := entries[i]
			assert.Equal(t, fu.ID, u.ID)
			assert.Equal(t, fu.Login, u.Login)
			assert.Equal(t, fu.Name, u.Name)
			assert.Equal(t, fu.Extension, u.Extension)
			assert.True(t, u.ID > 0 && !ids[u.ID], "id %d", u.ID)
			assert.True(t, u.Login != "" && !logins[u.Login], "login %q", u.Login)
			assert.True(t, u.Home != "" && u.Company != "" && u.Domain != "", "%+v", u)
			assert.NotNil(t, u.Perms)
			for _, v := range u.Perms {
				assert.Contains(t, []string{PermYes, PermCompany}, v)
			}
			for _, k := range u.Keys {
				assert.True(t, k != "" && strings.TrimSpace(k) == k && !keys[k], "key %q", k)
				keys[k] = true
			}
			if u.Extension != "" {
				assert.True(t, validExtension(u.Extension) && !exts[u.Extension], "extension %q", u.Extension)
				exts[u.Extension] = true
			}
			ids[u.ID], logins[u.Login] = true, true
			assert.True(t, fu.Password != "" && len(fu.Password) <= MaxPasswordLen)
		}

		d := NewDirectory(us)
		for i, u := range us[:min(len(us), 3)] { // bcrypt is slow, even at MinCost
			got, err := d.Authenticate(u.Login, entries[i].Password)
			require.NoError(t, err, "user %q cannot log in with its password", u.Login)
			assert.Same(t, u, got)
		}

		for i := range entries {
			fu := &entries[i]
			fu.Home, fu.Company, fu.Domain, fu.Perms = us[i].Home, us[i].Company, us[i].Domain, us[i].Perms
		}
		out, err := json.Marshal(entries)
		require.NoError(t, err)
		again, err := Load(bytes.NewReader(out))
		require.NoError(t, err, "the users written out do not load: %s", out)
		require.Len(t, again, len(us))
		for i := range us {
			a, b := *us[i], *again[i]
			a.hash, b.hash = nil, nil
			assert.Equal(t, a, b)
		}
	})
}
