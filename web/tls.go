package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/localca"
)

// tlsFlags are the flags that make the server speak HTTPS.
type tlsFlags struct {
	local    *bool
	dir      *string
	certFile *string
	keyFile  *string
}

// defineTLSFlags defines -tls, -tls-dir, -tls-cert and -tls-key on fs.
func defineTLSFlags(fs *flag.FlagSet) *tlsFlags {
	return &tlsFlags{
		local:    fs.Bool("tls", false, "serve HTTPS (with HTTP/2, the feed over wss) with a certificate from a local CA, made once and kept in -tls-dir;\nthe certificate is for localhost, 127.0.0.1, ::1, the -addr host and the -hosts names; trust the CA once (it prints how)"),
		dir:      fs.String("tls-dir", "", "keep -tls's local CA (ca.pem, ca-key.pem) and certificate (cert.pem, key.pem) in `DIR`, keys with mode 0600\n(default: pbxauth/tls in the user's configuration directory, $XDG_CONFIG_HOME or ~/.config on Linux); implies -tls"),
		certFile: fs.String("tls-cert", "", "serve HTTPS with your own certificate: `FILE` in PEM, with its chain; needs -tls-key, and not -tls"),
		keyFile:  fs.String("tls-key", "", "the private key of -tls-cert: `FILE` in PEM, which only you may read (chmod 600)"),
	}
}

// check returns why the flags do not go together, or nil.
func (f *tlsFlags) check() error {
	own := *f.certFile != "" || *f.keyFile != ""
	switch {
	case (*f.certFile == "") != (*f.keyFile == ""):
		return errors.New("-tls-cert and -tls-key go together: give both your certificate and its key")
	case own && (*f.local || *f.dir != ""):
		return errors.New("-tls (or -tls-dir) makes a certificate from a local CA, -tls-cert and -tls-key serve your own: give one or the other")
	}
	return nil
}

// tlsSetup is what the server serves HTTPS with.
type tlsSetup struct {
	config *tls.Config
	leaf   *x509.Certificate
	file   string // the certificate's file, for messages
}

// load returns the server's TLS set-up, nil without TLS: the user's own
// certificate, or one from the local CA (made if need be) for the names
// served. It tells stderr what it serves and, with the local CA, how to
// trust it.
func (f *tlsFlags) load(addr string, hosts []string, stderr io.Writer) (*tlsSetup, error) {
	if *f.certFile != "" {
		cert, err := localca.LoadKeyPair(*f.certFile, *f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert, -tls-key: %w", err)
		}
		fmt.Fprintf(stderr, "TLS: serving your certificate %s, for %s, valid until %s\n",
			*f.certFile, strings.Join(certNamesOf(cert.Leaf), ", "), cert.Leaf.NotAfter.Format(time.DateOnly))
		return &tlsSetup{config: localca.ServerConfig(cert), leaf: cert.Leaf, file: *f.certFile}, nil
	}
	if !*f.local && *f.dir == "" {
		return nil, nil
	}
	d := localca.Dir{Path: *f.dir}
	if d.Path == "" {
		def, err := localca.DefaultDir()
		if err != nil {
			return nil, err
		}
		d.Path = def
	}
	ca, made, err := d.CA()
	if err != nil {
		return nil, err
	}
	names := certNames(addr, hosts)
	cert, issued, err := d.ServerCert(ca, names)
	if err != nil {
		return nil, err
	}
	caState, certState := "kept", "kept"
	if made {
		caState = "made now"
	}
	if issued {
		certState = "issued now"
	}
	fmt.Fprintf(stderr, "TLS: serving %s (%s), for %s, valid until %s, from the local CA %s (%s)\n",
		d.File(localca.CertFile), certState, strings.Join(names, ", "), cert.Leaf.NotAfter.Format(time.DateOnly), d.File(localca.CACertFile), caState)
	fmt.Fprint(stderr, trustHelp(d.File(localca.CACertFile), d.File(localca.CAKeyFile)))
	return &tlsSetup{config: localca.ServerConfig(cert), leaf: cert.Leaf, file: d.File(localca.CertFile)}, nil
}

// warnUncovered warns when the certificate is not valid for the host of
// the address the server prints, or not valid now.
func (s *tlsSetup) warnUncovered(host string, logger *log.Logger) {
	if err := s.leaf.VerifyHostname(host); err != nil {
		logger.Printf("warning: %s is not valid for %s: browsers and clients will refuse https://%s; use a name it is for (%s)",
			s.file, host, host, strings.Join(certNamesOf(s.leaf), ", "))
	}
	if now := time.Now(); now.After(s.leaf.NotAfter) || now.Before(s.leaf.NotBefore) {
		logger.Printf("warning: %s is valid from %s to %s only: browsers will refuse it", s.file, s.leaf.NotBefore.Format(time.DateOnly), s.leaf.NotAfter.Format(time.DateOnly))
	}
}

// certNames are the names that -tls's certificate is for: localhost and the
// loopback addresses, the -addr host if it is another name or a specific
// address, and every -hosts name (without its port).
func certNames(addr string, hosts []string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		h = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
		if ip, err := netip.ParseAddr(h); err == nil {
			if ip.IsUnspecified() {
				return
			}
			h = ip.Unmap().String()
		}
		if h != "" && !strings.Contains(h, "*") && !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		add(host)
	}
	for _, h := range hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		add(h)
	}
	return names
}

// certNamesOf lists the names a certificate is for.
func certNamesOf(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName+" (common name only, which browsers ignore)")
	}
	return names
}

// trustHelp says where the local CA is and how to trust it.
func trustHelp(caFile, caKeyFile string) string {
	q := shellQuote(caFile)
	return `TLS: browsers accept this server once they trust the local CA ` + caFile + ` (once per machine or profile):
  Debian, Ubuntu (the system's store, which curl and Go read):
    sudo cp ` + q + ` /usr/local/share/ca-certificates/pbxauth-local-ca.crt && sudo update-ca-certificates
  Chromium, Chrome on Linux (certutil comes with libnss3-tools):
    certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n "pbxauth local CA" -i ` + q + `
  Firefox: Settings > Privacy & Security > Certificates > View Certificates > Authorities > Import, and trust it
    to identify websites; or its profile's store: certutil -d sql:PROFILE_DIR -A -t C,, -n "pbxauth local CA" -i ` + q + `
  macOS:
    security add-trusted-cert -d -r trustRoot -k ~/Library/Keychains/login.keychain-db ` + q + `
  Test tools may accept the certificate instead: acceptInsecureCerts (WebDriver, Selenium), ignoreHTTPSErrors
  (Playwright, Puppeteer), curl --cacert ` + q + `.
  Whoever reads ` + caKeyFile + ` can make certificates that those browsers accept for any site: keep it private.
`
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
