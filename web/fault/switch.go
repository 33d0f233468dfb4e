package fault

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/pbxauth/pbxauth/web/internal/jsonreply"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// switchBody is the body of POST Path.
type switchBody struct {
	Mode string `json:"mode"`
}

// switchReply is the answer of Path.
type switchReply struct {
	Mode    string `json:"mode"`
	Faulted int64  `json:"faulted"`
}

// maxSwitchBody bounds POST Path's body.
const maxSwitchBody = 1 << 10

func (in *Injector) serveSwitch(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		switchError(w, http.StatusForbidden, "the fault switch answers only on a loopback host name (localhost, 127.0.0.1, [::1]), not "+strconv.Quote(r.Host))
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != ownOrigin(r) {
		switchError(w, http.StatusForbidden, "the fault switch does not answer pages of another origin ("+o+"); switch it from the test, not from the page")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			switchError(w, http.StatusUnsupportedMediaType, "send the body as Content-Type: application/json")
			return
		}
		var body switchBody
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSwitchBody))
		dec.DisallowUnknownFields()
		err := dec.Decode(&body)
		if err == nil {
			if _, more := dec.Token(); !errors.Is(more, io.EOF) {
				err = errors.New("send one JSON object; there is more after it")
			}
		}
		var m Mode
		if err == nil {
			m, err = ParseMode(body.Mode)
		}
		if err != nil {
			switchError(w, http.StatusBadRequest, `the body must be {"mode": "500"} (off, latency=2s, 500, reset, truncate, notjson, oversized or dropfeed): `+err.Error())
			return
		}
		in.Set(m)
	default:
		w.Header().Set("Allow", "GET, POST")
		switchError(w, http.StatusMethodNotAllowed, "use POST to switch the fault, GET to read it; not "+r.Method)
		return
	}
	jsonreply.Write(w, http.StatusOK, switchReply{Mode: in.Mode().String(), Faulted: in.Faulted()})
}

// loopbackHost reports whether a Host header names this machine's loopback.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ownOrigin is the origin the request was sent to.
func ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

func switchError(w http.ResponseWriter, status int, message string) {
	jsonreply.Write(w, status, &wire.Response{Result: wire.ResultFail, Error: &wire.Error{Code: failCode(status), Message: message}})
}

func failCode(status int) string {
	switch status {
	case http.StatusForbidden:
		return wire.CodeForbidden
	case http.StatusUnsupportedMediaType:
		return wire.CodeUnsupportedMedia
	case http.StatusMethodNotAllowed:
		return wire.CodeMethodNotAllowed
	}
	return wire.CodeBadRequest
}
