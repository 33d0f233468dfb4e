//go:build !js

package native_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/users"
)

var demoDir *users.Directory

func TestMain(m *testing.M) {
	users.HashCost = bcrypt.MinCost
	demoDir = users.NewDirectory(users.Demo())
	os.Exit(m.Run())
}

var ctx = context.Background()

// counted is an httptest server that counts the requests reaching it.
type counted struct {
	*httptest.Server
	n atomic.Int64
}

func serve(t *testing.T, h http.Handler) *counted {
	t.Helper()
	c := &counted{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func realPBX(t *testing.T) *counted {
	return serve(t, pbx.New(pbx.Config{Users: demoDir}))
}

func TestNewClientEndToEnd(t *testing.T) {
	srv := realPBX(t)
	c, err := native.NewClient(srv.URL)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	assert.Equal(t, srv.URL, c.Host())
	assert.Equal(t, "ws://"+strings.TrimPrefix(srv.URL, "http://"), c.WSHost())

	err = c.Login(ctx, auth.Options{CheckOnly: true})
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "%v", err)

	require.NoError(t, c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	assert.Equal(t, &auth.User{ID: 101, Login: "alice", Name: "Alice Example", Company: "default", Home: "default",
		Perms: map[string]string{"chat": "yes", "admin": "company"}}, c.User())
	require.NoError(t, c.Login(ctx, auth.Options{CheckOnly: true}), "the cookie jar keeps the session")

	sub, err := c.GetSubID()
	require.NoError(t, err, "NewClient has a random source")
	assert.Regexp(t, "^[0-9a-f]{32}$", sub)
	require.NoError(t, c.Sync(ctx))
	assert.Nil(t, c.User(), "a new sub-ID has its own login")
	require.NoError(t, c.Login(ctx, auth.Options{Username: "bob", Password: "builder"}))
	assert.Equal(t, "bob", c.User().Login)

	require.NoError(t, c.Exit(ctx, auth.ExitOptions{Logout: true}))
	assert.Nil(t, c.User())
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(c.Login(ctx, auth.Options{CheckOnly: true})))
}

func TestNewClientRefusesABadHost(t *testing.T) {
	c, err := native.NewClient("ftp://pbx.example.com")
	assert.Nil(t, c)
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err))
}

func TestTransportsHaveTheirOwnJars(t *testing.T) {
	srv := realPBX(t)
	a, b := native.NewTransport(), native.NewTransport()
	ca, err := auth.New(auth.Config{Transport: a, Host: srv.URL})
	require.NoError(t, err)
	t.Cleanup(ca.Close)
	cb, err := auth.New(auth.Config{Transport: b, Host: srv.URL})
	require.NoError(t, err)
	require.NoError(t, ca.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))

	u, _ := url.Parse(srv.URL)
	require.Len(t, a.HTTP.Jar.Cookies(u), 1)
	assert.Equal(t, wire.CookieName, a.HTTP.Jar.Cookies(u)[0].Name)
	assert.Empty(t, b.HTTP.Jar.Cookies(u))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(cb.Login(ctx, auth.Options{CheckOnly: true})))
}

func TestTransportRefusesRedirects(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusMovedPermanently} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			target := realPBX(t)
			redirector := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.RequestURI(), status)
			}))
			c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: redirector.URL})
			require.NoError(t, err)

			err = c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
			require.Error(t, err)
			assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err), "%v", err)
			assert.Contains(t, err.Error(), "redirect")
			assert.Contains(t, err.Error(), target.URL, "the message names where it was sent")
			assert.Equal(t, int64(1), redirector.n.Load())
			assert.Zero(t, target.n.Load(), "the password never reached the other server")
			assert.Nil(t, c.User())
		})
	}
}

func TestTransportCutsLongReplies(t *testing.T) {
	long := `{"result":"success","user":{"id":1,"login":"` + strings.Repeat("a", 2*wire.MaxBody) + `"}}`
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(long))
	}))
	tr := native.NewTransport()
	resp, err := tr.Do(ctx, &auth.Request{Method: "POST", URL: srv.URL + wire.PathLogin, Body: []byte(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Len(t, resp.Body, wire.MaxBody+1, "the transport reads one byte more than the limit, no more")
	assert.Equal(t, []byte(long[:wire.MaxBody+1]), resp.Body)

	c, err := auth.New(auth.Config{Transport: tr, Host: srv.URL})
	require.NoError(t, err)
	err = c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	assert.Equal(t, auth.CodeServer, auth.CodeOf(err), "%v", err)
	assert.Contains(t, err.Error(), "oversized")
	assert.Nil(t, c.User())
}

func TestTransportKeepsRepliesUpToTheLimit(t *testing.T) {
	body := bytes.Repeat([]byte("x"), wire.MaxBody)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	resp, err := native.NewTransport().Do(ctx, &auth.Request{Method: "POST", URL: srv.URL})
	require.NoError(t, err)
	assert.Equal(t, body, resp.Body)
}

func TestTransportSendsTheRequest(t *testing.T) {
	type seen struct {
		method, path, query, ct, authz, body string
	}
	got := make(chan seen, 1)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		_, _ = b.ReadFrom(r.Body)
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b.String()}
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("short and stout"))
	}))
	resp, err := native.NewTransport().Do(ctx, &auth.Request{
		Method:      "POST",
		URL:         srv.URL + "/rest/auth/?subid=abc",
		ContentType: "application/json", Authorization: "token auth=k",
		Body: []byte(`{"auth":{"type":"auth"}}`),
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, resp.Status)
	assert.Equal(t, "short and stout", string(resp.Body))
	assert.Equal(t, seen{"POST", "/rest/auth/", "subid=abc", "application/json", "token auth=k", `{"auth":{"type":"auth"}}`}, <-got)
}

func TestTransportErrors(t *testing.T) {
	tr := native.NewTransport()
	t.Run("bad request", func(t *testing.T) {
		_, err := tr.Do(ctx, &auth.Request{Method: "NOT A METHOD", URL: "http://127.0.0.1/"})
		assert.Error(t, err)
		_, err = tr.Do(ctx, &auth.Request{Method: "POST", URL: "http://[::1"})
		assert.Error(t, err)
	})
	t.Run("cancelled", func(t *testing.T) {
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := tr.Do(cctx, &auth.Request{Method: "POST", URL: srv.URL})
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("body cut short", func(t *testing.T) {
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"result":`))
		}))
		_, err := tr.Do(ctx, &auth.Request{Method: "POST", URL: srv.URL})
		assert.Error(t, err)
	})
}

func TestRandom(t *testing.T) {
	a, b := make([]byte, 32), make([]byte, 32)
	require.NoError(t, native.Random(a))
	require.NoError(t, native.Random(b))
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, make([]byte, 32), a)
	require.NoError(t, native.Random(nil))
}
