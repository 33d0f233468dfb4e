package store

import "net/http"

// Cookie is the session cookie named name that carries the session id, as
// the server's three systems (IPCortex, Vodia, Ping) set it: HttpOnly, for
// the whole server (Path /). Over https (r.TLS set) it is SameSite=None and
// Secure, so that trusted pages of other sites can send it; over http
// browsers refuse that, so it is SameSite=Lax.
func Cookie(r *http.Request, name, id string) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if r.TLS != nil {
		ck.Secure = true
		ck.SameSite = http.SameSiteNoneMode
	}
	return ck
}

// EndCookie is the session cookie named name expired, with the attributes
// of Cookie: at logout it tells the browser to drop the session cookie.
func EndCookie(r *http.Request, name string) *http.Cookie {
	ck := Cookie(r, name, "")
	ck.MaxAge = -1
	return ck
}
