package auth

// Credentials gives each request its credential and keeps the sessions the
// server hands out: the one place where a Client's requests are
// authenticated, in the manner of golang.org/x/oauth2's TokenSource. A
// credential is carried explicitly, in the request, wherever it can be, so
// that a page on another site than the PBX keeps its login in browsers that
// refuse cross-site cookies.
type Credentials interface {
	// Credential returns the credential for a call to host under subID.
	Credential(host, subID string) (Credential, error)
	// Keep records the session that a login to host under subID made, or
	// forgets the one it holds when session is "" (a logout, or a session
	// the server no longer knows).
	Keep(host, subID, session string) error
}

// Credential authenticates one request. Its zero value sends nothing
// explicitly: the transport's cookie then carries the session made without
// a sub-ID, if there is one.
type Credential struct {
	// Session is a session id, sent as "Authorization: session ID" in place
	// of any cookie.
	Session string
	// Key is an API key: in the Authorization header when KeyInHeader, else
	// in the body.
	Key         string
	KeyInHeader bool
}

// sessionKeyPrefix starts the Store key of a sub-ID's session.
const sessionKeyPrefix = "IPCortex.PBX.Auth.session:"

// Sessions is the default Credentials: the API key, if one is set; else the
// session of the call's sub-ID, kept in Store under the host and sub-ID
// (sessionStorage in a browser, so that a tab keeps its own login across
// reloads and never sends it to another host); else nothing explicit. The
// session made without a sub-ID stays in the transport's cookie.
type Sessions struct {
	Store       Storage
	APIKey      string
	KeyInHeader bool
}

// Credential returns the key, or the sub-ID's kept session.
func (s *Sessions) Credential(host, subID string) (Credential, error) {
	if s.APIKey != "" {
		return Credential{Key: s.APIKey, KeyInHeader: s.KeyInHeader}, nil
	}
	if subID == "" {
		return Credential{}, nil
	}
	v, _, err := s.Store.Get(sessionKey(host, subID))
	return Credential{Session: v}, err
}

// Keep keeps or forgets a sub-ID's session; without a sub-ID the cookie
// keeps it.
func (s *Sessions) Keep(host, subID, session string) error {
	switch {
	case subID == "":
		return nil
	case session == "":
		return s.Store.Remove(sessionKey(host, subID))
	}
	return s.Store.Set(sessionKey(host, subID), session)
}

func sessionKey(host, subID string) string { return sessionKeyPrefix + subID + "@" + host }
