package pbx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// hostName is a Host the server answers: a name and a port, "" for any port.
type hostName struct {
	name, port string
}

// splitHost splits a Host header value, or a Config.Hosts entry, into its
// lower-case name (without IPv6 brackets) and its port ("" without one).
func splitHost(h string) hostName {
	if name, port, err := net.SplitHostPort(h); err == nil {
		return hostName{strings.ToLower(name), port}
	}
	return hostName{strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ""}
}

// ParseHosts reads a comma-separated list of extra host names to serve, such
// as "pbx.example.com,10.0.0.5:8080": each is a name or an IP address,
// optionally with a port; without one, every port is served.
func ParseHosts(list string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(list, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		u, err := url.Parse("http://" + h)
		if err != nil || u.Host != h || u.Hostname() == "" || strings.HasSuffix(h, ":") || !canonicalHost(h) {
			return nil, fmt.Errorf("hosts: %q is not a host; write name or name:port (an IPv6 address in brackets), without a scheme", h)
		}
		out = append(out, strings.ToLower(h))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("hosts: the list %q is empty; give name or name:port, comma-separated", list)
	}
	return out, nil
}

// serves reports whether the server answers requests sent to host, the value
// of their Host header: loopback names on any port, and the configured hosts.
func (s *Server) serves(host string) bool {
	h := splitHost(host)
	if h.name == "" {
		return false
	}
	if ip, err := netip.ParseAddr(h.name); h.name == "localhost" || err == nil && ip.IsLoopback() {
		return true
	}
	for _, ok := range s.hosts {
		if ok.name == h.name && (ok.port == "" || ok.port == h.port) {
			return true
		}
	}
	return false
}

// checkHost refuses requests sent to a host name the server does not serve.
// That stops DNS rebinding: a hostile page whose name the attacker points at
// this server would otherwise be same-origin with it, pass the origin check,
// and log in or read the module's replies with the victim's browser.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.serves(r.Host) {
			s.refuse(w, r, fail(http.StatusMisdirectedRequest, wire.CodeHostNotAllowed,
				"this server does not serve the host %q; if that is its name, start it with -hosts to add it", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalHost reports whether h is what splitHost makes of it again: a
// name or IP address (IPv6 in brackets), and a port if any.
func canonicalHost(h string) bool {
	hn := splitHost(h)
	want := hn.name
	if strings.Contains(want, ":") {
		want = "[" + want + "]"
	}
	if hn.port != "" {
		want += ":" + hn.port
	}
	return validHostName(hn.name) && strings.ToLower(h) == want
}

// validHostName: an IP address, or a name of letters, digits, '.' and '-'.
func validHostName(n string) bool {
	if _, err := netip.ParseAddr(n); err == nil {
		return true
	}
	return n != "" && strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789.-") == ""
}
