package endpoint

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxMessage bounds an error's message: it quotes at most 100 bytes of the
// input, 4 bytes a byte at worst.
const maxMessage = 700

// FuzzParse: no input panics; validIPv6 agrees with net/netip; what is
// accepted prints as a canonical form
// that parses to itself, that net/url reads as the same scheme, host and
// port with nothing else, whose IPv6 address net/netip accepts, and whose
// host IsLoopback calls loopback only if it is; what is refused is refused
// with a short error that names the call.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://pbx.example.com:8443/", "pbx", "http://[::1]:80", "wss://a-b.c", "ftp://x", "https://pbx:+80", "[::1", "a:b:c",
		"https://a..b", "http://1.2.3.4", "https://[:::::]", "https://[1:2]", "https://[1::2::3]", "https://[12345::1]",
		"https://[::ffff:1.2.3.4]", "https://[::1.2.3.4.5]", "https://[fe80::1%25eth0]", "https://[::1]:8080/",
		"http://127.0.0.1.", "http://127.1", "http://0x7f.0.0.1", "http://127.0.0.01", "http://2130706433",
		"HTTPS://PBX", "https://pbx:65535", "https://pbx:65536", "https://pbx:00080", "https://" + strings.Repeat("a", 64),
		"https://" + strings.Repeat("a.", 127) + "a", "https://pbx\x00", "https://pb\xffx", "https://é.example", "https://xn--9ca.example",
		"https://[::1]:", "https://[::1]]", strings.Repeat("\x80", 1000), "x" + strings.Repeat("é", 500) + "://x", "https://[[::1]]", "https:///pbx", "https:pbx", "//pbx", "https://pbx:8443:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		assert.Equal(t, err == nil && a.Is6() && a.Zone() == "", validIPv6(s), "validIPv6(%q) against net/netip", s)

		for _, p := range []struct {
			parse            func(string) (Endpoint, error)
			what, sec, plain string
		}{{ParseAPI, "Client.SetHost", "https", "http"}, {ParseWS, "Client.SetWSHost", "wss", "ws"}} {
			e, err := p.parse(s)
			if err != nil {
				assert.True(t, strings.HasPrefix(err.Error(), p.what+": "), "%v", err)
				assert.LessOrEqual(t, len(err.Error()), maxMessage, "%v", err)
				continue
			}
			assert.Contains(t, []string{p.sec, p.plain}, e.Scheme)
			again, err := p.parse(e.String())
			require.NoError(t, err, "%q parsed as %q, which does not parse", s, e.String())
			assert.Equal(t, e, again)

			u, err := url.Parse(e.String())
			require.NoError(t, err, "net/url refuses %q (from %q)", e.String(), s)
			assert.Equal(t, e.Scheme, u.Scheme)
			assert.Equal(t, e.Authority(), u.Host)
			assert.Equal(t, e.Port, u.Port())
			assert.True(t, u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.Opaque == "", "%q", e.String())

			host := u.Hostname()
			if strings.HasPrefix(e.Host, "[") {
				a, err := netip.ParseAddr(host)
				require.NoError(t, err, "%q is not an IPv6 address", e.Host)
				assert.True(t, a.Is6() && a.Zone() == "", "%q", e.Host)
			} else {
				assert.Equal(t, strings.ToLower(host), host)
			}
			if IsLoopback(e.Host) {
				assert.True(t, loopback(host), "%q is not loopback", e.Host)
				assert.False(t, e.Insecure())
			}
		}
	})
}

// loopback: localhost and its subdomains, and the loopback addresses (an
// IPv4 part may have leading zeros).
func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		return err == nil && a.IsLoopback()
	}
	parts := strings.Split(host, ".")
	for i, p := range parts {
		if t := strings.TrimLeft(p, "0"); t != "" {
			parts[i] = t
		} else if p != "" {
			parts[i] = "0"
		}
	}
	a, err := netip.ParseAddr(strings.Join(parts, "."))
	return err == nil && a.IsLoopback()
}
