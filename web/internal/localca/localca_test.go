package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var loopback = []string{"localhost", "127.0.0.1", "::1"}

// verify checks that leaf chains to ca for the host name.
func verify(t *testing.T, ca *CA, leaf *x509.Certificate, host string) error {
	t.Helper()
	_, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestNewCA(t *testing.T) {
	ca, err := New()
	require.NoError(t, err)
	c := ca.Certificate()
	assert.True(t, c.IsCA)
	assert.True(t, c.BasicConstraintsValid)
	assert.Equal(t, 0, c.MaxPathLen)
	assert.True(t, c.MaxPathLenZero, "it may sign no other CA")
	assert.NotZero(t, c.KeyUsage&x509.KeyUsageCertSign)
	assert.True(t, strings.HasPrefix(c.Subject.CommonName, "pbxauth local CA ("), c.Subject.CommonName)
	assert.Contains(t, c.Subject.CommonName, "@")
	assert.Equal(t, x509.ECDSA, c.PublicKeyAlgorithm)
	assert.Equal(t, elliptic.P256(), c.PublicKey.(*ecdsa.PublicKey).Curve)
	life := c.NotAfter.Sub(c.NotBefore)
	assert.True(t, life > 9*365*24*time.Hour && life < 11*365*24*time.Hour, "about 10 years: %s", life)
	assert.Contains(t, string(ca.CertPEM()), "-----BEGIN CERTIFICATE-----")
}

func TestIssue(t *testing.T) {
	ca, err := New()
	require.NoError(t, err)
	cert, err := ca.Issue(append(loopback, "pbx.example.test", "[2001:db8::1]", "10.0.0.5"))
	require.NoError(t, err)
	leaf := cert.Leaf
	require.NotNil(t, leaf)
	assert.Equal(t, []string{"localhost", "pbx.example.test"}, leaf.DNSNames)
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.Equal(t, []string{"127.0.0.1", "::1", "2001:db8::1", "10.0.0.5"}, ips)
	assert.False(t, leaf.IsCA)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	assert.LessOrEqual(t, leaf.NotAfter.Sub(leaf.NotBefore), 397*24*time.Hour, "browsers refuse longer")
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "pbx.example.test", "2001:db8::1", "10.0.0.5"} {
		assert.NoError(t, verify(t, ca, leaf, host), host)
	}
	assert.Error(t, verify(t, ca, leaf, "example.com"))
	other, err := New()
	require.NoError(t, err)
	assert.Error(t, verify(t, other, leaf, "localhost"), "only its own CA vouches for it")

	for _, bad := range []string{"*.example.test", "", "localhost:8443", "https://localhost"} {
		_, err := ca.Issue([]string{bad})
		assert.Error(t, err, "%q", bad)
	}
	_, err = ca.Issue(nil)
	assert.Error(t, err)
}

// TestIssueServes: a TLS client that trusts the CA connects to a server with
// the certificate, by name and by address, with HTTP/2.
func TestIssueServes(t *testing.T) {
	ca, err := New()
	require.NoError(t, err)
	cert, err := ca.Issue(loopback)
	require.NoError(t, err)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.Proto)) }))
	s.TLS = ServerConfig(cert)
	s.StartTLS()
	defer s.Close()
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		resp, err := client.Get("https://" + net.JoinHostPort(host, port) + "/")
		require.NoError(t, err, host)
		resp.Body.Close()
		assert.Equal(t, "HTTP/2.0", resp.Proto, host)
	}
}

func TestServerConfigWithoutExtendedConnect(t *testing.T) {
	ca, err := New()
	require.NoError(t, err)
	cert, err := ca.Issue(loopback)
	require.NoError(t, err)
	t.Setenv("GODEBUG", "")
	assert.False(t, WebSocketsOverHTTP2())
	assert.Equal(t, []string{"h2", "http/1.1"}, ServerConfig(cert).NextProtos)
	t.Setenv("GODEBUG", "madvdontneed=1,http2xconnect=1")
	assert.True(t, WebSocketsOverHTTP2())
	assert.Equal(t, []string{"http/1.1"}, ServerConfig(cert).NextProtos, "browsers would open the feed over HTTP/2, which it does not accept")
}

// clock is a Dir's clock that a test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newDir(t *testing.T) (Dir, *clock) {
	c := &clock{time.Now()}
	return Dir{Path: filepath.Join(t.TempDir(), "pbxauth", "tls"), Now: c.now}, c
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Mode().Perm()
}

func TestDirMakesThenReuses(t *testing.T) {
	d, _ := newDir(t)
	ca, made, err := d.CA()
	require.NoError(t, err)
	assert.True(t, made)
	cert, issued, err := d.ServerCert(ca, loopback)
	require.NoError(t, err)
	assert.True(t, issued)
	require.NoError(t, verify(t, ca, cert.Leaf, "localhost"))

	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o700), mode(t, d.Path))
		assert.Equal(t, os.FileMode(0o600), mode(t, d.File(CAKeyFile)))
		assert.Equal(t, os.FileMode(0o600), mode(t, d.File(KeyFile)))
		assert.Equal(t, os.FileMode(0o644), mode(t, d.File(CACertFile)))
		assert.Equal(t, os.FileMode(0o644), mode(t, d.File(CertFile)))
	}
	entries, err := os.ReadDir(d.Path)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"ca.pem", "ca-key.pem", "cert.pem", "key.pem"}, names, "no temporary file is left")

	// The files are what other tools (curl --cacert, Vite) read.
	pair, err := tls.LoadX509KeyPair(d.File(CertFile), d.File(KeyFile))
	require.NoError(t, err)
	assert.Equal(t, cert.Certificate, pair.Certificate)
	caPEM, err := os.ReadFile(d.File(CACertFile))
	require.NoError(t, err)
	assert.Equal(t, ca.CertPEM(), caPEM)

	again, made, err := d.CA()
	require.NoError(t, err)
	assert.False(t, made, "the CA is made once")
	assert.Equal(t, ca.Certificate().Raw, again.Certificate().Raw)
	cert2, issued, err := d.ServerCert(again, []string{"127.0.0.1", "localhost"})
	require.NoError(t, err)
	assert.False(t, issued, "a certificate that covers the names is kept")
	assert.Equal(t, cert.Certificate, cert2.Certificate)
}

func TestDirReissues(t *testing.T) {
	d, clk := newDir(t)
	ca, _, err := d.CA()
	require.NoError(t, err)
	first, _, err := d.ServerCert(ca, loopback)
	require.NoError(t, err)

	t.Run("a name missing", func(t *testing.T) {
		cert, issued, err := d.ServerCert(ca, append(loopback, "pbx.lan"))
		require.NoError(t, err)
		assert.True(t, issued)
		assert.NoError(t, verify(t, ca, cert.Leaf, "pbx.lan"))
		assert.True(t, cert.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(first.Leaf.PublicKey), "the key is kept")
		first = cert
	})
	t.Run("near its end", func(t *testing.T) {
		clk.t = first.Leaf.NotAfter.Add(-Renew - time.Hour)
		_, issued, err := d.ServerCert(ca, loopback)
		require.NoError(t, err)
		assert.False(t, issued, "more than 30 days left")
		clk.t = first.Leaf.NotAfter.Add(-Renew + time.Hour)
		cert, issued, err := d.ServerCert(ca, loopback)
		require.NoError(t, err)
		assert.True(t, issued, "less than 30 days left")
		assert.True(t, cert.Leaf.NotAfter.After(first.Leaf.NotAfter))
		assert.False(t, covers(cert.Leaf, []string{"pbx.lan"}), "exactly the names asked for")
		clk.t = time.Now()
	})
	t.Run("another CA", func(t *testing.T) {
		other, err := New()
		require.NoError(t, err)
		cert, issued, err := d.ServerCert(other, loopback)
		require.NoError(t, err)
		assert.True(t, issued)
		assert.NoError(t, verify(t, other, cert.Leaf, "localhost"))
	})
}

func TestDirRefuses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no such modes on Windows")
	}
	t.Run("a CA key that others may read", func(t *testing.T) {
		d, _ := newDir(t)
		_, _, err := d.CA()
		require.NoError(t, err)
		require.NoError(t, os.Chmod(d.File(CAKeyFile), 0o644))
		_, _, err = d.CA()
		require.Error(t, err)
		assert.Contains(t, err.Error(), d.File(CAKeyFile)+" may be read by others (mode 0644)")
		assert.Contains(t, err.Error(), "chmod 600 "+d.File(CAKeyFile))
	})
	t.Run("a server key that others may read", func(t *testing.T) {
		d, _ := newDir(t)
		ca, _, err := d.CA()
		require.NoError(t, err)
		_, _, err = d.ServerCert(ca, loopback)
		require.NoError(t, err)
		require.NoError(t, os.Chmod(d.File(KeyFile), 0o640))
		_, _, err = d.ServerCert(ca, loopback)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "may be read by others (mode 0640)")
		assert.Contains(t, err.Error(), "chmod 600 "+d.File(KeyFile))
	})
	t.Run("half a CA", func(t *testing.T) {
		d, _ := newDir(t)
		_, _, err := d.CA()
		require.NoError(t, err)
		require.NoError(t, os.Remove(d.File(CACertFile)))
		_, _, err = d.CA()
		require.Error(t, err)
		assert.Contains(t, err.Error(), d.File(CACertFile)+" is missing")
		_, err = os.Stat(d.File(CAKeyFile))
		assert.NoError(t, err, "the key is never replaced")
	})
	t.Run("a folder others may write to", func(t *testing.T) {
		d, _ := newDir(t)
		require.NoError(t, os.MkdirAll(d.Path, 0o700))
		require.NoError(t, os.Chmod(d.Path, 0o777))
		_, _, err := d.CA()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "chmod 700 "+d.Path)
	})
	t.Run("not a key", func(t *testing.T) {
		d, _ := newDir(t)
		ca, _, err := d.CA()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(d.File(KeyFile), []byte("hello"), 0o600))
		_, _, err = d.ServerCert(ca, loopback)
		require.Error(t, err)
		data, _ := os.ReadFile(d.File(KeyFile))
		assert.Equal(t, "hello", string(data), "a bad file is never replaced")
	})
	t.Run("an expired CA", func(t *testing.T) {
		d, clk := newDir(t)
		ca, _, err := d.CA()
		require.NoError(t, err)
		clk.t = ca.Certificate().NotAfter.Add(time.Hour)
		_, _, err = d.CA()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "expired")
	})
}

func TestLoadKeyPair(t *testing.T) {
	d, _ := newDir(t)
	ca, _, err := d.CA()
	require.NoError(t, err)
	want, _, err := d.ServerCert(ca, loopback)
	require.NoError(t, err)
	cert, err := LoadKeyPair(d.File(CertFile), d.File(KeyFile))
	require.NoError(t, err)
	assert.Equal(t, want.Certificate, cert.Certificate)
	if runtime.GOOS != "windows" {
		require.NoError(t, os.Chmod(d.File(KeyFile), 0o604))
		_, err = LoadKeyPair(d.File(CertFile), d.File(KeyFile))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "chmod 600")
	}
	_, err = LoadKeyPair(d.File(CertFile), d.File(CACertFile))
	assert.Error(t, err)
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME is Linux's")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	got, err := DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "pbxauth", "tls"), got)
}
