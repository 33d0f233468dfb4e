package ping

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

// replies is a Transport that answers the login path with one reply and
// every other path with another, and records the requests.
type replies struct {
	loginStatus, meStatus int
	loginBody, meBody     []byte
	sent                  []*backend.Request
}

func (r *replies) Do(_ context.Context, req *backend.Request) (*backend.Response, error) {
	r.sent = append(r.sent, req)
	if strings.HasSuffix(req.URL, PathLogin) {
		return &backend.Response{Status: r.loginStatus, Body: r.loginBody}, nil
	}
	return &backend.Response{Status: r.meStatus, Body: r.meBody}, nil
}

const host = "https://ping.example"

// maxMessage bounds an error's message, whatever the replies.
const maxMessage = 400

// FuzzReplies checks what the backend makes of any replies to a login
// (Basic credentials, or a JWT) and to the check of /api/extensions/me. A
// success takes 2xx replies that encoding/json reads the same: the login's
// "session" (one that can go back in a header), the extension's
// "extension", "name" and "domain". Every failure is an *Error of the
// documented codes with a short message. The Basic header carries the
// username and password as given; a username that Basic cannot carry (one
// with ':') and a token that cannot go in a header are refused with
// CodeBadOption before anything is sent.
func FuzzReplies(f *testing.F) {
	me := `{"extension":"41","name":"Bob Builder","domain":"default","x":[1,{"y":null}]}`
	for _, s := range []string{
		`{"session":"abc123"}`, `{"session":""}`, `{"session":null}`, `{"session":1}`, `{"session":"a","session":"b"}`,
		`{"SESSION":"a"}`, `{"session":"a b"}`, `{"session":"a\r\nX-Evil: 1"}`, `{"session":"a\u0000"}`, `{"session":"é"}`,
		`{"session":"` + "\xff" + `"}`, `{"session":"\ud800"}`, `{"session":"` + strings.Repeat("s", 2000) + `"}`,
		`[]`, ``, `{"session":"a"} x`, `{"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	} {
		f.Add("41", "builder", "", 200, []byte(s), 200, []byte(me))
	}
	for _, s := range []string{
		`{"extension":""}`, `{"extension":null}`, `{"extension":41}`, `{"Extension":"41"}`, `{"extension":"41","extension":"42"}`,
		`{"extension":"99999999999999999999"}`, `{"extension":"-1","name":"\u0000","domain":"` + "\xff" + `"}`, `{"extension":"4\ud83d\ude00"}`,
	} {
		f.Add("", "", "eyJ.jwt.sig", 200, []byte(`{}`), 200, []byte(s))
	}
	f.Add("4:1", "pw", "", 200, []byte(`{"session":"abc"}`), 200, []byte(me))
	f.Add("41", "pw:with:colons", "", 200, []byte(`{"session":"abc"}`), 200, []byte(me))
	f.Add("é\x00", "\xff", "", 200, []byte(`{"session":"abc"}`), 200, []byte(me))
	f.Add("", "", "jwt\r\nX-Evil: 1", 200, []byte(`{}`), 200, []byte(me))
	f.Add("", "", "j w t", 200, []byte(`{}`), 200, []byte(me))
	f.Add("41", "builder", "", 401, []byte(`{"error":"no"}`), 200, []byte(me))
	f.Add("", "", "jwt", 200, []byte(`{}`), 401, []byte(`{"error":"expired"}`))
	f.Add("", "", "jwt", 200, []byte(`{}`), 403, []byte(``))
	f.Add("41", "builder", "", 500, []byte(``), 503, []byte(``))
	f.Fuzz(func(t *testing.T, user, pass, token string, loginStatus int, loginBody []byte, meStatus int, meBody []byte) {
		tr := &replies{loginStatus: loginStatus, loginBody: loginBody, meStatus: meStatus, meBody: meBody}
		at := backend.Target{Host: host, Transport: tr, Timeout: time.Minute}
		b := New()
		l, err := b.Login(context.Background(), at, backend.LoginRequest{Username: user, Password: pass, Token: token})

		basic := token == ""
		if basic && strings.Contains(user, ":") || !basic && !validSession(token) {
			require.Equal(t, backend.CodeBadOption, backend.CodeOf(err), "%v", err)
			require.Empty(t, tr.sent)
			return
		}
		require.NotEmpty(t, tr.sent)
		first := tr.sent[0]
		if basic {
			assert.Equal(t, PathLogin, strings.TrimPrefix(first.URL, host))
			enc, ok := strings.CutPrefix(first.Header["Authorization"], "Basic ")
			require.True(t, ok)
			dec, err := base64.StdEncoding.DecodeString(enc)
			require.NoError(t, err)
			u, p, _ := strings.Cut(string(dec), ":") // as the server reads it
			assert.Equal(t, user, u)
			assert.Equal(t, pass, p)
		} else {
			assert.Equal(t, "Bearer "+token, first.Header["Authorization"])
		}

		session, loginOK := loginOracle(loginBody)
		loginOK = loginOK && loginStatus >= 200 && loginStatus < 300
		ext, meOK := meOracle(meBody)
		meOK = meOK && meStatus >= 200 && meStatus < 300
		if err == nil {
			require.True(t, meOK, "a login succeeded on HTTP %d %q", meStatus, meBody)
			assert.Equal(t, ext.user(), l.User)
			assert.Nil(t, l.Token)
			if basic {
				require.True(t, loginOK, "a login succeeded on HTTP %d %q", loginStatus, loginBody)
				assert.Equal(t, "session "+session, l.Session)
				assert.True(t, validSession(session), "session %q cannot go in a header", session)
				assert.Equal(t, "session "+session, tr.sent[1].Header["Authorization"])
			} else {
				assert.Equal(t, "bearer "+token, l.Session)
			}
			return
		}
		var e *backend.Error
		require.ErrorAs(t, err, &e)
		assert.Contains(t, []backend.Code{backend.CodeAuthFailed, backend.CodeForbidden, backend.CodeRateLimited, backend.CodeServer}, e.Code, "%v", err)
		assert.Contains(t, e.Message, host)
		assert.LessOrEqual(t, len(err.Error()), maxMessage, "%v", err)
		if basic && loginStatus >= 200 && loginStatus < 300 && !json.Valid(loginBody) {
			assert.Equal(t, backend.CodeServer, e.Code)
			assert.ErrorIs(t, err, jsontext.ErrSyntax)
		}
	})
}

// loginOracle reads a login reply with encoding/json: an object whose
// "session" is a non-empty string.
func loginOracle(body []byte) (string, bool) {
	if len(body) > backend.MaxBody {
		return "", false
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return "", false
	}
	s, ok := m["session"].(string)
	return s, ok && s != ""
}

type extension struct{ ext, name, domain string }

func (x extension) user() *backend.User {
	id, _ := strconv.ParseInt(x.ext, 10, 64)
	return &backend.User{ID: id, Login: x.ext, Name: x.name, Company: x.domain, Home: x.domain, Perms: map[string]string{}}
}

// meOracle reads an extension reply with encoding/json: an object whose
// "extension" is a non-empty string and whose "name" and "domain" are
// strings or null.
func meOracle(body []byte) (extension, bool) {
	var x extension
	if len(body) > backend.MaxBody {
		return x, false
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return x, false
	}
	for key, dst := range map[string]*string{"extension": &x.ext, "name": &x.name, "domain": &x.domain} {
		switch v := m[key].(type) {
		case string:
			*dst = v
		case nil:
		default:
			return x, false
		}
	}
	return x, x.ext != ""
}

// validSession: 1 to 1024 bytes of visible ASCII, so that it can go in the
// Authorization header as it is.
func validSession(s string) bool {
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
