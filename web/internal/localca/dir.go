package localca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// The files of a Dir.
const (
	CACertFile = "ca.pem"     // the CA's certificate, what the user trusts
	CAKeyFile  = "ca-key.pem" // the CA's private key
	CertFile   = "cert.pem"   // the server's certificate
	KeyFile    = "key.pem"    // the server's private key
)

// maxPEM bounds what is read of a PEM file.
const maxPEM = 64 << 10

// Dir is a folder that keeps a CA and the server certificate it issued.
type Dir struct {
	// Path is the folder, made with mode 0700 if missing.
	Path string
	// Now is the clock that certificates are made and checked on (nil:
	// time.Now).
	Now func() time.Time
}

// DefaultDir returns the folder that the server keeps its CA in without
// -tls-dir: pbxauth/tls in the user's configuration directory
// ($XDG_CONFIG_HOME, else ~/.config, on Linux), where the key of Ping's
// tokens lives too.
func DefaultDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("local CA: no configuration directory (%v); give -tls-dir DIR", err)
	}
	return filepath.Join(dir, "pbxauth", "tls"), nil
}

// File returns the path of one of the folder's files (CACertFile ...).
func (d Dir) File(name string) string { return filepath.Join(d.Path, name) }

func (d Dir) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// CA returns the CA kept in the folder, and makes it if the folder holds
// none (made is then true); a CA is never replaced. A folder that holds
// only one of ca.pem and ca-key.pem, a key file that others may read, an
// expired CA and a folder that others may write to are errors that say what
// to do.
func (d Dir) CA() (ca *CA, made bool, err error) {
	if err := d.prepare(); err != nil {
		return nil, false, err
	}
	certPath, keyPath := d.File(CACertFile), d.File(CAKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err := d.makeCA()
		if err != nil {
			return nil, false, fmt.Errorf("local CA: %w", err)
		}
		return ca, true, nil
	case errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist):
		have, lack := certPath, keyPath
		if certErr != nil {
			have, lack = keyPath, certPath
		}
		return nil, false, fmt.Errorf("local CA: %s is there but %s is missing: restore it, or remove %s to make a new CA (and trust the new one)", have, lack, have)
	}
	ca, err = d.readCA()
	if err != nil {
		return nil, false, fmt.Errorf("local CA: %w", err)
	}
	return ca, false, nil
}

// prepare makes the folder, mode 0700, and refuses one that others may
// write to: they could put their own CA there.
func (d Dir) prepare() error {
	if d.Path == "" {
		return errors.New("local CA: no folder given")
	}
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	info, err := os.Stat(d.Path)
	if err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("local CA: %s is not a folder", d.Path)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("local CA: others may write to %s (mode %04o) and could put their own CA there: chmod 700 %s, or pick a private folder", d.Path, perm, d.Path)
	}
	return nil
}

// makeCA makes a CA and writes it, key first; neither file is replaced if
// another process has just made it.
func (d Dir) makeCA() (*CA, error) {
	ca, err := newCA(d.now())
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(ca.key)
	if err != nil {
		return nil, err
	}
	if err := writeFile(d.File(CAKeyFile), keyPEM, 0o600, false); err != nil {
		return nil, err
	}
	if err := writeFile(d.File(CACertFile), ca.certPEM, 0o644, false); err != nil {
		return nil, err
	}
	return ca, nil
}

// readCA reads the CA's files and checks that they make a CA that is still
// valid.
func (d Dir) readCA() (*CA, error) {
	certPath := d.File(CACertFile)
	key, err := readKey(d.File(CAKeyFile), "make certificates that the browsers which trust this CA accept for any site")
	if err != nil {
		return nil, err
	}
	cert, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	switch {
	case !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("%s is not a CA's certificate: remove %s and %s to make a new CA", certPath, certPath, d.File(CAKeyFile))
	case !key.PublicKey.Equal(cert.PublicKey):
		return nil, fmt.Errorf("%s and %s do not belong together: remove both to make a new CA (and trust the new one)", certPath, d.File(CAKeyFile))
	case !d.now().Before(cert.NotAfter):
		return nil, fmt.Errorf("the CA of %s expired on %s: remove %s and %s to make a new one (and trust the new one)", certPath, cert.NotAfter.Format(time.DateOnly), certPath, d.File(CAKeyFile))
	}
	return fromDER(cert.Raw, key)
}

// ServerCert returns the server certificate kept in the folder if it was
// issued by ca, is valid for every one of names and stays valid for more
// than Renew; otherwise it issues one for names (exactly those), writes it
// and returns it with issued true. The server's key is kept across
// reissues (made if missing), so that a certificate being replaced never
// meets a key that does not match it.
func (d Dir) ServerCert(ca *CA, names []string) (cert tls.Certificate, issued bool, err error) {
	if err := d.prepare(); err != nil {
		return tls.Certificate{}, false, err
	}
	keyPath := d.File(KeyFile)
	key, err := readKey(keyPath, "pass for this server")
	newKey := errors.Is(err, fs.ErrNotExist)
	switch {
	case newKey:
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return tls.Certificate{}, false, err
		}
	case err != nil:
		return tls.Certificate{}, false, fmt.Errorf("local CA: %w", err)
	default:
		if cert, ok := d.current(ca, key, names); ok {
			return cert, false, nil
		}
	}
	der, err := ca.issue(names, key, d.now())
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("local CA: %w", err)
	}
	if newKey {
		keyPEM, err := encodeKey(key)
		if err != nil {
			return tls.Certificate{}, false, err
		}
		if err := writeFile(keyPath, keyPEM, 0o600, true); err != nil {
			return tls.Certificate{}, false, fmt.Errorf("local CA: %w", err)
		}
	}
	if err := writeFile(d.File(CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644, true); err != nil {
		return tls.Certificate{}, false, fmt.Errorf("local CA: %w", err)
	}
	cert, err = keyPair(der, key)
	return cert, true, err
}

// current returns the certificate in the folder if it can be served as it
// is: issued by ca for key, valid now and for more than Renew, and for
// every name.
func (d Dir) current(ca *CA, key *ecdsa.PrivateKey, names []string) (tls.Certificate, bool) {
	leaf, err := readCert(d.File(CertFile))
	if err != nil {
		return tls.Certificate{}, false
	}
	now := d.now()
	switch {
	case leaf.CheckSignatureFrom(ca.cert) != nil,
		!key.PublicKey.Equal(leaf.PublicKey),
		now.Before(leaf.NotBefore),
		!now.Add(Renew).Before(leaf.NotAfter),
		!covers(leaf, names):
		return tls.Certificate{}, false
	}
	cert, err := keyPair(leaf.Raw, key)
	return cert, err == nil
}

// LoadKeyPair reads a certificate (with its chain) and its private key
// from PEM files, as tls.LoadX509KeyPair does, and refuses a key file that
// others may read.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if err := checkPrivate(keyFile, "pass for your server"); err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// checkPrivate refuses a key file that group or others may read (but on
// Windows, which has no such modes); whoever reads it can do what.
func checkPrivate(file, what string) error {
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return fmt.Errorf("%s may be read by others (mode %04o); whoever reads it can %s: chmod 600 %s", file, perm, what, file)
	}
	return nil
}

// readKey reads an ECDSA private key from a PEM file that only its owner
// may read.
func readKey(file, what string) (*ecdsa.PrivateKey, error) {
	if err := checkPrivate(file, what); err != nil {
		return nil, err
	}
	block, err := readPEM(file)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		err = fmt.Errorf("a %q block", block.Type)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("%s holds no ECDSA private key: remove it to make a new one", file)
	}
	return ec, nil
}

// readCert reads the first certificate of a PEM file.
func readCert(file string) (*x509.Certificate, error) {
	block, err := readPEM(file)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no certificate", file)
	}
	return cert, nil
}

// readPEM reads the first PEM block of a file.
func readPEM(file string) (*pem.Block, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEM))
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s is not a PEM file", file)
	}
	return block, nil
}

// encodeKey is key in PEM, as PKCS #8.
func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// writeFile writes data to file with mode through a temporary file in the
// same folder (made with mode 0600, so that a key is never readable by
// others, not even half-written), then renamed over file (replace) or
// linked to it, so that an existing file, made meanwhile by another
// process, is kept (an error that wraps fs.ErrExist).
func writeFile(file string, data []byte, mode os.FileMode, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil && mode != 0o600 {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if replace {
		return os.Rename(tmp.Name(), file)
	}
	return os.Link(tmp.Name(), file)
}
