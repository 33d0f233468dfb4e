// Package endpoint parses the API and WebSocket hosts pages give to setHost and setWSHost.
//
// It does not use net/url: the browser build pays for every package it
// links, and these forms need a dozen lines, not a URL parser.
package endpoint

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Endpoint is a scheme and an authority (host[:port]) with nothing after them.
type Endpoint struct {
	Scheme string // "https", "http", "wss" or "ws"
	Host   string // host name or IP; an IPv6 address keeps its brackets
	Port   string // "" for the scheme's default
}

// String returns scheme://host[:port], the form calls are built on.
func (e Endpoint) String() string {
	if e.Scheme == "" {
		return ""
	}
	return e.Scheme + "://" + e.Authority()
}

// Authority returns host[:port].
func (e Endpoint) Authority() string {
	if e.Port == "" {
		return e.Host
	}
	return e.Host + ":" + e.Port
}

// Insecure reports a plain http or ws endpoint to a host that is not loopback:
// allowed, for legacy PBXs, but credentials cross the network in clear.
func (e Endpoint) Insecure() bool {
	return (e.Scheme == "http" || e.Scheme == "ws") && !IsLoopback(e.Host)
}

// WebSocket returns the feed endpoint that belongs to an API endpoint: the same
// authority, wss for https and ws for http.
func (e Endpoint) WebSocket() Endpoint {
	switch e.Scheme {
	case "https":
		e.Scheme = "wss"
	case "http":
		e.Scheme = "ws"
	}
	return e
}

// IsLoopback reports whether host names this machine: localhost, 127.0.0.0/8 or [::1].
func IsLoopback(host string) bool {
	h := strings.ToLower(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "[::1]" {
		return true
	}
	if !strings.HasPrefix(h, "127.") {
		return false
	}
	parts := strings.Split(h, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return false
		}
	}
	return true
}

// ParseAPI parses what setHost accepts: https://host[:port], http://host[:port]
// or a bare host[:port] (which means https), with an optional trailing slash.
func ParseAPI(s string) (Endpoint, error) {
	return parse(s, "https", "http", "Client.SetHost")
}

// ParseWS parses what setWSHost accepts: wss://host[:port], ws://host[:port] or
// a bare host[:port] (which means wss).
func ParseWS(s string) (Endpoint, error) {
	return parse(s, "wss", "ws", "Client.SetWSHost")
}

func parse(s, secure, plain, what string) (Endpoint, error) {
	example := " (for example " + secure + "://pbx.example.com or " + secure + "://pbx.example.com:8443)"
	if strings.TrimSpace(s) == "" {
		return Endpoint{}, errors.New(what + ": the host is empty; give it as " + secure + "://host[:port]" + example)
	}
	rest := s
	scheme := secure
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = strings.ToLower(s[:i])
		rest = s[i+3:]
		if scheme != secure && scheme != plain {
			return Endpoint{}, errors.New(what + ": scheme " + quote(scheme) + " is not allowed; use " + secure + ":// or " + plain + "://" + example)
		}
	}
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/?#@\\ \t\r\n") {
		return Endpoint{}, errors.New(what + ": " + quote(s) + " must be only scheme://host[:port], with no path, query, user or spaces" + example)
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return Endpoint{}, errors.New(what + ": " + quote(s) + ": " + err.Error() + example)
	}
	return Endpoint{Scheme: scheme, Host: strings.ToLower(host), Port: port}, nil
}

// quote quotes a value for an error message, cut to its first 100 bytes:
// a page may pass anything, a megabyte included.
func quote(s string) string {
	const max = 100
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

func splitHostPort(a string) (host, port string, err error) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", errors.New("an IPv6 address lacks its closing ]")
		}
		host, a = a[:end+1], a[end+1:]
		if !validIPv6(host[1:end]) {
			return "", "", errors.New("the IPv6 address is not valid")
		}
		if a == "" {
			return host, "", nil
		}
		if a[0] != ':' {
			return "", "", errors.New("unexpected text after the IPv6 address")
		}
		if port = a[1:]; port == "" {
			return "", "", errors.New("the port is empty")
		}
	} else {
		host = a
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i+1:]
			if port == "" {
				return "", "", errors.New("the port is empty")
			}
		}
		if !validName(host) {
			return "", "", errors.New("the host name is not valid")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9' {
			return "", "", errors.New("the port must be a number from 1 to 65535")
		}
	}
	return host, port, nil
}

// validName accepts DNS names and IPv4 addresses: labels of letters, digits
// and hyphens, not starting or ending with a hyphen.
func validName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validIPv6 accepts an IPv6 address as RFC 4291 writes it: eight groups of
// 1 to 4 hex digits separated by ':', one run of zero groups written "::",
// and the last two groups as dotted IPv4; no zone.
func validIPv6(h string) bool {
	groups, gap := 0, false
	if strings.HasPrefix(h, "::") {
		h, gap = h[2:], true
		if h == "" {
			return true
		}
	}
	for {
		i := strings.IndexByte(h, ':')
		g := h
		if i >= 0 {
			g = h[:i]
		}
		switch {
		case i < 0 && strings.Contains(g, "."):
			if !validIPv4(g) {
				return false
			}
			groups += 2
		case len(g) < 1 || len(g) > 4 || strings.Trim(g, "0123456789abcdefABCDEF") != "":
			return false
		default:
			groups++
		}
		if i < 0 {
			break
		}
		h = h[i+1:]
		if strings.HasPrefix(h, ":") { // "::"
			if gap {
				return false
			}
			gap, h = true, h[1:]
			if h == "" {
				break
			}
		}
	}
	return groups == 8 && !gap || groups < 8 && gap
}

// validIPv4 accepts four decimal numbers from 0 to 255 without leading
// zeros, separated by '.'.
func validIPv4(h string) bool {
	parts := strings.Split(h, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 || p[0] == '+' || p[0] == '-' || len(p) > 1 && p[0] == '0' {
			return false
		}
	}
	return true
}
