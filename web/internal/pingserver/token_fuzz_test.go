package pingserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/servertest"
)

// verifyErrors are verify's answers to a token it refuses.
var verifyErrors = []string{
	"the token has expired; make a new one",
	"the token is not a JWT",
	"the token's signature is not valid: this server takes only HS256 tokens signed with its key",
	`the token is not valid: it needs "sub", "domain" and "exp"`,
	"the token's extension is unknown",
	"the token is for another domain",
}

var b64 = base64.RawURLEncoding

// FuzzVerify checks the JWT check against tokens made of any header and
// claims, signed with the server's key (HS256), with another key, or not at
// all, or given raw. A token it accepts is three base64url parts whose
// header says "alg": "HS256", whose signature is the HMAC-SHA256 of the
// first two under the server's key, and whose claims (as encoding/json reads
// them) have an "exp" after now and the "sub" and "domain" of the user it
// returns. A token it refuses gets one of its documented answers.
func FuzzVerify(f *testing.F) {
	h := New(Config{Users: servertest.DemoUsers(), Now: func() time.Time { return start }, Key: []byte(strings.Repeat("k", KeySize))})
	exp := `,"exp":` + strconv.FormatInt(start.Unix()+60, 10)
	for _, c := range []struct{ header, claims string }{
		{`{"alg":"HS256","typ":"JWT"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"42","domain":"acme"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"acme"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","exp":1}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default"}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","exp":"` + strconv.FormatInt(start.Unix()+60, 10) + `"}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","exp":1e300}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","exp":-1e300}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","nbf":` + strconv.FormatInt(start.Unix()+30, 10) + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"99","domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"40","sub":"42","domain":"acme"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"SUB":"40","Domain":"default","EXP":` + strconv.FormatInt(start.Unix()+60, 10) + `}`},
		{`{"alg":"HS256"}`, `{"sub":40,"domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"4\u0030","domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"40` + "\xff" + `","domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `[]`},
		{`{"alg":"HS256","alg":"none"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"none"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"HS384"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"hs256"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"RS256"}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"HS256","crit":["x"]}`, `{"sub":"40","domain":"default"` + exp + `}`},
		{`{"alg":"HS256"}`, `{"sub":"40","domain":"default","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + exp + `}`},
	} {
		for sign := range byte(4) {
			f.Add([]byte(c.header), []byte(c.claims), sign, "")
		}
	}
	f.Add([]byte{}, []byte{}, byte(3), "")
	f.Add([]byte{}, []byte{}, byte(4), "a.b.c")
	f.Add([]byte{}, []byte{}, byte(4), "..")
	f.Add([]byte{}, []byte{}, byte(4), "a.b.c.d")
	f.Add([]byte{}, []byte{}, byte(4), "eyJhbGciOiJIUzI1NiJ9.e30=.x")
	f.Add([]byte{}, []byte{}, byte(4), " \x00\r\n")
	f.Fuzz(func(t *testing.T, header, claims []byte, sign byte, raw string) {
		unsigned := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
		switch sign % 5 {
		case 0:
			raw = unsigned + "." + mac(h.key, unsigned)
		case 1:
			raw = unsigned + "." + mac([]byte(strings.Repeat("x", KeySize)), unsigned)
		case 2:
			raw = unsigned + "."
		case 3:
			raw = unsigned + "." + mac(h.key, unsigned) + "="
		}
		u, err := h.verify(raw)
		if err != nil {
			assert.Contains(t, verifyErrors, err.Error())
			return
		}
		parts := strings.Split(raw, ".")
		require.Len(t, parts, 3, "%q", raw)
		assert.Equal(t, mac(h.key, parts[0]+"."+parts[1]), parts[2], "a token accepted with a signature not of the key: %q", raw)
		hdr, err := b64.DecodeString(parts[0])
		require.NoError(t, err)
		var hv struct {
			Alg string `json:"alg"`
		}
		require.NoError(t, json.Unmarshal(hdr, &hv), "%q", hdr)
		assert.Equal(t, "HS256", hv.Alg, "%q", hdr)
		body, err := b64.DecodeString(parts[1])
		require.NoError(t, err)
		var cv struct {
			Sub    string       `json:"sub"`
			Domain string       `json:"domain"`
			Exp    *json.Number `json:"exp"` // a number, or a string of one, as golang-jwt reads it
		}
		require.NoError(t, json.Unmarshal(body, &cv), "%q", body)
		require.NotNil(t, cv.Exp, "accepted without exp: %q", body)
		e, err := cv.Exp.Float64()
		require.NoError(t, err)
		assert.Greater(t, e, float64(start.Unix()), "accepted after exp: %q", body)
		assert.Equal(t, u.Extension, cv.Sub)
		assert.Equal(t, u.Domain, cv.Domain)
	})
}

func mac(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return b64.EncodeToString(m.Sum(nil))
}
