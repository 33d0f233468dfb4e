package servertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

func TestDoSendsTheHeadersAsked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, _ := r.BasicAuth()
		fmt.Fprintf(w, `{"host":%q,"type":%q,"origin":"%v","user":%q,"password":%q,"x":"%v"}`,
			r.Host, r.Header.Get("Content-Type"), r.Header.Values("Origin"), user, password, r.Header.Values("X"))
	}))
	t.Cleanup(srv.Close)

	r := servertest.PostJSON(t, nil, srv.URL, `{}`, "Host", "evil.example", "Origin", "",
		"Authorization", servertest.Basic("root", "s3cret:pw"), "X", "1", "X", "2")
	assert.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, map[string]any{"host": "evil.example", "type": "application/json", "origin": "[]",
		"user": "root", "password": "s3cret:pw", "x": "[1 2]"}, r.JSON(t), "an empty value is not sent; a name may come twice")
}

func TestClientHasAJarOfItsOwn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("c"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "c", Value: "v"})
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	a, b := servertest.Client(t, srv.Client()), servertest.Client(t, nil)
	assert.Equal(t, servertest.Timeout, a.Timeout)
	assert.Equal(t, http.StatusOK, servertest.Do(t, a, http.MethodGet, srv.URL, "").Status)
	assert.Equal(t, http.StatusTeapot, servertest.Do(t, a, http.MethodGet, srv.URL, "").Status, "the jar keeps the cookie")
	assert.Equal(t, http.StatusOK, servertest.Do(t, b, http.MethodGet, srv.URL, "").Status, "another client has none")
}

func TestLogBuffer(t *testing.T) {
	var b servertest.LogBuffer
	l := b.Logger()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { l.Print("x") })
	}
	wg.Wait()
	assert.Equal(t, "x\nx\nx\nx\n", b.String())
}

func TestFeedURL(t *testing.T) {
	assert.Equal(t, "ws://127.0.0.1:1"+wire.FeedPath, servertest.FeedURL("http://127.0.0.1:1", ""))
	assert.Equal(t, "wss://pbx.example"+wire.FeedPath+"?subid=a", servertest.FeedURL("https://pbx.example", "subid=a"))
}

func TestDemoUsers(t *testing.T) {
	d := servertest.DemoUsers()
	require.Same(t, d, servertest.DemoUsers(), "loaded once")
	_, ok := d.ByLogin("alice")
	assert.True(t, ok)
	assert.Equal(t, servertest.Start, servertest.NewClock().Now())
}
