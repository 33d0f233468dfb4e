package pbx

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

func TestRequestErrors(t *testing.T) {
	login := `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`
	huge := `{"auth":{"type":"auth","username":"` + strings.Repeat("a", wire.MaxBody) + `","password":"x"}}`
	tests := []struct {
		name    string
		req     req
		status  int
		code    string
		message string // a part of the error message, if it matters
	}{
		{"wrong password", loginReq("alice", "nope", ""), 401, wire.CodeAuthFailed, "wrong username or password"},
		{"unknown user", loginReq("mallory", "wonderland", ""), 401, wire.CodeAuthFailed, "wrong username or password"},
		{"blank password", loginReq("alice", "", ""), 400, wire.CodeBadRequest, "dummy password"},
		{"whitespace password", loginReq("alice", " \t ", ""), 400, wire.CodeBadRequest, "dummy password"},
		{"password without username", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","password":"x"}}`}, 400, wire.CodeBadRequest, ""},
		{"malformed JSON", req{path: wire.PathLogin, body: `{"auth":`}, 400, wire.CodeBadRequest, ""},
		{"not JSON", req{path: wire.PathLogin, body: `username=alice`}, 400, wire.CodeBadRequest, ""},
		{"empty body", req{path: wire.PathLogin}, 400, wire.CodeBadRequest, "empty"},
		{"JSON null", req{path: wire.PathLogin, body: `null`}, 400, wire.CodeBadRequest, ""},
		{"JSON array", req{path: wire.PathLogin, body: `[]`}, 400, wire.CodeBadRequest, "want an object, got a JSON array"},
		{"username a number", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":5,"password":"x"}}`},
			400, wire.CodeBadRequest, `field "auth.username": want a string, got a JSON number`},
		{"getnew a string", req{path: wire.PathRTCReset, body: `{"auth":{"type":"rtcreset","getnew":"yes"}}`},
			400, wire.CodeBadRequest, `field "auth.getnew": want true or false, got a JSON string`},
		{"auth a string", req{path: wire.PathLogin, body: `{"auth":"alice"}`}, 400, wire.CodeBadRequest, `field "auth": want an object, got a JSON string`},
		{"unknown field", req{path: wire.PathLogin, body: `{"auth":{"type":"auth","username":"alice","pasword":"x"}}`},
			400, wire.CodeBadRequest, `unknown field "pasword"`},
		{"unknown top-level field", req{path: wire.PathLogin, body: `{"auth":{"type":"auth"},"extra":1}`},
			400, wire.CodeBadRequest, `unknown field "extra"`},
		{"no type", req{path: wire.PathLogin, body: `{"auth":{"username":"alice","password":"wonderland"}}`}, 400, wire.CodeBadRequest, `"type": "auth"`},
		{"type of another path", req{path: wire.PathCleanup, body: `{"auth":{"type":"auth"}}`}, 400, wire.CodeBadRequest, `"type": "cleanup"`},
		{"two objects", req{path: wire.PathLogin, body: login + login}, 400, wire.CodeBadRequest, "more after it"},
		{"too large", req{path: wire.PathLogin, body: huge}, 413, wire.CodeTooLarge, ""},
		{"too large after the object", req{path: wire.PathLogin, body: login + strings.Repeat(" ", wire.MaxBody)}, 413, wire.CodeTooLarge, ""},
		{"text/plain", req{path: wire.PathLogin, contentType: "text/plain", body: login}, 415, wire.CodeUnsupportedMedia, "application/json"},
		{"form", req{path: wire.PathLogin, contentType: "application/x-www-form-urlencoded", body: login}, 415, wire.CodeUnsupportedMedia, ""},
		{"no content type", req{path: wire.PathLogin, contentType: "-", body: login}, 415, wire.CodeUnsupportedMedia, ""},
		{"bad content type", req{path: wire.PathLogin, contentType: "application/json; =", body: login}, 415, wire.CodeUnsupportedMedia, ""},
		{"GET", req{method: http.MethodGet, path: wire.PathLogin}, 405, wire.CodeMethodNotAllowed, "use POST"},
		{"PUT logout", req{method: http.MethodPut, path: wire.PathLogout, body: login}, 405, wire.CodeMethodNotAllowed, ""},
		{"OPTIONS without preflight", req{method: http.MethodOptions, path: wire.PathLogin}, 405, wire.CodeMethodNotAllowed, ""},
		{"bad sub-ID", loginReq("alice", "wonderland", "a.b"), 400, wire.CodeBadRequest, "sub-ID"},
		{"empty sub-ID", req{path: wire.PathLogin, query: "subid=", body: login}, 400, wire.CodeBadRequest, "sub-ID"},
		{"long sub-ID", loginReq("alice", "wonderland", strings.Repeat("x", wire.MaxSubIDLen+1)), 400, wire.CodeBadRequest, "sub-ID"},
		{"two sub-IDs", req{path: wire.PathLogin, query: "subid=a&subid=b", body: login}, 400, wire.CodeBadRequest, "sub-ID"},
		{"check without session", checkReq(""), 401, wire.CodeLoginRequired, ""},
		{"cleanup without session", req{path: wire.PathCleanup, body: `{"auth":{"type":"cleanup"}}`}, 401, wire.CodeLoginRequired, ""},
		{"unknown session cookie", req{path: wire.PathLogin, body: `{"auth":{"type":"auth"}}`,
			header: map[string]string{"Cookie": wire.CookieName + "=made-up"}}, 401, wire.CodeLoginRequired, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.do(tt.req)
			assert.Equal(t, tt.status, r.status, "body %s", r.raw)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, wire.ResultFail, r.body.Result)
			assert.Equal(t, tt.code, r.code())
			if tt.message != "" {
				assert.Contains(t, r.body.Error.Message, tt.message)
			}
			assert.Nil(t, r.body.User)
			assert.Empty(t, r.header.Values("Set-Cookie"))
			assert.Zero(t, e.sessions.Len())
		})
	}
}

func TestJSONWithCharset(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{path: wire.PathLogin, contentType: "application/json; charset=utf-8",
		body: `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`})
	assert.Equal(t, http.StatusOK, r.status, "body %s", r.raw)
}

func TestMethodNotAllowedSaysAllow(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{method: http.MethodGet, path: wire.PathCompany})
	assert.Equal(t, "POST, OPTIONS", r.header.Get("Allow"))
}

func TestStatic(t *testing.T) {
	e := newEnv(t, nil)
	r := e.do(req{method: http.MethodGet, path: "/"})
	assert.Equal(t, http.StatusNotFound, r.status, "no static handler: 404")

	e = newEnv(t, func(c *Config) {
		c.Static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("static " + r.URL.Path))
		})
	})
	for _, path := range []string{"/", "/api/api.js", "/restless"} {
		r = e.do(req{method: http.MethodGet, path: path})
		assert.Equal(t, http.StatusOK, r.status, path)
		assert.Equal(t, "static "+path, string(r.raw))
	}
	for _, path := range []string{"/rest/other", "/rest/auth/logout/more"} {
		r = e.do(req{method: http.MethodGet, path: path})
		assert.Equal(t, http.StatusNotFound, r.status, "unknown REST paths are not files: "+path)
	}
}
