package pingserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pbxauth/pbxauth/web/users"
)

// KeySize is the size of the key that signs the JWTs, in bytes: HS256 wants
// a key at least as long as its hash.
const KeySize = 32

// signingMethod is the only algorithm Ping's tokens may use. The parser is
// told so: a token with "alg": "none", or with any other algorithm (which
// would let an attacker pick how the key is used), is refused.
var signingMethod = jwt.SigningMethodHS256

// Claims are the claims of a Ping JWT: "sub" is the extension, "domain" the
// domain of its user, with "exp" and "iat".
type Claims struct {
	Domain string `json:"domain"`
	jwt.RegisteredClaims
}

// Mint returns a JWT for u (which must have an extension) that is valid for
// ttl from now, signed with key.
func Mint(key []byte, u *users.User, now time.Time, ttl time.Duration) (string, error) {
	switch {
	case len(key) != KeySize:
		return "", fmt.Errorf("the key is %d bytes; it must be %d", len(key), KeySize)
	case u.Extension == "":
		return "", fmt.Errorf("user %q has no extension: give it an \"extension\" in the users file", u.Login)
	case ttl <= 0:
		return "", fmt.Errorf("the lifetime %s is not positive", ttl)
	}
	claims := Claims{
		Domain: u.Domain,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   u.Extension,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(signingMethod, claims).SignedString(key)
}

// verify returns the user a JWT was made for. It refuses every algorithm but
// HS256 ("none" included), a bad signature, a token without "exp" or
// expired on the handler's clock, one whose extension is unknown, and one
// whose "domain" is not its user's (another domain's token).
func (h *Handler) verify(raw string) (*users.User, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return h.key, nil },
		jwt.WithValidMethods([]string{signingMethod.Alg()}),
		jwt.WithTimeFunc(h.now),
		jwt.WithExpirationRequired(),
	)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, errors.New("the token has expired; make a new one")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, errors.New("the token is not a JWT")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return nil, errors.New("the token's signature is not valid: this server takes only HS256 tokens signed with its key")
	default:
		return nil, errors.New("the token is not valid: it needs \"sub\", \"domain\" and \"exp\"")
	}
	u, ok := h.users.ByExtension(claims.Subject)
	switch {
	case !ok:
		return nil, errors.New("the token's extension is unknown")
	case claims.Domain != u.Domain:
		return nil, errors.New("the token is for another domain")
	}
	return u, nil
}

// DefaultKeyFile returns where the server and its token command keep the key
// without -ping-key: pbxauth/ping.key in the user's configuration directory
// ($XDG_CONFIG_HOME or ~/.config on Linux), so that both find it from any
// working directory and it stays out of the source tree.
func DefaultKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("ping key: no configuration directory (%v); give -ping-key FILE", err)
	}
	return filepath.Join(dir, "pbxauth", "ping.key"), nil
}

// LoadKey returns the key in file: KeySize bytes written as hex digits (what
// "openssl rand -hex 32" prints). A missing file is made, with a new random
// key and mode 0600, in a directory made with mode 0700 if need be. A file
// that others may read is refused (but on Windows, which has no such
// modes), as is one that holds no key.
func LoadKey(file string) ([]byte, error) {
	key, err := readKey(file)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKey(file); err != nil {
			return nil, fmt.Errorf("ping key: %w", err)
		}
		key, err = readKey(file)
	}
	if err != nil {
		return nil, fmt.Errorf("ping key: %w", err)
	}
	return key, nil
}

// readKey reads the key in file.
func readKey(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s may be read by others (mode %04o); whoever reads it can sign tokens: chmod 600 it", file, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4*KeySize))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("%s holds no key: it must hold %d bytes as %d hex digits (openssl rand -hex %d)", file, KeySize, 2*KeySize, KeySize)
	}
	return key, nil
}

// createKey writes a new random key to file, unless another process has
// just made it: the key goes into a temporary file that is then linked to
// file, so that nobody ever reads a half-written key and an existing key is
// never replaced.
func createKey(file string) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".ping-key-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, KeySize)
	rand.Read(key) // never fails; it crashes the program if the system has no randomness
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), file); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
