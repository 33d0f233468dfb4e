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
	"github.com/pbxauth/pbxauth/core/backend/backendtest"
	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

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
		tr := &backendtest.Transport{Reply: backendtest.Reply{Status: meStatus, Body: meBody},
			Paths: map[string]backendtest.Reply{PathLogin: {Status: loginStatus, Body: loginBody}}}
		at := backend.Target{Host: host, Transport: tr, Timeout: time.Minute}
		b := New()
		l, err := b.Login(context.Background(), at, backend.LoginRequest{Username: user, Password: pass, Token: token})

		basic := token == ""
		if basic && strings.Contains(user, ":") || !basic && !backendtest.HeaderSafe(token) {
			require.Equal(t, backend.CodeBadOption, backend.CodeOf(err), "%v", err)
			require.Empty(t, tr.Sent)
			return
		}
		require.NotEmpty(t, tr.Sent)
		first := tr.Sent[0]
		if basic {
			assert.Equal(t, PathLogin, strings.TrimPrefix(first.URL, host))
			enc, ok := strings.CutPrefix(first.Authorization, "Basic ")
			require.True(t, ok)
			dec, err := base64.StdEncoding.DecodeString(enc)
			require.NoError(t, err)
			u, p, _ := strings.Cut(string(dec), ":") // as the server reads it
			assert.Equal(t, user, u)
			assert.Equal(t, pass, p)
		} else {
			assert.Equal(t, "Bearer "+token, first.Authorization)
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
				assert.True(t, backendtest.HeaderSafe(session), "session %q cannot go in a header", session)
				assert.Equal(t, "session "+session, tr.Sent[1].Authorization)
			} else {
				assert.Equal(t, "bearer "+token, l.Session)
			}
			return
		}
		e := backendtest.CheckError(t, err, host, maxMessage)
		assert.Contains(t, []backend.Code{backend.CodeAuthFailed, backend.CodeForbidden, backend.CodeRateLimited, backend.CodeServer}, e.Code, "%v", err)
		if basic && loginStatus >= 200 && loginStatus < 300 && !json.Valid(loginBody) {
			assert.Equal(t, backend.CodeServer, e.Code)
			assert.ErrorIs(t, err, jsontext.ErrSyntax)
		}
	})
}

// loginOracle reads a login reply with encoding/json: an object whose
// "session" is a non-empty string.
func loginOracle(body []byte) (string, bool) {
	var session string
	ok := backendtest.Strings(body, map[string]*string{"session": &session})
	return session, ok && session != ""
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
	ok := backendtest.Strings(body, map[string]*string{"extension": &x.ext, "name": &x.name, "domain": &x.domain})
	return x, ok && x.ext != ""
}
