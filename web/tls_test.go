package main

// The server over HTTPS: -tls with its local CA, -tls-cert and -tls-key.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/internal/localca"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

// startTLS is start for args that make the program serve HTTPS.
func startTLS(t *testing.T, args ...string) (url string, stderr *servertest.LogBuffer, stop func() int) {
	t.Helper()
	url, stderr, stop = start(t, args...)
	require.True(t, strings.HasPrefix(url, "https://"), "want https, got %s", url)
	return url, stderr, stop
}

// trusting is a client, with a cookie jar, that trusts only the CA in the
// PEM file caFile, and tries HTTP/2.
func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	data, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(data), "%s holds a certificate", caFile)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar, Timeout: servertest.Timeout}
}

// printedCA is the CA file that the server said it serves from.
var printedCA = regexp.MustCompile(`from the local CA (\S+) \((made now|kept)\)`)

// feedOverWSS opens the live feed at url (https) with core/native's
// WebSocket dialer over client, authenticates it with the session id and
// returns the first message's type.
func feedOverWSS(t *testing.T, client *http.Client, url, session string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	feedURL := "wss" + strings.TrimPrefix(url, "https") + wire.FeedPath
	ws := &native.WebSockets{HTTP: client}
	sock, err := ws.Dial(ctx, feedURL)
	require.NoError(t, err, feedURL)
	defer sock.Close(1000, "done")
	require.NoError(t, sock.Send(ctx, []byte(`{"type":"auth","session":"`+session+`","pingtime":60}`)))
	msg, err := sock.Receive(ctx)
	require.NoError(t, err)
	var m struct {
		Type string `json:"type"`
	}
	require.NoError(t, json.Unmarshal(msg, &m), "%s", msg)
	return m.Type
}

// loginOver logs in as bob with client and returns the reply's session id
// and the session cookie the server set.
func loginOver(t *testing.T, client *http.Client, url string) (string, *http.Cookie) {
	t.Helper()
	r := servertest.PostJSON(t, client, url+wire.PathLogin, `{"auth":{"type":"auth","username":"bob","password":"builder"}}`)
	require.Equal(t, http.StatusOK, r.Status, r.Text())
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == wire.CookieName {
			cookie = c
		}
	}
	require.NotNil(t, cookie, "a session cookie: %v", r.Header)
	return r.JSON(t)["user"].(map[string]any)["session"].(string), cookie
}

// TestRunTLS: -tls makes a local CA in the user's configuration folder,
// serves HTTPS with HTTP/2 and a certificate that the CA it printed
// vouches for, gives Secure, SameSite=None cookies, and serves the feed
// over wss. A second start keeps the CA and the certificate.
func TestRunTLS(t *testing.T) {
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	url, stderr, stop := startTLS(t, "-addr", "127.0.0.1:0", "-tls")
	log := stderr.String()
	m := printedCA.FindStringSubmatch(log)
	require.NotNil(t, m, "stderr: %s", log)
	caFile := m[1]
	assert.Equal(t, filepath.Join(config, "pbxauth", "tls", "ca.pem"), caFile, "in the user's configuration folder")
	assert.Equal(t, "made now", m[2])
	for _, want := range []string{
		"(issued now), for localhost, 127.0.0.1, ::1, valid until ",
		"sudo cp " + caFile + " /usr/local/share/ca-certificates/pbxauth-local-ca.crt && sudo update-ca-certificates",
		`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "pbxauth local CA" -i ` + caFile,
		"security add-trusted-cert -d -r trustRoot -k ~/Library/Keychains/login.keychain-db " + caFile,
		"Firefox", "acceptInsecureCerts", "ignoreHTTPSErrors",
	} {
		assert.Contains(t, log, want)
	}
	if runtime.GOOS != "windows" {
		for file, want := range map[string]os.FileMode{"ca-key.pem": 0o600, "key.pem": 0o600, "ca.pem": 0o644, "cert.pem": 0o644, ".": 0o700} {
			info, err := os.Stat(filepath.Join(filepath.Dir(caFile), file))
			require.NoError(t, err)
			assert.Equal(t, want, info.Mode().Perm(), file)
		}
	}

	client := trusting(t, caFile)
	resp, err := client.Get(url + "/api/api.d.ts")
	require.NoError(t, err, "the printed CA vouches for the served certificate")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, "h2", resp.TLS.NegotiatedProtocol)
	require.NotEmpty(t, resp.TLS.VerifiedChains)
	assert.Len(t, resp.TLS.VerifiedChains[0], 2, "the server's certificate and the CA")

	session, cookie := loginOver(t, client, url)
	assert.True(t, cookie.Secure, "Secure over https")
	assert.Equal(t, http.SameSiteNoneMode, cookie.SameSite, "SameSite=None, for trusted pages of other sites")
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, "ready", feedOverWSS(t, client, url, session))

	resp, err = http.Get("http" + strings.TrimPrefix(url, "https") + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP to the HTTPS port")

	assert.Equal(t, 0, stop())
	assert.Contains(t, stderr.String(), "feed 1 open: user 102")

	caPEM, err := os.ReadFile(caFile)
	require.NoError(t, err)
	url, stderr, _ = startTLS(t, "-addr", "127.0.0.1:0", "-tls")
	m = printedCA.FindStringSubmatch(stderr.String())
	require.NotNil(t, m, "stderr: %s", stderr)
	assert.Equal(t, "kept", m[2], "the CA is made once")
	assert.Contains(t, stderr.String(), "cert.pem (kept)")
	again, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Equal(t, caPEM, again)
	resp, err = trusting(t, caFile).Get(url + "/api/api.d.ts")
	require.NoError(t, err)
	resp.Body.Close()
}

// TestRunTLSNames: the certificate covers the -addr host and the -hosts
// names; a new name issues it again, from the same CA, in -tls-dir.
func TestRunTLSNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	_, stderr, stop := startTLS(t, "-addr", "127.0.0.1:0", "-tls-dir", dir, "-hosts", "pbx.example.test:8443,10.0.0.5")
	assert.Contains(t, stderr.String(), "for localhost, 127.0.0.1, ::1, pbx.example.test, 10.0.0.5, valid until")
	assert.Equal(t, 0, stop())
	_, stderr, _ = startTLS(t, "-addr", "127.0.0.1:0", "-tls", "-tls-dir", dir, "-hosts", "other.example.test")
	assert.Contains(t, stderr.String(), "(issued now), for localhost, 127.0.0.1, ::1, other.example.test, valid until")
	assert.Contains(t, stderr.String(), "ca.pem (kept)")
}

func TestCertNames(t *testing.T) {
	loop := []string{"localhost", "127.0.0.1", "::1"}
	tests := []struct {
		addr  string
		hosts []string
		want  []string
	}{
		{"127.0.0.1:8080", nil, loop},
		{":0", nil, loop},
		{"0.0.0.0:8443", nil, loop},
		{"[::]:8443", nil, loop},
		{"localhost:8443", nil, loop},
		{"[::1]:0", nil, loop},
		{"192.168.1.20:8443", nil, append(loop, "192.168.1.20")},
		{"PBX.lan:8443", []string{"pbx.lan", "pbx.example.com:443", "[2001:db8::5]", "[2001:db8::6]:8443", "*.example.com"},
			append(loop, "pbx.lan", "pbx.example.com", "2001:db8::5", "2001:db8::6")},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, certNames(tt.addr, tt.hosts), "%s %v", tt.addr, tt.hosts)
	}
}

// TestRunTLSOwnCertificate: -tls-cert and -tls-key serve the user's own
// certificate; a key that others may read is refused.
func TestRunTLSOwnCertificate(t *testing.T) {
	d := localca.Dir{Path: filepath.Join(t.TempDir(), "mine")}
	ca, _, err := d.CA()
	require.NoError(t, err)
	_, _, err = d.ServerCert(ca, []string{"localhost", "127.0.0.1"})
	require.NoError(t, err)
	certFile, keyFile := d.File(localca.CertFile), d.File(localca.KeyFile)

	url, stderr, stop := startTLS(t, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile)
	assert.Contains(t, stderr.String(), "TLS: serving your certificate "+certFile+", for localhost, 127.0.0.1, valid until ")
	assert.NotContains(t, stderr.String(), "warning")
	client := trusting(t, d.File(localca.CACertFile))
	resp, err := client.Get(url + "/api/api.d.ts")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	session, cookie := loginOver(t, client, url)
	assert.True(t, cookie.Secure)
	assert.Equal(t, "ready", feedOverWSS(t, client, url, session))
	assert.Equal(t, 0, stop())

	// A certificate for other names: a warning, as clients will refuse it.
	_, _, err = d.ServerCert(ca, []string{"pbx.example.test"})
	require.NoError(t, err)
	_, stderr, _ = startTLS(t, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile)
	assert.Contains(t, stderr.String(), "warning: "+certFile+" is not valid for 127.0.0.1")

	if runtime.GOOS != "windows" {
		require.NoError(t, os.Chmod(keyFile, 0o644))
		var out, errOut strings.Builder
		code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile}, &out, &errOut)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut.String(), keyFile+" may be read by others (mode 0644)")
		assert.Contains(t, errOut.String(), "chmod 600 "+keyFile)
		assert.Empty(t, out.String(), "no listening line")
	}
}

// TestRunTLSRefusesReadableCAKey: a CA key that others may read stops the
// start, with the fix.
func TestRunTLSRefusesReadableCAKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no such modes on Windows")
	}
	d := localca.Dir{Path: filepath.Join(t.TempDir(), "tls")}
	_, _, err := d.CA()
	require.NoError(t, err)
	require.NoError(t, os.Chmod(d.File(localca.CAKeyFile), 0o644))
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-tls-dir", d.Path}, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "chmod 600 "+d.File(localca.CAKeyFile))
	assert.Empty(t, out.String())
}

func TestRunTLSBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-tls-cert", "c.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"-tls-key", "k.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"-tls", "-tls-cert", "c.pem", "-tls-key", "k.pem"}, "give one or the other"},
		{[]string{"-tls-dir", "d", "-tls-cert", "c.pem", "-tls-key", "k.pem"}, "give one or the other"},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		code := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tt.args...), &out, &errOut)
		assert.Equal(t, 2, code, "%v", tt.args)
		assert.Contains(t, errOut.String(), tt.want, "%v", tt.args)
		assert.Empty(t, out.String())
	}
	var out, errOut strings.Builder
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &out, &errOut))
	for _, f := range []string{"-tls\n", "-tls-dir DIR", "-tls-cert FILE", "-tls-key FILE"} {
		assert.Contains(t, errOut.String(), f)
	}
}

// h2Settings connects to addr with HTTP/2 and returns the settings the
// server sends first, by id.
func h2Settings(t *testing.T, addr string, pool *x509.CertPool) map[uint16]uint32 {
	t.Helper()
	d := &tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, "h2", c.(*tls.Conn).ConnectionState().NegotiatedProtocol)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	// The client's preface and an empty SETTINGS frame.
	_, err = c.Write(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0))
	require.NoError(t, err)
	r := bufio.NewReader(c)
	for {
		var head [9]byte
		_, err := io.ReadFull(r, head[:])
		require.NoError(t, err)
		n := int(head[0])<<16 | int(head[1])<<8 | int(head[2])
		payload := make([]byte, n)
		_, err = io.ReadFull(r, payload)
		require.NoError(t, err)
		if head[3] != 4 || head[4]&1 != 0 { // not SETTINGS, or an ACK
			continue
		}
		settings := map[uint16]uint32{}
		for i := 0; i+6 <= len(payload); i += 6 {
			settings[binary.BigEndian.Uint16(payload[i:])] = binary.BigEndian.Uint32(payload[i+2:])
		}
		return settings
	}
}

// settingEnableConnectProtocol is SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC
// 8441): with it, browsers open WebSockets over HTTP/2.
const settingEnableConnectProtocol = 0x8

// TestRunTLSNoWebSocketsOverHTTP2: the server's HTTP/2 does not advertise
// extended CONNECT, so that browsers open the feed over HTTP/1.1, the only
// way coder/websocket accepts it.
func TestRunTLSNoWebSocketsOverHTTP2(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	url, _, _ := startTLS(t, "-addr", "127.0.0.1:0", "-tls-dir", dir)
	client := trusting(t, filepath.Join(dir, localca.CACertFile))
	settings := h2Settings(t, strings.TrimPrefix(url, "https://"), client.Transport.(*http.Transport).TLSClientConfig.RootCAs)
	_, on := settings[settingEnableConnectProtocol]
	assert.False(t, on, "SETTINGS_ENABLE_CONNECT_PROTOCOL advertised: %v", settings)
}

// TestRunTLSExtendedConnectOn: with GODEBUG=http2xconnect=1, which makes
// net/http advertise extended CONNECT, the server offers HTTP/1.1 only,
// says so, and the feed still opens over wss.
func TestRunTLSExtendedConnectOn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1", runMainEnv+"=-addr 127.0.0.1:0 -tls-dir "+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr servertest.LogBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	m := listening.FindStringSubmatch(line)
	require.NotNil(t, m, "first line %q; stderr: %s", line, stderr.String())
	url := m[1]
	require.True(t, strings.HasPrefix(url, "https://"), "want https, got %s", url)
	assert.Eventually(t, func() bool { return strings.Contains(stderr.String(), "warning: GODEBUG has http2xconnect=1") },
		10*time.Second, 10*time.Millisecond, "stderr, copied from the child: %s", &stderr)

	client := trusting(t, filepath.Join(dir, localca.CACertFile))
	resp, err := client.Get(url + "/api/api.d.ts")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "HTTP/1.1", resp.Proto, "no HTTP/2, whose extended CONNECT browsers would use for the feed")
	session, _ := loginOver(t, client, url)
	assert.Equal(t, "ready", feedOverWSS(t, client, url, session))
}

// TestRunTLSCaps: the connection caps stay in front of TLS: a connection
// over the cap is closed before its handshake completes.
func TestRunTLSCaps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	url, _, _ := startTLS(t, "-addr", "127.0.0.1:0", "-tls-dir", dir, "-max-conns-per-addr", "1")
	addr := strings.TrimPrefix(url, "https://")
	held, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer held.Close()
	client := trusting(t, filepath.Join(dir, localca.CACertFile))
	require.Eventually(t, func() bool { // once the server has accepted the held connection
		_, err := client.Get(url + "/api/api.d.ts")
		return err != nil
	}, 10*time.Second, 10*time.Millisecond)
	held.Close()
	require.Eventually(t, func() bool {
		resp, err := client.Get(url + "/api/api.d.ts")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "a closed connection makes room")
}
