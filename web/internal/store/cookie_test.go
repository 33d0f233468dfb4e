package store

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCookie(t *testing.T) {
	plain := httptest.NewRequest(http.MethodPost, "http://pbx.example/", nil)
	assert.Equal(t, &http.Cookie{Name: "sid", Value: "s3ss", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode},
		Cookie(plain, "sid", "s3ss"), "over http: Lax, since browsers refuse None without Secure")

	secure := httptest.NewRequest(http.MethodPost, "https://pbx.example/", nil)
	secure.TLS = &tls.ConnectionState{}
	assert.Equal(t, &http.Cookie{Name: "sid", Value: "s3ss", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode},
		Cookie(secure, "sid", "s3ss"), "over https: None and Secure, for trusted pages of other sites")

	for _, r := range []*http.Request{plain, secure} {
		end := EndCookie(r, "sid")
		want := Cookie(r, "sid", "")
		want.MaxAge = -1
		assert.Equal(t, want, end)
		assert.Equal(t, "sid=; Path=/; Max-Age=0; HttpOnly; "+map[bool]string{false: "SameSite=Lax", true: "Secure; SameSite=None"}[r.TLS != nil],
			end.String(), "what the browser is told")
	}
}
