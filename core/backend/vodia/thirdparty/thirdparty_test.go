//go:build !(js && wasm)

package thirdparty_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/backend/vodia/thirdparty"
	"github.com/pbxauth/pbxauth/web/pbxtest"
	"github.com/pbxauth/pbxauth/web/users"
)

func TestMain(m *testing.M) {
	users.HashCost = bcrypt.MinCost // bcrypt is slow under -race
	os.Exit(m.Run())
}

// client is the tests' client, with a deadline.
var client = &http.Client{Timeout: 10 * time.Second}

const (
	adminLogin    = "pbx-admin"
	adminPassword = "s3cret-admin-pw"
)

// syncBuffer collects the handler's log lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pbx starts the local PBX with the demo users and this admin.
func pbx(t *testing.T) *pbxtest.Server {
	t.Helper()
	return pbxtest.NewServer(t, pbxtest.WithVodiaAdmin(adminLogin, adminPassword))
}

// info is the PBX's answer to the exchange of a temporary id.
type info struct {
	Session  string `json:"session"`
	Type     string `json:"type"`
	Domain   string `json:"domain"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// handler returns a Handler for the PBX at url that grants g, and its log.
func handler(url string, g thirdparty.Grant) (*thirdparty.Handler, *syncBuffer) {
	logs := &syncBuffer{}
	return &thirdparty.Handler{
		PBX: url, Admin: adminLogin, Password: adminPassword,
		Allow:    func(*http.Request) (thirdparty.Grant, error) { return g, nil },
		ErrorLog: log.New(logs, "", 0),
	}, logs
}

// reply is what the browser got.
type reply struct {
	status int
	header http.Header
	body   string
}

// post sends the browser's POST to h.
func post(t *testing.T, h http.Handler) reply {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/thirdpartylogin", strings.NewReader(`{"account":"40","domain":"default"}`)))
	return reply{rec.Code, rec.Header(), rec.Body.String()}
}

// exchange turns the temporary id into a session on the PBX.
func exchange(t *testing.T, pbxURL, temp string) (int, info) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"name": "session", "value": temp})
	require.NoError(t, err)
	resp, err := client.Post(pbxURL+thirdparty.Path, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var info info
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	return resp.StatusCode, info
}

// assertNoCredentials checks that neither the reply nor the log shows the
// admin credentials, in clear or as Basic.
func assertNoCredentials(t *testing.T, r reply, logs *syncBuffer) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(adminLogin + ":" + adminPassword))
	for _, secret := range []string{adminLogin, adminPassword, basic} {
		assert.NotContains(t, r.body, secret)
		assert.NotContains(t, logs.String(), secret)
		for _, vs := range r.header {
			for _, v := range vs {
				assert.NotContains(t, v, secret)
			}
		}
	}
}

func TestGrants(t *testing.T) {
	srv := pbx(t)
	tests := []struct {
		name  string
		grant thirdparty.Grant
		want  info
	}{
		{"admin", thirdparty.Grant{Admin: true, Domain: "acme"},
			info{Type: "admin", Domain: "acme", Name: "Administrator"}},
		{"admin without a domain", thirdparty.Grant{Admin: true},
			info{Type: "admin", Name: "Administrator"}},
		{"domain", thirdparty.Grant{Domain: "default"},
			info{Type: "domain", Domain: "default", Name: "default"}},
		{"user", thirdparty.Grant{Domain: "acme", Username: "42"},
			info{Type: "user", Domain: "acme", Username: "42", Name: "Carol Acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := handler(srv.URL, tt.grant)
			r := post(t, h)
			require.Equal(t, http.StatusOK, r.status, r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			var temp string
			require.NoError(t, json.Unmarshal([]byte(r.body), &temp), "a JSON string, as the vendor's page JSON.parses it: %s", r.body)
			assert.NotEmpty(t, temp)
			assert.Empty(t, logs.String())
			assertNoCredentials(t, r, logs)

			status, info := exchange(t, srv.URL, temp)
			require.Equal(t, http.StatusOK, status)
			assert.NotEmpty(t, info.Session)
			info.Session = ""
			assert.Equal(t, tt.want, info)
		})
	}
}

func TestSessionForServers(t *testing.T) {
	srv := pbx(t)
	h, _ := handler(srv.URL+"/", thirdparty.Grant{}) // a trailing slash is fine
	temp, err := h.Session(t.Context(), thirdparty.Grant{Domain: "default", Username: "41"})
	require.NoError(t, err)
	status, info := exchange(t, srv.URL, temp)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Bob Builder", info.Name)
}

func TestHookRefuses(t *testing.T) {
	srv := pbx(t)
	asked := false
	h := &thirdparty.Handler{
		PBX: srv.URL, Admin: adminLogin, Password: adminPassword,
		Allow: func(*http.Request) (thirdparty.Grant, error) {
			return thirdparty.Grant{}, errors.New("log in to this site first")
		},
		Client: &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			asked = true
			return http.DefaultTransport.RoundTrip(r)
		})},
	}
	r := post(t, h)
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.JSONEq(t, `{"error":"log in to this site first"}`, r.body)
	assert.False(t, asked, "a refused caller costs the PBX nothing")

	h.Allow = nil
	r = post(t, h)
	assert.Equal(t, http.StatusForbidden, r.status, "without a hook nobody is let through")
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOnlyPost(t *testing.T) {
	h, _ := handler("http://127.0.0.1:1", thirdparty.Grant{Domain: "default"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/thirdpartylogin", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	assert.JSONEq(t, `{"error":"use POST, not GET"}`, rec.Body.String())
}

func TestWrongAdminCredentials(t *testing.T) {
	srv := pbx(t)
	h, logs := handler(srv.URL, thirdparty.Grant{Domain: "default"})
	h.Password = "not-" + adminPassword
	r := post(t, h)
	assert.Equal(t, http.StatusBadGateway, r.status)
	assert.JSONEq(t, `{"error":"the PBX refused the admin credentials"}`, r.body)
	assert.Contains(t, logs.String(), "refused the admin credentials (401)")
	assertNoCredentials(t, r, logs)
	assert.NotContains(t, r.body+logs.String(), h.Password)
	assert.NotContains(t, r.body+logs.String(), "wrong admin name or password", "the PBX's own words are not passed on")
}

func TestPBXRefusals(t *testing.T) {
	srv := pbx(t)
	tests := []struct {
		name  string
		grant thirdparty.Grant
		want  string
	}{
		{"unknown domain", thirdparty.Grant{Domain: "nowhere"}, "the PBX has no such domain or user"},
		{"unknown user", thirdparty.Grant{Domain: "default", Username: "42"}, "the PBX has no such domain or user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := handler(srv.URL, tt.grant)
			r := post(t, h)
			assert.Equal(t, http.StatusBadGateway, r.status)
			assert.JSONEq(t, `{"error":"`+tt.want+`"}`, r.body)
			assertNoCredentials(t, r, logs)
		})
	}
}

func TestPBXDown(t *testing.T) {
	srv := pbx(t)
	url := srv.URL
	srv.Close()
	h, logs := handler(url, thirdparty.Grant{Domain: "default"})
	r := post(t, h)
	assert.Equal(t, http.StatusBadGateway, r.status)
	assert.JSONEq(t, `{"error":"the PBX cannot be reached"}`, r.body)
	assert.Contains(t, logs.String(), "cannot be reached")
	assertNoCredentials(t, r, logs)
}

// TestPBXSlow: a PBX that does not answer within Timeout gets 504. The PBX
// here never answers until the test ends, so only the deadline can end the
// call.
func TestPBXSlow(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	h, logs := handler(slow.URL, thirdparty.Grant{Domain: "default"})
	h.Timeout = 50 * time.Millisecond
	r := post(t, h)
	assert.Equal(t, http.StatusGatewayTimeout, r.status)
	assert.JSONEq(t, `{"error":"the PBX did not answer in time"}`, r.body)
	assert.Contains(t, logs.String(), "did not answer within 50ms")
	assertNoCredentials(t, r, logs)
}

func TestPBXAnswersNonsense(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"not JSON", 200, `<html>hello</html>`, "the PBX's answer is not a session id"},
		{"an object", 200, `{"session":"x"}`, "the PBX's answer is not a session id"},
		{"an empty string", 200, `""`, "the PBX's answer is not a session id"},
		{"a string with a space", 200, `"a b"`, "the PBX's answer is not a session id"},
		{"a redirect", 302, ``, "the PBX answered status 302"},
		{"a fault that echoes the request", 500, `Authorization: Basic ` + base64.StdEncoding.EncodeToString([]byte(adminLogin+":"+adminPassword)), "the PBX answered status 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				if tt.status == 302 {
					w.Header().Set("Location", "http://elsewhere.example/steal")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			h, logs := handler(srv.URL, thirdparty.Grant{Domain: "default"})
			r := post(t, h)
			assert.Equal(t, http.StatusBadGateway, r.status)
			assert.JSONEq(t, `{"error":"`+tt.want+`"}`, r.body)
			assertNoCredentials(t, r, logs)
			require.NotNil(t, got)
			assert.Equal(t, thirdparty.Path, got.URL.Path)
		})
	}
}

// TestRequest: what the PBX receives, for each kind of grant.
func TestRequest(t *testing.T) {
	tests := []struct {
		grant thirdparty.Grant
		want  string
	}{
		{thirdparty.Grant{Admin: true, Domain: "d.example"}, `{"name":"3rd","admin":true,"domain":"d.example"}`},
		{thirdparty.Grant{Admin: true}, `{"name":"3rd","admin":true}`},
		{thirdparty.Grant{Domain: "d.example"}, `{"name":"3rd","domain":"d.example"}`},
		{thirdparty.Grant{Domain: "d.example", Username: "40"}, `{"name":"3rd","domain":"d.example","username":"40"}`},
	}
	for _, tt := range tests {
		var body []byte
		var header http.Header
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			header = r.Header
			body, _ = io.ReadAll(r.Body)
			_, _ = io.WriteString(w, `"temp-id"`)
		}))
		h, _ := handler(srv.URL, tt.grant)
		r := post(t, h)
		srv.Close()
		assert.Equal(t, http.StatusOK, r.status)
		assert.JSONEq(t, `"temp-id"`, r.body)
		assert.JSONEq(t, tt.want, string(body))
		assert.Equal(t, "application/json", header.Get("Content-Type"))
		login, password, ok := (&http.Request{Header: header}).BasicAuth()
		assert.True(t, ok)
		assert.Equal(t, adminLogin, login)
		assert.Equal(t, adminPassword, password)
	}
}

func TestMisconfigured(t *testing.T) {
	srv := pbx(t)
	tests := []struct {
		name   string
		change func(*thirdparty.Handler)
	}{
		{"no PBX", func(h *thirdparty.Handler) { h.PBX = "" }},
		{"PBX not a URL", func(h *thirdparty.Handler) { h.PBX = "pbx.example.com" }},
		{"PBX with credentials in the URL", func(h *thirdparty.Handler) { h.PBX = "http://u:p@pbx.example.com" }},
		{"no password", func(h *thirdparty.Handler) { h.Password = "" }},
		{"admin and user", func(h *thirdparty.Handler) {
			h.Allow = func(*http.Request) (thirdparty.Grant, error) {
				return thirdparty.Grant{Admin: true, Domain: "default", Username: "40"}, nil
			}
		}},
		{"no domain", func(h *thirdparty.Handler) {
			h.Allow = func(*http.Request) (thirdparty.Grant, error) { return thirdparty.Grant{Username: "40"}, nil }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := handler(srv.URL, thirdparty.Grant{Domain: "default"})
			tt.change(h)
			r := post(t, h)
			assert.Equal(t, http.StatusInternalServerError, r.status)
			assert.JSONEq(t, `{"error":"the third-party login is not set up right; the server's log says why"}`, r.body)
			assert.NotEmpty(t, logs.String())
			assertNoCredentials(t, r, logs)
		})
	}
}

// TestNotInTheBrowserBuild: the package builds for every target but
// js/wasm, so the browser module cannot link it.
func TestNotInTheBrowserBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.CommandContext(t.Context(), goTool, "list", "-deps", "./wasm")
	cmd.Dir = filepath.Join("..", "..", "..", "..")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "core/backend/vodia/thirdparty")

	cmd = exec.CommandContext(t.Context(), goTool, "list", "./core/backend/vodia/thirdparty")
	cmd.Dir = filepath.Join("..", "..", "..", "..")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err = cmd.CombinedOutput()
	assert.Error(t, err, "under js/wasm the package has no files: %s", out)
	assert.Contains(t, string(out), "build constraints exclude all Go files")
}
