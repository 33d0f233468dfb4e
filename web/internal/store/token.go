package store

import (
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// Default caps of Tokens, as web/PROTOCOL.md states them.
const (
	DefaultMaxTokensPerUser = 100
	DefaultMaxTokens        = 100_000
)

// Lifetimes of the token classes, as web/PROTOCOL.md states them.
const (
	// FixedLife is how long a token of the default class lives, whatever its use.
	FixedLife = 24 * time.Hour
	// RefreshableIdle is how long a refreshable token lives without use.
	RefreshableIdle = 24 * time.Hour
	// LongLoginIdle is how long a longLogin token lives without use.
	LongLoginIdle = 7 * 24 * time.Hour
)

// ValidTokenClass reports whether class is a token class a login may ask
// for: "", wire.TokenRefreshable or wire.TokenLongLogin.
func ValidTokenClass(class string) bool {
	return class == "" || class == wire.TokenRefreshable || class == wire.TokenLongLogin
}

// Token is one login token. Tokens hands out copies. The JSON names are
// those of the server's state file (-state).
type Token struct {
	// Value is 32 random bytes, base64url: what the client keeps and presents.
	// Never logged.
	Value  string `json:"value"`
	UserID int64  `json:"userId"`
	// Class is "", wire.TokenRefreshable or wire.TokenLongLogin.
	Class string `json:"class"`
	// Origin is the application origin the token belongs to ("" for a login
	// without one, such as curl's); only a login from it may use the token.
	Origin   string    `json:"origin"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"lastUsed"`
}

// Expires is when the token dies unless it is used before: for the default
// class a day after its creation whatever happens, for the others a day or a
// week after its last use.
func (t Token) Expires() time.Time {
	switch t.Class {
	case wire.TokenRefreshable:
		return t.LastUsed.Add(RefreshableIdle)
	case wire.TokenLongLogin:
		return t.LastUsed.Add(LongLoginIdle)
	}
	return t.Created.Add(FixedLife)
}

// Wire is the token as a reply carries it: its value and its expiry in
// milliseconds since the Unix epoch.
func (t Token) Wire() *wire.Token {
	return &wire.Token{Value: t.Value, Expires: t.Expires().UnixMilli()}
}

func (t *Token) deadAt(now time.Time) bool {
	return !now.Before(t.Expires())
}

// Tokens holds the local PBX server's login tokens: the vendor's API
// tokens, which let a login outlive its session (a page reload, a closed
// browser) without asking for the password again.
//
// A login with a username and a password makes one (unless it asks for
// none), bound to the user and to the origin of the application that logged
// in; a token login presents it to start a new session. How long a token
// lives depends on its class, the login's "application":
//
//   - "" (the default): 24 hours from its creation, used or not; then the
//     user must log in again, which is what the vendor's "forces a logout"
//     means;
//   - "refreshable": until a day passes without use;
//   - "longLogin": until a week passes without use.
//
// A use is a token login, or any call of a session made from the token.
// Dead tokens are dropped when they are looked up and by Sweep.
//
// A user holds at most MaxPerUser tokens, and the store MaxTokens in all: a
// new token over either cap kills the oldest (of the user, or of all), and
// with it the sessions made from it. Tokens are found by the Digest of
// their value, so that the time a lookup takes says nothing of how much of
// a token an attacker got right.
//
// Its zero value is not usable; call NewTokens. Set the fields before the
// store is first used.
type Tokens struct {
	// Now is the clock; tests and the server's -test-clock replace it.
	Now func() time.Time
	// MaxPerUser caps the tokens of one user, MaxTokens those of all users:
	// a new token over a cap kills the oldest, of its user or of all. 0 or
	// less: no cap.
	MaxPerUser int
	MaxTokens  int

	mu     sync.Mutex
	tokens *ownedMap[Digest, *Token] // by the digest of their value
}

// NewTokens returns an empty store with the default caps, on the real clock.
func NewTokens() *Tokens {
	return &Tokens{Now: time.Now, MaxPerUser: DefaultMaxTokensPerUser, MaxTokens: DefaultMaxTokens,
		tokens: newOwnedMap[Digest, *Token]()}
}

// Create makes a token for a user that has just logged in. class must pass
// ValidTokenClass; an unknown one lives as the default class does. Over
// MaxPerUser or MaxTokens, the oldest tokens die (and the sessions made from
// them end when next looked at: see Sessions).
func (s *Tokens) Create(userID int64, class, origin string) Token {
	now := s.Now()
	t := &Token{Value: NewSecret(), UserID: userID, Class: class, Origin: origin, Created: now, LastUsed: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(t)
	return *t
}

// add holds t, over the caps killing the oldest. It runs under s.mu.
func (s *Tokens) add(t *Token) {
	s.tokens.Add(DigestOf(t.Value), t.UserID, t, bounds{PerOwner: s.MaxPerUser, Total: s.MaxTokens})
}

// Get returns the live token with this value without counting a use, so
// that a login can check whom and which origin it belongs to before it uses
// it.
func (s *Tokens) Get(value string) (Token, bool) {
	return s.lookup(value, false)
}

// Use returns the live token with this value and counts a use of it, which
// keeps a refreshable or longLogin token alive.
func (s *Tokens) Use(value string) (Token, bool) {
	return s.lookup(value, true)
}

// Alive reports whether the token with this value lives, without counting a
// use.
func (s *Tokens) Alive(value string) bool {
	_, ok := s.lookup(value, false)
	return ok
}

func (s *Tokens) lookup(value string, use bool) (Token, bool) {
	now := s.Now()
	k := DigestOf(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.Get(k)
	if !ok {
		return Token{}, false
	}
	if t.deadAt(now) {
		s.tokens.Delete(k)
		return Token{}, false
	}
	if use {
		t.LastUsed = now
	}
	return *t, true
}

// Revoke kills a token at once and reports whether it was alive; an unknown
// value is not an error, so that logout always succeeds.
func (s *Tokens) Revoke(value string) bool {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens.Delete(DigestOf(value))
	return ok && !t.deadAt(now)
}

// Len returns the number of tokens held, dead ones not yet swept included.
func (s *Tokens) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens.Len()
}

// Count returns the number of tokens held for a user, dead ones not yet
// swept included.
func (s *Tokens) Count(userID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens.Owned(userID)
}

// Snapshot returns a copy of every token held, dead ones not yet swept
// included, for Restore to take after a restart.
func (s *Tokens) Snapshot() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.tokens.Values()
	out := make([]Token, 0, len(all))
	for _, t := range all {
		out = append(out, *t)
	}
	return out
}

// Restore adds tokens that Snapshot returned, replacing any held with the
// same value, and returns how many it kept: those dead by the store's clock
// are dropped, and over the caps those created first.
func (s *Tokens) Restore(list []Token) int {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range list {
		if !t.deadAt(now) {
			s.add(&t)
		}
	}
	held := map[Digest]bool{} // a value given twice is held once
	for _, t := range list {
		if _, ok := s.tokens.Get(DigestOf(t.Value)); ok {
			held[DigestOf(t.Value)] = true
		}
	}
	return len(held)
}

// Sweep drops every dead token and returns how many it dropped.
func (s *Tokens) Sweep() int {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens.DeleteFunc(func(t *Token) bool { return t.deadAt(now) }))
}
