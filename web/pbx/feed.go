package pbx

import "github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"

// feedSessions answers the live feed's questions about sessions with the
// rules of the REST calls.
type feedSessions struct{ s *Server }

// Open returns the user of the live session id if it was made under subID,
// as a REST call carrying the session would find it; it counts as a use.
func (fs feedSessions) Open(id, subID string) (wire.User, bool) {
	s := fs.s
	ss, ok := s.sessions.Get(id)
	if !ok || ss.SubID != subID {
		return wire.User{}, false
	}
	u, ok := s.user(ss.UserID)
	if !ok { // the user is gone; so is its session
		s.sessions.Delete(ss.ID)
		return wire.User{}, false
	}
	return *userReply(u, ss.Company, "").User, true
}

// Alive reports whether the session id lives and its user too, without
// counting a use. A session whose user is gone (an external user deleted)
// is ended here, as a REST call would end it.
func (fs feedSessions) Alive(id string) bool {
	s := fs.s
	ss, ok := s.sessions.Peek(id)
	if !ok {
		return false
	}
	if _, ok := s.user(ss.UserID); !ok {
		s.sessions.Delete(ss.ID)
		return false
	}
	return true
}
