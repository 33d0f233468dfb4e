package pbx

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pbxauth/pbxauth/core/wire"
)

// anyPort ends an origin pattern that matches the origin on every port (and
// on none, which is the scheme's default port).
const anyPort = ":*"

// defaultOrigins are the loopback origins, trusted when Config.Origins is nil.
var defaultOrigins = []string{
	"http://localhost:*", "https://localhost:*",
	"http://127.0.0.1:*", "https://127.0.0.1:*",
	"http://[::1]:*", "https://[::1]:*",
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
			return nil, err
		}
		out = append(out, norm)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("origins: the list %q is empty; give scheme://host[:port], comma-separated", list)
	}
	return out, nil
}

func parseOrigin(o string) (string, error) {
	base, wild := strings.CutSuffix(strings.TrimSuffix(o, "/"), anyPort)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || (wild && u.Port() != "") {
		return "", fmt.Errorf("origins: %q is not an origin; write scheme://host[:port] with http or https, and :* for any port", o)
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
		if base, ok := strings.CutSuffix(p, anyPort); ok {
			port, hasPort := strings.CutPrefix(origin, base+":")
			if origin == base || hasPort && port != "" && strings.Trim(port, "0123456789") == "" {
				return true
			}
		} else if origin == p {
			return true
		}
	}
	return false
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
			s.replyError(w, fail(http.StatusForbidden, wire.CodeOriginNotAllowed,
				"this server does not trust pages from %s; start it with -origins to add it", origin))
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", http.MethodPost)
			h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ownOrigin is the origin the request was sent to.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}
