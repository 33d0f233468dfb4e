// Package localca makes a local certificate authority and the server certificates it issues, so that the local PBX serves HTTPS.
//
// As mkcert and the HTTPS plug-ins of Vite do, the server makes a CA once,
// keeps it in a folder of the user's (Dir: ca.pem and ca-key.pem), and
// issues from it a certificate for the names it serves (cert.pem and
// key.pem), again when a name is missing or the certificate nears its end.
// A browser trusts the server once the user trusts the CA; the command
// prints how. New makes a CA that lives only in memory, for tests.
//
// The keys are ECDSA P-256. The CA is valid for 10 years and may sign only
// server certificates (MaxPathLen 0); a server certificate is valid for at
// most 397 days, the most browsers accept, and is issued again within 30
// days of its end. Private keys are written with mode 0600, through a
// temporary file, in a folder of mode 0700; a key file that others may read
// is refused.
package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/user"
	"strings"
	"time"
)

// Lifetimes.
const (
	// CAValidity is how long a CA is valid from when it is made.
	CAValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is how long a server certificate is valid, in all: the
	// most that browsers accept (398 days for Apple's, 397 in the CA/Browser
	// Forum's rules).
	LeafValidity = 397 * 24 * time.Hour
	// Renew is how long before its end a server certificate is issued
	// again.
	Renew = 30 * 24 * time.Hour
	// backdate starts certificates an hour early, for clocks a little
	// behind.
	backdate = time.Hour
)

// CA is a certificate authority: its certificate and private key.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// New makes a CA that lives only in memory, valid for CAValidity from now:
// a test's server issues its certificate from it and its clients trust it,
// and nothing is written to disk.
func New() (*CA, error) { return newCA(time.Now()) }

// newCA makes a CA valid from now.
func newCA(now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	who := userAndHost()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"pbxauth local CA"},
			OrganizationalUnit: []string{who},
			CommonName:         "pbxauth local CA (" + who + ")",
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true, // it signs server certificates, never another CA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return fromDER(der, key)
}

// fromDER is the CA of a certificate and its key.
func fromDER(der []byte, key *ecdsa.PrivateKey) (*CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Certificate returns the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertPEM returns the CA's certificate in PEM, what a client or a browser
// is told to trust.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// Pool returns a pool that holds only the CA, for a client's RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue returns a server certificate for names (host names and IP
// addresses, such as "localhost", "127.0.0.1" and "::1"), with a new key,
// valid for LeafValidity from now.
func (ca *CA) Issue(names []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	der, err := ca.issue(names, key, time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	return keyPair(der, key)
}

// issue signs a server certificate for names and key's public half, valid
// from now for LeafValidity or until the CA's end, whichever comes first.
func (ca *CA) issue(names []string, key *ecdsa.PrivateKey, now time.Time) ([]byte, error) {
	dns, ips, err := splitNames(names)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	start := now.Add(-backdate)
	end := start.Add(LeafValidity)
	if end.After(ca.cert.NotAfter) {
		end = ca.cert.NotAfter
	}
	if !end.After(now) {
		return nil, fmt.Errorf("the local CA expired on %s: remove its folder to make a new one (and trust that one)", ca.cert.NotAfter.Format(time.DateOnly))
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"pbxauth local server"},
			OrganizationalUnit: []string{userAndHost()},
		},
		NotBefore:   start,
		NotAfter:    end,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    dns,
		IPAddresses: ips,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
}

// keyPair is the tls.Certificate of a certificate and its key, with Leaf
// set.
func keyPair(der []byte, key *ecdsa.PrivateKey) (tls.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// splitNames sorts names into host names and IP addresses (an IPv6 one
// with or without brackets). A wildcard, an empty name and one with a port
// or a scheme are refused.
func splitNames(names []string) (dns []string, ips []net.IP, err error) {
	if len(names) == 0 {
		return nil, nil, errors.New("no names to issue a certificate for")
	}
	for _, n := range names {
		bare := strings.TrimSuffix(strings.TrimPrefix(n, "["), "]")
		if ip := net.ParseIP(bare); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if n == "" || strings.ContainsAny(n, "*:/ []") {
			return nil, nil, fmt.Errorf("%q is not a host name or an IP address", n)
		}
		dns = append(dns, strings.ToLower(n))
	}
	return dns, ips, nil
}

// covers reports whether leaf is valid for every name.
func covers(leaf *x509.Certificate, names []string) bool {
	for _, n := range names {
		if leaf.VerifyHostname(strings.TrimSuffix(strings.TrimPrefix(n, "["), "]")) != nil {
			return false
		}
	}
	return true
}

// serialNumber is a random 128-bit serial number.
func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// userAndHost is "user@host", which tells one machine's CA from another's
// in a browser's list of authorities.
func userAndHost() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return name + "@" + host
}
