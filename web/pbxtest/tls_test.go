package pbxtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// TestWithTLS: the server serves HTTPS with HTTP/2; its Go client logs in
// and runs the live feed over wss; the session cookie is Secure and
// SameSite=None.
func TestWithTLS(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithTLS())
	assert.True(t, strings.HasPrefix(s.URL, "https://127.0.0.1:"), s.URL)

	c := s.Client()
	login(t, c, "bob", "builder")
	assert.Equal(t, "bob", c.User().Login)
	assert.True(t, strings.HasPrefix(c.WSHost(), "wss://127.0.0.1:"), c.WSHost())
	ctx := testCtx(t)
	errs := make(chan int, 10)
	require.NoError(t, c.StartFeed(ctx, feed.Options{}, auth.FeedCallbacks{OnError: func(errno int, _ string) { errs <- errno }}),
		"the feed over wss")
	s.Advance(25 * time.Hour)
	select {
	case errno := <-errs:
		assert.Equal(t, feed.ErrLoggedOut, errno, "the feed was live: it ends with the session")
	case <-ctx.Done():
		t.Fatal("the feed did not end with the session")
	}

	resp, body := post(t, s, wire.PathLogin, "https://localhost:3000", `{"auth":{"type":"auth","username":"alice","password":"wonderland"}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "HTTP/2.0", resp.Proto, "HTTPClient speaks HTTP/2")
	require.NotEmpty(t, resp.TLS.VerifiedChains, "HTTPClient trusts the server's CA")
	require.Len(t, resp.Cookies(), 1)
	ck := resp.Cookies()[0]
	assert.Equal(t, wire.CookieName, ck.Name)
	assert.True(t, ck.Secure)
	assert.Equal(t, http.SameSiteNoneMode, ck.SameSite, "a page of another site may use it")
	assert.Equal(t, "https://localhost:3000", resp.Header.Get("Access-Control-Allow-Origin"))

	_, err := http.Get(s.URL + "/")
	assert.Error(t, err, "a client that does not trust the CA is refused")
}

// TestWithTLSCA: CACertPEM is the CA that vouches for the server's
// certificate, for localhost, 127.0.0.1 and ::1, and only for this server.
func TestWithTLSCA(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithTLS())
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.CACertPEM()))
	leaf := s.TLSConfig().Certificates[0].Leaf
	require.NotNil(t, leaf)
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host})
		assert.NoError(t, err, host)
	}
	assert.Contains(t, s.TLSConfig().NextProtos, "h2")
	assert.Contains(t, s.TLSConfig().NextProtos, "http/1.1", "browsers open WebSockets over HTTP/1.1")

	other := pbxtest.NewServer(t, pbxtest.WithTLS())
	assert.NotEqual(t, s.CACertPEM(), other.CACertPEM(), "a CA of its own")
	_, err := other.HTTPClient().Get(s.URL + "/")
	assert.Error(t, err, "another server's client does not trust this one")

	cfg := s.TLSConfig()
	cfg.NextProtos = nil
	assert.NotEmpty(t, s.TLSConfig().NextProtos, "a copy")

	plain := pbxtest.NewServer(t)
	assert.Nil(t, plain.CACertPEM())
	assert.Nil(t, plain.TLSConfig())
	assert.NotNil(t, plain.HTTPClient())
}

// TestWithTLSPageServer: TLSConfig serves a second server, a page on
// another site, https://localhost:PORT, which the server's clients trust.
func TestWithTLSPageServer(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithTLS())
	ps := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a page on "+r.Host)
	}))
	ps.TLS = s.TLSConfig()
	ps.StartTLS()
	defer ps.Close()
	_, port, err := net.SplitHostPort(ps.Listener.Addr().String())
	require.NoError(t, err)
	page := "https://localhost:" + port + "/"

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(s.CACertPEM()))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	for _, c := range []*http.Client{{Transport: tr}, s.HTTPClient()} {
		resp, err := c.Get(page)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "a page on localhost:"+port, string(b))
		assert.Equal(t, "HTTP/2.0", resp.Proto)
	}
}
