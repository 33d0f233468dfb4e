package ipcortex

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/backendtest"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

const host = "https://pbx.example"

// maxMessage bounds an error's message, whatever the reply: the host and at
// most 200 bytes of the PBX's text, which may be quoted (4 bytes a byte).
const maxMessage = 1200

// FuzzReply checks what the backend makes of any reply to each of its calls.
// A success is a 2xx whose body decodes (wire.DecodeResponse, fuzzed in
// its own right) with "result":"success", and gives the reply's user (for a
// login, with a session that can go back in a header) and token; every
// failure is an *Error: the PBX's own auth_failed, login_required,
// forbidden or rate_limited, else CodeServer, with a message of bounded
// length.
func FuzzReply(f *testing.F) {
	user := `"user":{"id":1,"login":"alice","name":"Alice","company":"acme","home":"acme","session":"s3ss","perms":{"chat":"yes"}}`
	for _, s := range []string{
		`{"result":"success",` + user + `,"token":{"value":"t0k","expires":1767225600000}}`,
		`{"result":"success",` + user + `,"password":"p4ss"}`, `{"result":"success"}`, `{"result":"success","user":null}`,
		`{"result":"success","user":{"session":"a b"}}`, `{"result":"success","user":{"session":"a\r\nX-Evil: 1"}}`,
		`{"result":"success","user":{"session":"é"}}`, `{"result":"success","user":{"session":""}}`,
		`{"result":"success","user":{},"token":{"value":"","expires":-9223372036854775808}}`,
		`{"result":"success","user":{},"token":{"value":"t","expires":9223372036854775807}}`,
		`{"result":"fail","error":{"code":"auth_failed","message":"wrong"}}`, `{"result":"fail"}`,
		`{"result":"fail","error":{"code":"login_required"}}`, `{"result":"fail","error":{"code":"forbidden"}}`,
		`{"result":"fail","error":{"code":"rate_limited","message":"wait 60 seconds"}}`,
		`{"result":"fail","error":{"code":"other","message":"` + strings.Repeat("m", 1000) + `"}}`,
		`{"result":"` + strings.Repeat("r", 1000) + `"}`, `{"result":"` + strings.Repeat("\\u00e9", 500) + `"}`,
		`{"result":"ok"}`, `{"result":"success","result":"fail"}`, `[]`, ``, `<html>`,
	} {
		for _, status := range []int{200, 401, 403, 429, 500} {
			f.Add(status, []byte(s))
		}
	}
	f.Add(302, []byte(`{"result":"success"}`))
	f.Add(200, []byte(`{"result":"success","x":"`+strings.Repeat("x", wire.MaxBody)+`"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tr := &backendtest.Transport{Reply: backendtest.Reply{Status: status, Body: body}}
		at := backend.Target{Host: host, Transport: tr, Timeout: time.Minute}
		b := New()
		ctx := context.Background()
		ok := status >= 200 && status < 300
		var resp *wire.Response
		if len(body) <= wire.MaxBody {
			resp, _ = wire.DecodeResponse(body)
		}
		success := ok && resp != nil && resp.Result == wire.ResultSuccess

		l, err := b.Login(ctx, at, backend.LoginRequest{Username: "alice", Password: "wonderland"})
		if err == nil {
			require.True(t, success && resp.User != nil, "a login succeeded on HTTP %d %q", status, body)
			assert.Equal(t, resp.User.Session, l.Session)
			assert.True(t, l.Session == "" || backendtest.HeaderSafe(l.Session), "session %q cannot go in a header", l.Session)
			assert.Equal(t, resp.User.Login, l.User.Login)
			if resp.Token != nil && resp.Token.Value != "" {
				require.NotNil(t, l.Token)
				assert.Equal(t, resp.Token.Value, l.Token.Value)
				assert.Equal(t, resp.Token.Expires, l.Token.Expires.UnixMilli())
			} else {
				assert.Nil(t, l.Token)
			}
		} else {
			checkError(t, err, resp, status)
		}

		u, err := b.Check(ctx, at)
		if err == nil {
			require.True(t, success && resp.User != nil)
			assert.Equal(t, resp.User.ID, u.ID)
		} else {
			checkError(t, err, resp, status)
		}
		for _, call := range []func() error{
			func() error { return b.Logout(ctx, at, "t0k") },
			func() error { return b.Cleanup(ctx, at) },
			func() error { _, err := b.SetCompany(ctx, at, "acme"); return err },
			func() error { _, err := b.RTCReset(ctx, at, true); return err },
		} {
			if err := call(); err == nil {
				require.True(t, success)
			} else {
				checkError(t, err, resp, status)
			}
		}
		for _, req := range tr.Sent {
			var r wire.Request
			require.NoError(t, json.Unmarshal(req.Body, &r), "%s", req.Body)
		}
	})
}

// checkError checks a failure: the PBX's own code when it sent one it
// documents (rate_limited also for HTTP 429), else CodeServer, with a
// short message.
func checkError(t *testing.T, err error, resp *wire.Response, status int) {
	t.Helper()
	e := backendtest.CheckError(t, err, "", maxMessage)
	switch e.Code {
	case backend.CodeServer:
	case backend.CodeAuthFailed:
		require.NotNil(t, resp)
		assert.Equal(t, wire.ResultFail, resp.Result)
	case backend.CodeLoginRequired, backend.CodeForbidden:
		require.NotNil(t, resp)
		assert.Equal(t, wire.ResultFail, resp.Result)
		require.NotNil(t, resp.Error)
		assert.Equal(t, string(e.Code), resp.Error.Code)
	case backend.CodeRateLimited:
		assert.True(t, status == 429 || resp != nil && resp.Error != nil && resp.Error.Code == wire.CodeRateLimited, "%v", err)
	default:
		t.Fatalf("code %q: %v", e.Code, err)
	}
}
