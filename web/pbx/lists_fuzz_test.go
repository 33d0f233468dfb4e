package pbx

import (
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzLists checks the server's -hosts, -origins and -token-classes lists.
// Each is refused with an error that names the flag, or read into entries
// that read again to themselves, in lower case, without commas or spaces.
// A host entry makes the server answer its name (in any case, and on any
// port unless it names one). An origin pattern is an origin (or one with
// ":*") that net/url reads as scheme and host alone, it trusts itself, and
// it trusts no origin of another scheme or host, whatever the port.
func FuzzLists(f *testing.F) {
	for _, s := range []string{
		"pbx.example.com,10.0.0.5:8080", " PBX.Example.COM , [::1]:80 ,", "[2001:db8::1]", "a:", ":80", "a:b", "a/b", "a@b", "http://a",
		"https://app.example.com,http://localhost:*", "http://LOCALHOST:*/", "https://a:443", "http://a:*:*", "http://a::*", "http://a:",
		"https://a/path", "https://a?q", "https://a#f", "https://u@a", "ftp://a", "https://", "http://a%25b", "http://a%41b", "http://é.example",
		"https://app.example=longLogin,http://localhost:*=refreshable", "https://a=refreshable,HTTPS://A/=longLogin", "https://a=",
		"https://a=other", "=refreshable", "https://a=refreshable=x", "\x00", "\xff", ",", " ", "",
	} {
		f.Add(s, "http://localhost:8080")
	}
	for _, s := range []string{"]", "0]", "]0", "[::1", "a]:80", "[a]", "[::1]:80]"} {
		f.Add(s, "http://"+s)
	}
	f.Add("http://localhost:*", "http://localhost:80@evil.example")
	f.Add("http://localhost:*", "http://localhost:1.evil.example")
	f.Add("http://localhost:*", "http://localhost")
	f.Add("http://a.example:*", "http://a.example.evil:1")
	f.Fuzz(func(t *testing.T, list, probe string) {
		hosts, err := ParseHosts(list)
		switch {
		case err != nil:
			assert.True(t, strings.HasPrefix(err.Error(), "hosts: "), "%v", err)
		default:
			require.NotEmpty(t, hosts)
			again, err := ParseHosts(strings.Join(hosts, ","))
			require.NoError(t, err, "%q from %q", hosts, list)
			assert.Equal(t, hosts, again)
			for _, h := range hosts {
				plain(t, h)
				s := &Server{hosts: []hostName{splitHost(h)}}
				assert.True(t, s.serves(h), "%q does not serve %q", list, h)
				assert.True(t, s.serves(strings.ToUpper(h)), "%q does not serve %q", list, strings.ToUpper(h))
				if hn := splitHost(h); hn.port == "" {
					assert.True(t, s.serves(h+":8080"), "%q does not serve %q on any port", list, h)
				}
			}
		}

		origins, err := ParseOrigins(list)
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "origins: "), "%v", err)
		} else {
			require.NotEmpty(t, origins)
			again, err := ParseOrigins(strings.Join(origins, ","))
			require.NoError(t, err, "%q from %q", origins, list)
			assert.Equal(t, origins, again)
			for _, o := range origins {
				checkPattern(t, o, probe)
			}
		}

		classes, err := ParseTokenClasses(list)
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "token classes: "), "%v", err)
		} else {
			require.NotEmpty(t, classes)
			var entries []string
			for o, c := range classes {
				assert.Contains(t, []string{"refreshable", "longLogin"}, c)
				checkPattern(t, o, probe)
				entries = append(entries, o+"="+c)
			}
			sort.Strings(entries)
			again, err := ParseTokenClasses(strings.Join(entries, ","))
			require.NoError(t, err, "%q from %q", entries, list)
			assert.Equal(t, classes, again)
		}
	})
}

// plain: an entry as the server keeps it.
func plain(t *testing.T, e string) {
	t.Helper()
	assert.Equal(t, strings.ToLower(e), e)
	assert.False(t, strings.ContainsAny(e, ", \t\r\n"), "%q", e)
}

// checkPattern checks an origin pattern as ParseOrigins returns it, and that
// it trusts probe only if probe has its scheme and host.
func checkPattern(t *testing.T, p, probe string) {
	t.Helper()
	plain(t, p)
	base, wild := strings.CutSuffix(p, anyPort)
	u, err := url.Parse(base)
	require.NoError(t, err, "%q", p)
	assert.Contains(t, []string{"http", "https"}, u.Scheme)
	assert.Equal(t, u.Scheme+"://"+u.Host, base, "%q is more than an origin", p)
	assert.True(t, matchOrigin(p, base), "%q does not trust %q", p, base)
	if wild {
		assert.True(t, matchOrigin(p, base+":8443"), "%q does not trust port 8443", p)
	}
	if matchOrigin(p, probe) {
		v, err := url.Parse(probe)
		require.NoError(t, err, "%q trusts %q", p, probe)
		assert.Equal(t, u.Scheme, v.Scheme, "%q trusts %q", p, probe)
		assert.Equal(t, u.Hostname(), v.Hostname(), "%q trusts %q", p, probe)
		assert.True(t, v.User == nil && v.Path == "" && v.RawQuery == "" && v.Fragment == "", "%q trusts %q", p, probe)
	}
}
