package localca

import (
	"crypto/tls"
	"os"
	"strings"
)

// ServerConfig returns the TLS configuration that a server serves cert
// with: TLS 1.2 or later, and HTTP/2 and HTTP/1.1 offered to clients
// (ALPN), or only HTTP/1.1 when WebSocketsOverHTTP2.
func ServerConfig(cert tls.Certificate) *tls.Config {
	protos := []string{"h2", "http/1.1"}
	if WebSocketsOverHTTP2() {
		protos = []string{"http/1.1"}
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   protos,
	}
}

// WebSocketsOverHTTP2 reports whether net/http's HTTP/2 server in this
// process advertises extended CONNECT (RFC 8441, SETTINGS_ENABLE_CONNECT_PROTOCOL),
// which it does only when GODEBUG has http2xconnect=1 (Go 1.26 reads the
// environment for it, with this very test, once at start). Browsers then
// open their WebSockets over HTTP/2, which github.com/coder/websocket, the
// live feed's server, does not accept: a server here must then not offer
// HTTP/2, so that the feed still opens, over HTTP/1.1.
func WebSocketsOverHTTP2() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")
}
