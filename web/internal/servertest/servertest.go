// Package servertest holds what the tests of the local server's handlers share.
//
// That is a log buffer the server's goroutines may write to, the demo users
// with cheap password hashes, the fake clock's start, a browser-like client,
// requests whose replies are read whole, and the live feed's URL and close
// code. It is for tests only.
package servertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/testclock"
	"github.com/pbxauth/pbxauth/web/users"
)

var lowerHashCost sync.Once

// LowerHashCost sets users.HashCost to bcrypt.MinCost for the whole test
// binary, once: bcrypt at the real cost takes some 50 ms a password, far
// more under -race. Call it in TestMain before m.Run, since users.Load
// reads the variable without a lock.
func LowerHashCost() {
	lowerHashCost.Do(func() { users.HashCost = bcrypt.MinCost })
}

var demo = sync.OnceValue(func() *users.Directory { return users.NewDirectory(users.Demo()) })

// DemoUsers returns the directory of the demo users, loaded (and their
// passwords hashed, at the lowered cost) once per test binary; it is
// read-only, so servers share it.
func DemoUsers() *users.Directory {
	LowerHashCost()
	return demo()
}

// Start is when the tests' fake clocks start.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// NewClock returns a fake clock at Start, which the test moves by hand.
func NewClock() *testclock.Manual { return testclock.NewManual(Start) }

// Timeout bounds every request of the tests' clients: only a hang meets it.
const Timeout = 10 * time.Second

// Client returns a copy of base (nil: a new client) with a cookie jar of
// its own, as one browser, and Timeout unless base has a timeout.
func Client(t testing.TB, base *http.Client) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.Jar = jar
	if c.Timeout == 0 {
		c.Timeout = Timeout
	}
	return c
}

// Plain is a client without cookies, as an integrator's server or a page of
// another site.
var Plain = &http.Client{Timeout: Timeout}

// LogBuffer collects what a logger writes, from any goroutine, for the test
// to read.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a logger, without prefix or flags, that writes to b.
func (b *LogBuffer) Logger() *log.Logger { return log.New(b, "", 0) }

// Reply is a reply, its body read whole.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Text is the body as a string.
func (r Reply) Text() string { return string(r.Body) }

// ErrorText is the message of a failure {"error": message}, as the Vodia
// and Ping paths answer.
func (r Reply) ErrorText(t testing.TB) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &e), "body %s", r.Body)
	return e.Error
}

// JSON decodes the body generically, to see exactly which keys it has.
func (r Reply) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %s", r.Body)
	return m
}

// Do sends a request with c and returns the reply. headers are name, value
// pairs: a pair whose value is "" is not sent, a name may come twice, and
// "Host" sets the request's host.
func Do(t testing.TB, c *http.Client, method, url, body string, headers ...string) Reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		switch name, value := headers[i], headers[i+1]; {
		case value == "":
		case http.CanonicalHeaderKey(name) == "Host":
			req.Host = value
		default:
			req.Header.Add(name, value)
		}
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Basic is the Authorization header of HTTP Basic authentication.
func Basic(login, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password))
}

// PostJSON posts body as application/json with c (nil: Plain), with
// headers as Do takes them.
func PostJSON(t testing.TB, c *http.Client, url, body string, headers ...string) Reply {
	t.Helper()
	if c == nil {
		c = Plain
	}
	return Do(t, c, http.MethodPost, url, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

// FeedURL is the live feed's ws:// URL on base (an http:// URL), with query
// ("" for none).
func FeedURL(base, query string) string {
	u := "ws" + strings.TrimPrefix(base, "http") + wire.FeedPath
	if query != "" {
		u += "?" + query
	}
	return u
}

// CloseCode waits, at most wait, for the server to close c and returns the
// close code, as CloseReason does.
func CloseCode(t testing.TB, c *websocket.Conn, wait time.Duration) websocket.StatusCode {
	t.Helper()
	code, _ := CloseReason(t, c, wait)
	return code
}

// CloseReason waits, at most wait, for the server to close c and returns
// the close code and reason; a message before the close, or an end without
// a close frame (-1), fails the test. It may run in a goroutine of its own.
func CloseReason(t testing.TB, c *websocket.Conn, wait time.Duration) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, data, err := c.Read(ctx)
	if !assert.Error(t, err, "a message instead of a close: %s", data) {
		return -1, ""
	}
	var ce websocket.CloseError
	if !assert.ErrorAs(t, err, &ce) {
		return -1, ""
	}
	return ce.Code, ce.Reason
}
