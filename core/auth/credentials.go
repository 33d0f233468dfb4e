package auth

import "github.com/pbxauth/pbxauth/core/backend"

// Credentials gives each request its credential and keeps what logins hand
// out: the one place where a Client's requests are authenticated, in the
// manner of golang.org/x/oauth2's TokenSource. A credential is carried
// explicitly, in the request, so that a page on another site than the PBX
// keeps its login in browsers that refuse cross-site cookies.
type Credentials interface {
	// Credential returns the credential for a call to host under subID.
	Credential(host, subID string) (Credential, error)
	// KeepSession records the session a login to host under subID made, or
	// forgets the one held when session is "" (a logout, or a session the
	// server no longer knows).
	KeepSession(host, subID, session string) error
	// SavedToken returns the token kept for a silent login to host under
	// subID, made for the application origin ("" for the page's own), or "".
	SavedToken(host, subID, origin string) (string, error)
	// KeepToken keeps a login's token for the next page load, or forgets it
	// when token is "".
	KeepToken(host, subID, origin, token string) error
}

// Credential authenticates one request: the session a login made (opaque:
// the backend that made it reads it back) or an API key. Its zero value
// sends nothing explicitly: the transport's cookie then carries the session
// made without a sub-ID, where the browser sends it.
type Credential = backend.Credential

// Key prefixes in the storages.
const (
	sessionKeyPrefix = "IPCortex.PBX.Auth.session:"
	tokenKeyPrefix   = "IPCortex.PBX.Auth.token:"
)

// Sessions is the default Credentials: the session the client holds for the
// host and sub-ID, kept in Store (sessionStorage in a browser: the tab keeps
// its login across reloads, and it is never sent to another host). Tokens
// without a sub-ID are kept in Tokens (localStorage in a browser: shared by
// the origin's tabs, as their login is), those of a sub-ID in Store (the
// tab's own); a nil Tokens keeps none.
type Sessions struct {
	Store  Storage
	Tokens Storage
}

// Credential returns the held session.
func (s *Sessions) Credential(host, subID string) (Credential, error) {
	v, _, err := s.Store.Get(sessionKey(host, subID))
	return Credential{Session: v}, err
}

// KeepSession keeps or forgets the held session.
func (s *Sessions) KeepSession(host, subID, session string) error {
	return keep(s.Store, sessionKey(host, subID), session)
}

// SavedToken returns the kept token.
func (s *Sessions) SavedToken(host, subID, origin string) (string, error) {
	st := s.tokenStore(subID)
	if st == nil {
		return "", nil
	}
	v, _, err := st.Get(tokenKey(host, subID, origin))
	return v, err
}

// KeepToken keeps or forgets a token.
func (s *Sessions) KeepToken(host, subID, origin, token string) error {
	st := s.tokenStore(subID)
	if st == nil {
		return nil
	}
	return keep(st, tokenKey(host, subID, origin), token)
}

func (s *Sessions) tokenStore(subID string) Storage {
	if subID != "" {
		return s.Store
	}
	return s.Tokens
}

// APIKey is the Credentials of a program that authenticates every call
// statelessly with an API key (IPCortex) instead of a login: the key goes in
// the Authorization header when InHeader, else in the auth body. It keeps no
// session or token, so a login made with it changes nothing but the user.
type APIKey struct {
	Key      string
	InHeader bool
}

// Credential returns the key.
func (k APIKey) Credential(host, subID string) (Credential, error) {
	return Credential{Key: k.Key, KeyInHeader: k.InHeader}, nil
}

// KeepSession keeps nothing: the key is the credential.
func (APIKey) KeepSession(host, subID, session string) error { return nil }

// SavedToken has none.
func (APIKey) SavedToken(host, subID, origin string) (string, error) { return "", nil }

// KeepToken keeps nothing.
func (APIKey) KeepToken(host, subID, origin, token string) error { return nil }

func keep(st Storage, key, value string) error {
	if value == "" {
		return st.Remove(key)
	}
	return st.Set(key, value)
}

func sessionKey(host, subID string) string { return sessionKeyPrefix + subID + "@" + host }

func tokenKey(host, subID, origin string) string {
	return tokenKeyPrefix + subID + "@" + host + " for " + origin
}
