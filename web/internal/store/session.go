package store

import (
	"sync"
	"time"
)

// Lifetimes of a session, as web/PROTOCOL.md states them.
const (
	DefaultIdleTimeout = 8 * time.Hour
	DefaultMaxAge      = 24 * time.Hour
)

// Default caps of Sessions, as web/PROTOCOL.md states them.
const (
	DefaultMaxSessionsPerUser = 100
	DefaultMaxSessions        = 100_000
)

// Session is the state of one login. Sessions hands out copies; change a
// session through its methods.
// The JSON names are those of the server's state file (-state).
type Session struct {
	ID      string `json:"id"` // 32 random bytes, base64url: the cookie's value, or the session header's
	UserID  int64  `json:"userId"`
	Company string `json:"company"` // the selected company
	SubID   string `json:"subId"`   // the sub-ID it was made under ("" for none); only calls under it may use it
	// ChatOnline is set at login and cleared by the guide's clean-up.
	ChatOnline bool `json:"chatOnline"`
	// PhonePassword is the phone (keevio) password: random at login, emptied
	// when the clean-up releases it, new at each rtcreset.
	PhonePassword string    `json:"phonePassword"`
	Created       time.Time `json:"created"`
	LastUsed      time.Time `json:"lastUsed"`
	// Token is the value of the login token the session was made from (by
	// the password login that made it, or by a token login), "" for none.
	// The session lives no longer than the token. Never logged.
	Token string `json:"token"`
}

// Sessions holds the local PBX server's login sessions. A session ends
// after IdleTimeout without use, MaxAge after it began, or when it is
// deleted at logout; a session made from a login token also ends when its
// token dies, and each of its uses counts as a use of the token. Expired
// sessions are dropped when they are looked up and by Sweep, so that
// abandoned ones do not pile up; OnEnd hears of every session that ends.
//
// A user holds at most MaxPerUser sessions, and the store MaxSessions in
// all: a new session over either cap ends the oldest (of the user, or of
// all). Sessions are found by the Digest of their id, so that the time a
// lookup takes says nothing of how much of an id an attacker got right.
//
// Its zero value is not usable; call NewSessions. Set the fields before the
// store is first used.
type Sessions struct {
	// Now is the clock; tests replace it to move time.
	Now         func() time.Time
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// MaxPerUser caps the sessions of one user, MaxSessions those of all
	// users: a new session over a cap ends the oldest, of its user or of
	// all, and OnEnd hears of it. 0 or less: no cap.
	MaxPerUser  int
	MaxSessions int
	// Tokens are the login tokens that sessions are made from; a session
	// whose token is not alive there has ended. nil: such sessions are dead.
	Tokens *Tokens
	// OnEnd, if set, is called once for every session that ends, whatever
	// ended it (Delete, DeleteByToken, expiry, its token's death), after the
	// store has let go of its lock. The server uses it to use up external
	// users, which may log in only once.
	OnEnd func(Session)

	mu       sync.Mutex
	sessions *ownedMap[Digest, *Session] // by the digest of their id
}

// NewSessions returns an empty store with the default lifetimes and caps and
// the real clock.
func NewSessions() *Sessions {
	return &Sessions{
		Now:         time.Now,
		IdleTimeout: DefaultIdleTimeout,
		MaxAge:      DefaultMaxAge,
		MaxPerUser:  DefaultMaxSessionsPerUser,
		MaxSessions: DefaultMaxSessions,
		sessions:    newOwnedMap[Digest, *Session](),
	}
}

// Create starts a session for a user that has just logged in: chat online and
// a new phone password.
func (s *Sessions) Create(userID int64, company, subID string) Session {
	return s.CreateFromToken("", userID, company, subID)
}

// CreateFromToken starts a session as Create does, bound to the login token
// tok (its value; "" for none): the session ends when the token dies, and
// each use of the session is a use of the token. Over MaxPerUser or
// MaxSessions, the oldest sessions end.
func (s *Sessions) CreateFromToken(tok string, userID int64, company, subID string) Session {
	now := s.Now()
	ss := &Session{
		ID: NewSecret(), UserID: userID, Company: company, SubID: subID,
		ChatOnline: true, PhonePassword: NewSecret(),
		Created: now, LastUsed: now, Token: tok,
	}
	s.mu.Lock()
	gone := s.add(ss)
	s.mu.Unlock()
	s.endAll(gone)
	return *ss
}

// add holds ss and returns the sessions that the caps drop for it. It runs
// under s.mu.
func (s *Sessions) add(ss *Session) []*Session {
	return s.sessions.Add(DigestOf(ss.ID), ss.UserID, ss, bounds{PerOwner: s.MaxPerUser, Total: s.MaxSessions})
}

// endAll tells OnEnd of sessions that the store has let go of.
func (s *Sessions) endAll(gone []*Session) {
	for _, ss := range gone {
		s.ended(*ss)
	}
}

// Count returns the number of sessions held for a user, expired ones not
// yet swept included.
func (s *Sessions) Count(userID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions.Owned(userID)
}

// Get returns the live session with this id and marks it used.
func (s *Sessions) Get(id string) (Session, bool) {
	return s.update(id, func(*Session) {})
}

// Peek returns the live session with this id without marking it, or its
// token, used: a look that is not a call of the session, such as the live
// feed's check that its session still lives. A session found expired, or
// whose token has died, is dropped and reported missing, and OnEnd hears
// of it, as with Get.
func (s *Sessions) Peek(id string) (Session, bool) {
	return s.lookup(id, false, nil)
}

// SelectCompany makes c the session's company.
func (s *Sessions) SelectCompany(id, c string) (Session, bool) {
	return s.update(id, func(ss *Session) { ss.Company = c })
}

// Cleanup marks chat offline and releases the phone password; the session
// stays logged in.
func (s *Sessions) Cleanup(id string) (Session, bool) {
	return s.update(id, func(ss *Session) {
		ss.ChatOnline = false
		ss.PhonePassword = ""
	})
}

// ResetPhonePassword gives the session a new random phone password.
func (s *Sessions) ResetPhonePassword(id string) (Session, bool) {
	return s.update(id, func(ss *Session) { ss.PhonePassword = NewSecret() })
}

// Delete ends a session; an unknown id is not an error, so that logout always
// succeeds.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	ss, ok := s.sessions.Delete(DigestOf(id))
	s.mu.Unlock()
	if ok {
		s.ended(*ss)
	}
}

// DeleteByToken ends every session made from the token tok (its value) and
// returns how many it ended: at logout, the token and all its sessions go.
func (s *Sessions) DeleteByToken(tok string) int {
	if tok == "" {
		return 0
	}
	s.mu.Lock()
	gone := s.sessions.DeleteFunc(func(ss *Session) bool { return ss.Token == tok })
	s.mu.Unlock()
	s.endAll(gone)
	return len(gone)
}

// Len returns the number of sessions held, expired ones not yet swept included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions.Len()
}

// Snapshot returns a copy of every session held, expired ones not yet swept
// included, for Restore to take after a restart. It marks nothing used.
func (s *Sessions) Snapshot() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.sessions.Values()
	out := make([]Session, 0, len(all))
	for _, ss := range all {
		out = append(out, *ss)
	}
	return out
}

// Restore adds sessions that Snapshot returned, replacing any held with the
// same id, and returns how many it kept. Those that have expired by the
// store's clock, and those whose token is not alive in Tokens (restore the
// tokens first), are dropped, and OnEnd hears of them as of every session
// that ends. The caps hold as for new sessions: over them, the sessions
// created first are dropped.
func (s *Sessions) Restore(list []Session) int {
	now := s.Now()
	var gone []*Session
	s.mu.Lock()
	for _, ss := range list {
		if s.expired(&ss, now) || ss.Token != "" && !s.tokenAlive(ss.Token, false) {
			gone = append(gone, &ss)
			continue
		}
		gone = append(gone, s.add(&ss)...)
	}
	kept := 0
	for _, ss := range list {
		if _, ok := s.sessions.Get(DigestOf(ss.ID)); ok {
			kept++
		}
	}
	s.mu.Unlock()
	s.endAll(gone)
	return kept
}

// Sweep drops every expired session, and every one whose token has died,
// and returns how many it dropped. Sweeping is no use of a token.
func (s *Sessions) Sweep() int {
	now := s.Now()
	s.mu.Lock()
	gone := s.sessions.DeleteFunc(func(ss *Session) bool {
		return s.expired(ss, now) || ss.Token != "" && !s.tokenAlive(ss.Token, false)
	})
	s.mu.Unlock()
	s.endAll(gone)
	return len(gone)
}

// update applies change to a live session, marks it (and its token) used and
// returns a copy. An expired session, or one whose token has died, is dropped
// and reported missing.
func (s *Sessions) update(id string, change func(*Session)) (Session, bool) {
	return s.lookup(id, true, change)
}

// lookup returns a copy of the live session with this id; with use, it first
// applies change and marks the session and its token used. An expired
// session, or one whose token has died, is dropped and reported missing.
func (s *Sessions) lookup(id string, use bool, change func(*Session)) (Session, bool) {
	now := s.Now()
	k := DigestOf(id)
	s.mu.Lock()
	ss, ok := s.sessions.Get(k)
	if !ok {
		s.mu.Unlock()
		return Session{}, false
	}
	if s.expired(ss, now) || ss.Token != "" && !s.tokenAlive(ss.Token, use) {
		s.sessions.Delete(k)
		s.mu.Unlock()
		s.ended(*ss)
		return Session{}, false
	}
	if use {
		change(ss)
		ss.LastUsed = now
	}
	out := *ss
	s.mu.Unlock()
	return out, true
}

// tokenAlive asks the token store about tok, counting a use when use is
// set. It runs under s.mu: the token store never calls back into this one,
// so the locks are always taken in this order.
func (s *Sessions) tokenAlive(tok string, use bool) bool {
	if s.Tokens == nil {
		return false
	}
	if use {
		_, ok := s.Tokens.Use(tok)
		return ok
	}
	return s.Tokens.Alive(tok)
}

// ended tells OnEnd of a session that has ended.
func (s *Sessions) ended(ss Session) {
	if s.OnEnd != nil {
		s.OnEnd(ss)
	}
}

func (s *Sessions) expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.LastUsed) >= s.IdleTimeout || now.Sub(ss.Created) >= s.MaxAge
}
