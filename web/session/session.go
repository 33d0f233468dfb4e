// Package session keeps the local PBX server's login sessions in memory. A
// session ends after IdleTimeout without use, MaxAge after it began, or when
// it is deleted at logout. Expired sessions are dropped when they are looked
// up and by Sweep, so that abandoned ones do not pile up.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Lifetimes of a session, as web/PROTOCOL.md states them.
const (
	DefaultIdleTimeout = 8 * time.Hour
	DefaultMaxAge      = 24 * time.Hour
)

// Session is the state of one login. The store hands out copies; change a
// session through the store's methods.
type Session struct {
	ID      string // 32 random bytes, base64url: the cookie's value, or the session header's
	UserID  int64
	Company string // the selected company
	SubID   string // the sub-ID it was made under ("" for none); only calls under it may use it
	// ChatOnline is set at login and cleared by the guide's clean-up.
	ChatOnline bool
	// PhonePassword is the phone (keevio) password: random at login, emptied
	// when the clean-up releases it, new at each rtcreset.
	PhonePassword string
	Created       time.Time
	LastUsed      time.Time
}

// Store holds sessions. Its zero value is not usable; call New. Set the fields
// before the store is first used.
type Store struct {
	// Now is the clock; tests replace it to move time.
	Now         func() time.Time
	IdleTimeout time.Duration
	MaxAge      time.Duration

	mu       sync.Mutex
	sessions map[string]*Session
}

// New returns an empty store with the default lifetimes and the real clock.
func New() *Store {
	return &Store{
		Now:         time.Now,
		IdleTimeout: DefaultIdleTimeout,
		MaxAge:      DefaultMaxAge,
		sessions:    map[string]*Session{},
	}
}

// Create starts a session for a user that has just logged in: chat online and
// a new phone password.
func (s *Store) Create(userID int64, company, subID string) Session {
	now := s.Now()
	ss := &Session{
		ID: NewSecret(), UserID: userID, Company: company, SubID: subID,
		ChatOnline: true, PhonePassword: NewSecret(),
		Created: now, LastUsed: now,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[ss.ID] = ss
	return *ss
}

// Get returns the live session with this id and marks it used.
func (s *Store) Get(id string) (Session, bool) {
	return s.update(id, func(*Session) {})
}

// SelectCompany makes c the session's company.
func (s *Store) SelectCompany(id, c string) (Session, bool) {
	return s.update(id, func(ss *Session) { ss.Company = c })
}

// Cleanup marks chat offline and releases the phone password; the session
// stays logged in.
func (s *Store) Cleanup(id string) (Session, bool) {
	return s.update(id, func(ss *Session) {
		ss.ChatOnline = false
		ss.PhonePassword = ""
	})
}

// ResetPhonePassword gives the session a new random phone password.
func (s *Store) ResetPhonePassword(id string) (Session, bool) {
	return s.update(id, func(ss *Session) { ss.PhonePassword = NewSecret() })
}

// Delete ends a session; an unknown id is not an error, so that logout always
// succeeds.
func (s *Store) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, id)
}

// Len returns the number of sessions held, expired ones not yet swept included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Sweep drops every expired session and returns how many it dropped.
func (s *Store) Sweep() int {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, ss := range s.sessions {
		if s.expired(ss, now) {
			delete(s.sessions, id)
			n++
		}
	}
	return n
}

// SweepEvery runs Sweep every interval until ctx ends; run it in a goroutine.
func (s *Store) SweepEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// update applies change to a live session, marks it used and returns a copy.
// An expired session is dropped and reported missing.
func (s *Store) update(id string, change func(*Session)) (Session, bool) {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions[id]
	if !ok {
		return Session{}, false
	}
	if s.expired(ss, now) {
		delete(s.sessions, id)
		return Session{}, false
	}
	change(ss)
	ss.LastUsed = now
	return *ss, true
}

func (s *Store) expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.LastUsed) >= s.IdleTimeout || now.Sub(ss.Created) >= s.MaxAge
}

// NewSecret returns 32 random bytes, base64url without padding: session ids
// and phone passwords that nobody can guess.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails; it crashes the program if the system has no randomness
	return base64.RawURLEncoding.EncodeToString(b)
}
