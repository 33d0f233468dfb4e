package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
	"github.com/pbxauth/pbxauth/core/endpoint"
	"github.com/pbxauth/pbxauth/core/feed"
)

// refusing is a Transport that records every request and refuses it as
// each system refuses a login (401).
type refusing struct {
	mu   sync.Mutex
	sent []*backend.Request
}

func (r *refusing) Do(_ context.Context, req *backend.Request) (*backend.Response, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, req)
	return &backend.Response{Status: 401, Body: []byte(`{"result":"fail","error":{"code":"auth_failed","message":"no"}}`)}, nil
}

func (r *refusing) requests() []*backend.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*backend.Request(nil), r.sent...)
}

// maxMessage bounds the message of an error about an option, whatever the
// option: the error quotes at most 200 bytes of it.
const maxMessage = 1200

var backendNames = []string{"", ipcortex.Name, vodia.Name, ping.Name}

// FuzzOptions checks setHost's host and backend, login's options and
// startFeed's options as pages pass them (jsbridge decodes the JavaScript
// values into these, natively untestable). A refused option is an *Error
// with CodeBadOption, a short message, and nothing sent; an accepted one
// obeys every documented limit (lengths, counts, classes, a canonical
// origin, a sub-ID, UTF-8 text, tokens that can go in a header) and
// reaches the PBX unchanged: in the IPCortex JSON body as encoding/json
// reads it, in Ping's Basic header. startFeed's accepted options give an
// auth message whose pingtime the server accepts.
func FuzzOptions(f *testing.F) {
	f.Add("https://pbx.example", byte(0), false, false, false, "alice", "wonderland", "", "", "", "", "acme", int64(0), int64(-1))
	f.Add("http://127.0.0.1:8080", byte(1), false, true, true, "", "", "tab-1", "longLogin", "https://app.example", "t1\nt2", "", int64(540e9), int64(0))
	f.Add("pbx", byte(3), false, false, false, "4:1", "pw", "", "", "", "", " ", int64(10e9-1), int64(-2))
	f.Add("pbx", byte(2), false, false, false, "", "", "", "", "", "jwt\r\nX-Evil: 1", "\xff", int64(999e9+1), int64(1<<62))
	f.Add("ftp://x", byte(7), true, false, false, "a", "", "a b", "Refreshable", "https://APP.example/", "\n\n", strings.Repeat("c", 257), int64(-1), int64(0))
	f.Add("https://[::1]:8443", byte(0), false, false, false, "\xc0\xaf", "\xed\xa0\x80", strings.Repeat("s", 65), "", "http://app.example:80", strings.Repeat("t\n", 17), "\x00", int64(10e9), int64(1))
	f.Add("https://[:::]", byte(0), false, false, false, "é😀\u2028", "   ", "", "", "https://app.example:*", " t ", "acme\n", int64(1e9), int64(0))
	f.Add("wss://pbx", byte(0), false, false, false, strings.Repeat("u", 257), strings.Repeat("p", 1025), "", "", "javascript:x", strings.Repeat("t", 513), "a", int64(0), int64(0))
	f.Add("pbx", byte(0), false, false, false, "\xc0\xaf", "\xed\xa0\x80", "", "", "", "", "a\xffb", int64(0), int64(0))
	f.Add("pbx", byte(0), false, false, false, "", "", "", "", "", "t\xff", "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, host string, backendIndex byte, checkOnly, noToken, headless bool, user, pass, subID, app, origin, tokenList, company string, pingTime, maxRetry int64) {
		name := host // an unknown backend, when the index is out of range
		if int(backendIndex) < len(backendNames) {
			name = backendNames[backendIndex]
		}
		tr := &refusing{}
		c, err := auth.New(auth.Config{Transport: tr, Timeout: time.Minute,
			Backends: []backend.Backend{ipcortex.New(), vodia.New(), ping.New()},
			Random:   func(b []byte) error { copy(b, strings.Repeat("r", len(b))); return nil }})
		require.NoError(t, err)
		defer c.Close()
		ctx := context.Background()

		// setHost.
		hostErr := c.SetHostFor(host, name)
		if hostErr != nil {
			badOption(t, hostErr)
			assert.Equal(t, "", c.Host(), "a refused host was set")
		} else {
			e, err := endpoint.ParseAPI(host)
			require.NoError(t, err)
			assert.Equal(t, e.String(), c.Host())
			assert.Contains(t, backendNames, name)
			assert.Equal(t, map[string]string{"": ipcortex.Name}[name]+name, c.Backend())
		}

		// login.
		var tokens []string
		if tokenList != "" {
			tokens = strings.Split(tokenList, "\n")
		}
		o := auth.Options{CheckOnly: checkOnly, Username: user, Password: pass, NoToken: noToken, Headless: headless || checkOnly,
			SubID: subID, Application: app, Tokens: tokens, Origin: origin}
		valid := o.Validate()
		if checkOnly {
			require.NoError(t, valid)
		}
		if valid != nil {
			badOption(t, valid)
		} else if !checkOnly {
			checkLimits(t, o)
		}
		loginErr := c.Login(ctx, o)
		sent := tr.requests()
		switch {
		case valid != nil:
			assert.Equal(t, valid, loginErr)
			assert.Empty(t, sent, "a refused login sent a request")
		case hostErr != nil:
			badOption(t, loginErr)
			assert.Empty(t, sent)
		default:
			if auth.CodeOf(loginErr) == auth.CodeBadOption {
				assert.Empty(t, sent, "%v", loginErr)
			} else {
				assert.Contains(t, []auth.Code{auth.CodeAuthFailed, auth.CodeLoginRequired}, auth.CodeOf(loginErr), "%v", loginErr)
			}
			if user != "" && !checkOnly && len(sent) > 0 {
				carriesCredentials(t, c.Backend(), sent[0], o)
			}
		}

		// setCompany: refused at once, or sent as given.
		if err := c.SetCompany(ctx, company); err != nil && auth.CodeOf(err) == auth.CodeBadOption {
			badOption(t, err)
		} else if hostErr == nil && c.Backend() == ipcortex.Name {
			sent := tr.requests()
			require.NotEmpty(t, sent)
			last := sent[len(sent)-1]
			path, _, _ := strings.Cut(strings.TrimPrefix(last.URL, c.Host()), "?")
			require.Equal(t, wire.PathCompany, path, "%s", last.URL)
			var r wire.Request
			require.NoError(t, json.Unmarshal(last.Body, &r))
			assert.Equal(t, company, r.Auth.Company)
			assert.True(t, utf8.ValidString(company) && strings.TrimSpace(company) != "" && len(company) <= auth.MaxCompanyLen, "%q", company)
		}

		// startFeed's options.
		fo := feed.Options{PingTime: time.Duration(pingTime), MaxRetry: time.Duration(maxRetry)}
		if err := fo.Validate(); err == nil {
			every := fo.PingTime
			if every == 0 {
				every = feed.DefaultPingTime
			}
			var m struct {
				Type     string `json:"type"`
				PingTime *int   `json:"pingtime"`
			}
			require.NoError(t, json.Unmarshal(wire.EncodeFeedAuth("s", int(every.Seconds())), &m))
			require.NotNil(t, m.PingTime)
			assert.True(t, *m.PingTime >= wire.FeedPingTimeMin && *m.PingTime <= wire.FeedPingTimeMax, "pingtime %d from %v", *m.PingTime, fo.PingTime)
			assert.True(t, fo.MaxRetry >= 0 || fo.MaxRetry == feed.RetryForever, "%v", fo.MaxRetry)
		} else {
			assert.True(t, fo.PingTime != 0 && (fo.PingTime < feed.MinPingTime || fo.PingTime > feed.MaxPingTime) ||
				fo.MaxRetry < 0 && fo.MaxRetry != feed.RetryForever, "%v refused: %v", fo, err)
		}
	})
}

func badOption(t *testing.T, err error) {
	t.Helper()
	var e *auth.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, auth.CodeBadOption, e.Code, "%v", err)
	assert.LessOrEqual(t, len(err.Error()), maxMessage, "%v", err)
}

// checkLimits checks what Validate promises of accepted options.
func checkLimits(t *testing.T, o auth.Options) {
	t.Helper()
	assert.Equal(t, o.Username == "", o.Password == "", "both or neither")
	assert.LessOrEqual(t, len(o.Username), auth.MaxUsernameLen)
	assert.LessOrEqual(t, len(o.Password), auth.MaxPasswordLen)
	assert.True(t, utf8.ValidString(o.Username) && utf8.ValidString(o.Password), "%q %q are not UTF-8", o.Username, o.Password)
	assert.True(t, o.SubID == "" || wire.ValidSubID(o.SubID), "%q", o.SubID)
	assert.Contains(t, []string{"", wire.TokenRefreshable, wire.TokenLongLogin}, o.Application)
	if o.Origin != "" {
		e, err := endpoint.ParseAPI(o.Origin)
		require.NoError(t, err)
		assert.Equal(t, o.Origin, e.String())
		assert.True(t, strings.HasPrefix(o.Origin, "http://") || strings.HasPrefix(o.Origin, "https://"), "%q", o.Origin)
	}
	assert.LessOrEqual(t, len(o.Tokens), auth.MaxTokens)
	for _, tok := range o.Tokens {
		assert.True(t, len(tok) <= auth.MaxTokenLen && backend.ValidSession(tok), "token %q cannot go in a header", tok)
	}
}

// carriesCredentials checks that the login's first request carries the
// username and password as given.
func carriesCredentials(t *testing.T, system string, req *backend.Request, o auth.Options) {
	t.Helper()
	switch system {
	case ipcortex.Name:
		var r wire.Request
		require.NoError(t, json.Unmarshal(req.Body, &r))
		assert.Equal(t, wire.Auth{Type: wire.TypeAuth, Username: o.Username, Password: o.Password, NoToken: o.NoToken,
			Application: o.Application, Origin: o.Origin}, r.Auth)
	case ping.Name:
		enc, ok := strings.CutPrefix(req.Authorization, "Basic ")
		require.True(t, ok, "%v", req.Authorization)
		dec, err := base64.StdEncoding.DecodeString(enc)
		require.NoError(t, err)
		u, p, _ := strings.Cut(string(dec), ":")
		assert.Equal(t, o.Username, u)
		assert.Equal(t, o.Password, p)
	}
}
