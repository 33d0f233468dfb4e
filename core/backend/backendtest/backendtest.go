// Package backendtest holds what the phone systems' backend tests share.
//
// They share a Transport that answers with canned replies and records what
// it was sent, oracles that read replies with encoding/json, and the checks
// every failure must pass. It is for tests only; the browser build never
// links it.
package backendtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
)

// Reply is a canned reply: a status and a body.
type Reply struct {
	Status int
	Body   []byte
}

// Transport answers a request whose URL ends with a key of Paths with that
// key's reply, and any other with Reply; it records every request in Sent.
type Transport struct {
	Reply
	Paths map[string]Reply
	Sent  []*backend.Request
}

// Do answers req.
func (tr *Transport) Do(_ context.Context, req *backend.Request) (*backend.Response, error) {
	tr.Sent = append(tr.Sent, req)
	r := tr.Reply
	for suffix, pr := range tr.Paths {
		if strings.HasSuffix(req.URL, suffix) {
			r = pr
			break
		}
	}
	return &backend.Response{Status: r.Status, Body: r.Body}, nil
}

// Strings reads body with encoding/json, as the oracle of a backend's
// reader: it reports whether body is one JSON object of at most
// backend.MaxBody bytes whose keys in fields are each a string (copied to
// where fields points), null or absent.
func Strings(body []byte, fields map[string]*string) bool {
	if len(body) > backend.MaxBody {
		return false
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	for key, dst := range fields {
		switch v := m[key].(type) {
		case string:
			*dst = v
		case nil:
		default:
			return false
		}
	}
	return true
}

// HeaderSafe reports whether s can go back in an Authorization header as it
// is: 1 to 1024 bytes of visible ASCII. It is the tests' own statement of
// the rule backend.ValidSession implements.
func HeaderSafe(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CheckError checks what every failure of a backend must be: an
// *backend.Error, whose message names host unless host is "", and whose
// text is at most maxLen bytes whatever the PBX sent. It returns the error.
func CheckError(t testing.TB, err error, host string, maxLen int) *backend.Error {
	t.Helper()
	var e *backend.Error
	require.ErrorAs(t, err, &e)
	if host != "" {
		assert.Contains(t, e.Message, host)
	}
	assert.LessOrEqual(t, len(err.Error()), maxLen, "%v", err)
	return e
}
