package vodia

import (
	"context"
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

const host = "https://vodia.example"

// maxMessage bounds an error's message, whatever the reply.
const maxMessage = 400

// FuzzReply checks what the backend makes of any reply to a login, a check
// and a logout. A success is a 2xx with a JSON object that encoding/json
// reads the same (its "session", "type", "domain", "username" and "name"),
// whose session can go back in a header; every failure is an *Error of the
// documented codes (a 2xx that is not the documented JSON is CodeServer,
// with jsontext.ErrSyntax inside when it is not JSON at all) with a short
// message.
func FuzzReply(f *testing.F) {
	for _, s := range []string{
		`{"session":"abc123","type":"user","domain":"acme","username":"40","name":"Alice"}`,
		`{"session":"abc","type":"admin"}`, `{"type":"domain","domain":"acme","x":[1,{"y":null}]}`,
		`{"session":"abc","type":""}`, `{"session":null,"type":"user"}`, `{"session":1,"type":"user"}`,
		`{"session":"a","type":"user","session":"b"}`, `{"Session":"a","type":"user"}`, `{"session":"a","TYPE":"user"}`,
		`{"session":"a b","type":"user"}`, `{"session":"a\r\nX-Evil: 1","type":"user"}`, `{"session":"a\u0000","type":"user"}`,
		`{"session":"` + "\xff" + `","type":"user"}`, `{"session":"\ud800","type":"user"}`, `{"session":"é","type":"user"}`,
		`{"type":"user","username":"99999999999999999999"}`, `{"type":"user","username":"-5"}`, `{"type":"user","username":"+5"}`,
		`{"type":"user","x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
		`[]`, `null`, ``, `{"type":"user"} {}`, `<html>`, `{"type":"` + strings.Repeat("x", 300) + `"}`,
	} {
		for _, status := range []int{200, 401} {
			f.Add(status, []byte(s))
		}
	}
	f.Add(500, []byte(`{"session":"abc","type":"user"}`))
	f.Add(403, []byte(``))
	f.Add(204, []byte(`{"session":"abc","type":"user"}`))
	f.Add(302, []byte(`{"session":"abc","type":"user"}`))
	f.Add(-1, []byte(`{}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tr := &backendtest.Transport{Reply: backendtest.Reply{Status: status, Body: body}}
		at := backend.Target{Host: host, Transport: tr, Timeout: time.Minute}
		b := New()
		ok := status >= 200 && status < 300
		want, documented := oracle(body)

		l, err := b.Login(context.Background(), at, backend.LoginRequest{Token: "t3mp"})
		require.Len(t, tr.Sent, 1)
		var sent struct{ Name, Value string }
		require.NoError(t, json.Unmarshal(tr.Sent[0].Body, &sent))
		assert.Equal(t, "t3mp", sent.Value)
		if err == nil {
			require.True(t, ok && documented && want.session != "", "a login succeeded on HTTP %d %q", status, body)
			assert.Equal(t, want.session, l.Session)
			assert.True(t, backendtest.HeaderSafe(l.Session), "session %q cannot go in a header", l.Session)
			assert.Equal(t, want.user(), l.User)
			assert.Nil(t, l.Token)
		} else {
			checkError(t, err, status, body, backend.CodeAuthFailed)
		}

		for _, cred := range []string{"", "s3ss"} {
			at.Cred.Session = cred
			u, err := b.Check(context.Background(), at)
			if err == nil {
				require.True(t, ok && documented, "a check succeeded on HTTP %d %q", status, body)
				assert.Equal(t, want.user(), u)
			} else {
				checkError(t, err, status, body, backend.CodeLoginRequired)
			}
			req := tr.Sent[len(tr.Sent)-1]
			assert.Equal(t, cred == "", req.Cookies)
			if cred != "" {
				assert.Equal(t, "session "+cred, req.Authorization)
			}

			err = b.Logout(context.Background(), at, "")
			if ok || status == 401 {
				assert.NoError(t, err)
			} else {
				checkError(t, err, status, body, backend.CodeLoginRequired)
			}
		}
	})
}

// checkError checks a failure: an *Error with a code the status explains, or
// CodeServer, and a message that names the host and stays short.
func checkError(t *testing.T, err error, status int, body []byte, refused backend.Code) {
	t.Helper()
	e := backendtest.CheckError(t, err, host, maxMessage)
	switch {
	case status >= 200 && status < 300:
		assert.Equal(t, backend.CodeServer, e.Code, "%v", err)
		if !json.Valid(body) {
			assert.ErrorIs(t, err, jsontext.ErrSyntax)
		}
	case status == 401:
		assert.Equal(t, refused, e.Code, "%v", err)
	case status == 403:
		assert.Equal(t, backend.CodeForbidden, e.Code, "%v", err)
	case status == 429:
		assert.Contains(t, []backend.Code{backend.CodeRateLimited, backend.CodeServer}, e.Code, "%v", err)
	default:
		assert.Equal(t, backend.CodeServer, e.Code, "%v", err)
	}
}

// fields are a session reply's fields as encoding/json reads them.
type fields struct{ session, typ, domain, username, name string }

func (f fields) user() *backend.User {
	id, _ := strconv.ParseInt(f.username, 10, 64)
	login := f.username
	if login == "" {
		login = f.typ
	}
	return &backend.User{ID: id, Login: login, Name: f.name, Company: f.domain, Home: f.domain, Perms: map[string]string{}}
}

// oracle reads body with encoding/json, as strict as jsontext: one object,
// no key twice, the fields strings or null, and a "type". It returns false
// when the body is not the documented reply.
func oracle(body []byte) (fields, bool) {
	var f fields
	ok := backendtest.Strings(body, map[string]*string{"session": &f.session, "type": &f.typ, "domain": &f.domain, "username": &f.username, "name": &f.name})
	return f, ok && f.typ != ""
}
