package pbx

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// anyPort ends an origin pattern that matches the origin on every port (and
// on none, which is the scheme's default port).
const anyPort = ":*"

// DefaultOrigins returns the origins trusted when Config.Origins is nil: http
// and https on localhost, 127.0.0.1 and [::1], any port. The server that
// frames the login overlay (web/internal/site) needs the same list.
func DefaultOrigins() []string {
	return []string{
		"http://localhost:*", "https://localhost:*",
		"http://127.0.0.1:*", "https://127.0.0.1:*",
		"http://[::1]:*", "https://[::1]:*",
	}
}

// ParseOrigins reads a comma-separated list of trusted origins, such as
// "https://app.example.com,http://localhost:*": each is scheme://host[:port]
// with the scheme http or https, and the port "*" stands for any port.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		norm, err := parseOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("origins: %w", err)
		}
		out = append(out, norm)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("origins: the list %q is empty; give scheme://host[:port], comma-separated", list)
	}
	return out, nil
}

// parseOrigin reads one origin or origin pattern and returns it as the
// server compares it: scheme and host in lower case, no trailing slash.
func parseOrigin(o string) (string, error) {
	base, wild := strings.CutSuffix(strings.TrimSuffix(o, "/"), anyPort)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || (wild && u.Port() != "") ||
		strings.ContainsFunc(u.Host, func(r rune) bool { return r == '%' || r > 0x7e }) {
		return "", fmt.Errorf("%q is not an origin; write scheme://host[:port] with http or https, and :* for any port", o)
	}
	norm := u.Scheme + "://" + strings.ToLower(u.Host)
	if wild {
		norm += anyPort
	}
	return norm, nil
}

// trusts reports whether the server trusts pages from origin.
func (s *Server) trusts(origin string) bool {
	for _, p := range s.origins {
		if matchOrigin(p, origin) {
			return true
		}
	}
	return false
}

// matchOrigin reports whether origin is the pattern, or has the pattern's
// scheme and host and any port when the pattern ends in ":*".
func matchOrigin(pattern, origin string) bool {
	base, wild := strings.CutSuffix(pattern, anyPort)
	if !wild {
		return origin == pattern
	}
	port, hasPort := strings.CutPrefix(origin, base+":")
	return origin == base || hasPort && port != "" && strings.Trim(port, "0123456789") == ""
}

// checkOrigin lets through requests without an Origin and those from the
// server's own origin, adds the CORS headers for trusted origins and answers
// their preflights, and refuses every other origin.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" || origin == ownOrigin(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !s.trusts(origin) {
			s.refuse(w, r, fail(http.StatusForbidden, wire.CodeOriginNotAllowed,
				"this server does not trust pages from %s; start it with -origins to add it", origin))
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", allowedMethods(r.URL.Path))
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowedMethods are the methods a preflight allows on path: POST on the
// IPCortex paths, and what Vodia's and Ping's paths take.
func allowedMethods(path string) string {
	switch system(path) {
	case systemVodia:
		return "GET, POST, DELETE"
	case systemPing:
		return "GET, POST"
	}
	return http.MethodPost
}

// ownOrigin is the origin the request was sent to.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}
