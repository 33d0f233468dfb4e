package pbx

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

func TestLogHasNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	const sub = "secret-sub-id"
	login := e.login("alice", "wonderland", sub)
	require.Equal(t, http.StatusOK, login.status)
	e.do(checkReq(sub))
	e.do(req{path: wire.PathRTCReset, query: "subid=" + sub, body: `{"auth":{"type":"rtcreset","getnew":true}}`})
	e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth"}}`,
		header: map[string]string{"Authorization": "token auth=demo-key-alice-6f1c2a9e"}})
	e.do(req{path: wire.PathLogin, body: `{"auth":{"type":"auth","key":"demo-key-alice-6f1c2a9e"}}`})
	e.do(loginReq("alice", "wrong-password", ""))

	logged := e.log.String()
	lines := strings.Split(strings.TrimSpace(logged), "\n")
	require.Len(t, lines, 7)
	// The failed login is logged with its user name, never its password.
	assert.Equal(t, `login as "alice" from 127.0.0.1 failed (1 in a row)`, lines[5])
	lines = append(lines[:5], lines[6:]...)
	line := regexp.MustCompile(`^(POST|GET) /\S* \d{3} \d\S*s$`)
	for _, l := range lines {
		assert.Regexp(t, line, l)
	}
	assert.Regexp(t, `^POST /rest/auth/ 200 `, lines[0])
	assert.Regexp(t, `^POST /rest/auth/ 401 `, lines[5])
	for _, secret := range []string{"wonderland", "wrong-password", "demo-key-alice", login.body.User.Session, sub, "subid"} {
		assert.NotContains(t, logged, secret)
	}
}

func TestLogEscapesPath(t *testing.T) {
	e := newEnv(t, nil)
	e.do(req{method: http.MethodGet, path: "/a%0Afake%20line"})
	assert.Equal(t, "GET /a%0Afake%20line 404", strings.Join(strings.Fields(e.log.String())[:3], " "))
}

func TestPanic(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Static = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/late" {
				_, _ = w.Write([]byte("partial"))
			}
			panic("the static handler is broken")
		})
	})
	r := e.do(req{method: http.MethodGet, path: "/boom"})
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, wire.ResultFail, r.body.Result)
	assert.Equal(t, wire.CodeInternal, r.code())
	assert.NotContains(t, string(r.raw), "broken", "the panic stays in the log")
	assert.Contains(t, e.log.String(), "the static handler is broken")
	assert.Contains(t, e.log.String(), "GET /boom 500 ")

	// A panic after the reply began cuts the connection.
	resp, err := e.client.Get(e.srv.URL + "/late")
	if err == nil {
		_, err = readAll(resp)
	}
	assert.Error(t, err, "a cut reply must not look whole")

	assert.Equal(t, http.StatusOK, e.login("alice", "wonderland", "").status, "the server keeps serving")
}
