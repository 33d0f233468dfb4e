package fault

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
)

// notJSONPage is what a web server that is not the PBX answers.
const notJSONPage = "<!doctype html>\n<html><head><title>Welcome</title></head><body><h1>It works!</h1></body></html>\n"

// truncatedReply is a success as the PBX sends it; Truncate sends half.
const truncatedReply = `{"result":"success","user":{"id":101,"login":"alice","name":"Alice Example","company":"default","home":"default","perms":{"admin":"company"}}}`

// oversized is a well-formed JSON success of OversizedBytes.
func oversized() []byte {
	head, tail := `{"result":"success","user":{"id":101,"login":"alice"},"padding":"`, `"}`
	b := make([]byte, 0, OversizedBytes)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte("x"), OversizedBytes-len(head)-len(tail))...)
	return append(b, tail...)
}

// reply writes a faulted reply with the CORS headers the PBX gives r's
// page. A declared length over len(body) cuts the connection after body.
func (in *Injector) reply(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte, declared int) {
	h := w.Header()
	in.corsHeaders(h, r)
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if declared > len(body) {
		h.Set("Content-Length", strconv.Itoa(declared))
	} else {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	if declared > len(body) {
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // net/http closes the connection, silently, mid-body
	}
}

// corsHeaders copies into h the CORS headers that the PBX gives a
// preflight of r, made from r's page: none for a request from no page or
// from a page the PBX does not trust, which then cannot read the reply, as
// it could not read the PBX's own.
func (in *Injector) corsHeaders(h http.Header, r *http.Request) {
	if r.Header.Get("Origin") == "" {
		return
	}
	probe, err := http.NewRequestWithContext(r.Context(), http.MethodOptions, r.URL.String(), http.NoBody)
	if err != nil {
		return
	}
	probe.Host, probe.RemoteAddr, probe.TLS, probe.RequestURI = r.Host, r.RemoteAddr, r.TLS, r.RequestURI
	probe.Header.Set("Origin", r.Header.Get("Origin"))
	probe.Header.Set("Access-Control-Request-Method", r.Method)
	probe.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
	rec := &headerRecorder{h: http.Header{}}
	in.next.ServeHTTP(rec, probe)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"} {
		if v := rec.h.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
}

// headerRecorder keeps a reply's headers and drops its body.
type headerRecorder struct{ h http.Header }

func (rec *headerRecorder) Header() http.Header         { return rec.h }
func (rec *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (rec *headerRecorder) WriteHeader(int)             {}

// isPreflight reports whether r is a CORS preflight.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// resetConn ends the request's connection with a TCP RST and no reply.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // not hijackable (HTTP/2): abort the stream instead
	}
	rst(conn)
}

// rst closes conn with a TCP RST where it can (SO_LINGER 0), else closes it.
func rst(conn net.Conn) {
	raw := conn
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
