// Package throttle slows down and then refuses whoever keeps failing to log in.
//
// A Throttle counts the failed attempts of each key (a login name, a client
// address) and, past a number of free ones, makes the key wait before its
// next attempt, a wait that doubles with each further failure up to a
// maximum. The server refuses an attempt made during the wait (HTTP 429
// with Retry-After) without checking the password, so that guessing is
// slow and costs the server nothing.
//
// An attempt counts as a failure from the moment it is let through, so that
// a thousand attempts sent at once do not all pass while none has failed
// yet; a success then takes it back (Undo) or clears the key (Forget).
package throttle

import (
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/store"
)

// Policy says how a Throttle treats each key.
type Policy struct {
	// Free is how many failures in a row a key may have without waiting.
	Free int
	// First is the wait after the first failure past Free; each further
	// failure doubles it, up to Max.
	First, Max time.Duration
	// Forget: a key whose last failure is this old, and whose wait is over,
	// starts again from no failures.
	Forget time.Duration
}

// wait is the wait after the n-th failure.
func (p Policy) wait(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	w := p.First
	for i := p.Free + 1; i < n && w < p.Max; i++ {
		w *= 2
	}
	return min(w, p.Max)
}

// DefaultMaxKeys bounds the keys a Throttle remembers: login names are the
// caller's to choose, and an attacker could send a new one with every
// attempt.
const DefaultMaxKeys = 100_000

// Throttle counts failures by key. Make it with New; it is safe for
// concurrent use.
type Throttle struct {
	policy  Policy
	now     func() time.Time
	maxKeys int

	mu   sync.Mutex
	keys map[store.Digest]*state // by the digest of the key: keys may be long
}

// state is what a Throttle knows of one key.
type state struct {
	failures int       // in a row, the attempts let through included
	last     time.Time // of the last failure
	before   time.Time // of the failure before it, for Undo
	until    time.Time // no attempt before this
}

// New returns a throttle with policy p on the clock now (nil: time.Now),
// remembering at most maxKeys keys (0 or less: DefaultMaxKeys); past that,
// the key whose last failure is oldest is forgotten first.
func New(p Policy, now func() time.Time, maxKeys int) *Throttle {
	if now == nil {
		now = time.Now
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Throttle{policy: p, now: now, maxKeys: maxKeys, keys: map[store.Digest]*state{}}
}

// Attempt lets an attempt of key through, counting it as a failure until
// Undo or Forget says otherwise, and returns its number in the key's run of
// failures (1 for the first); or, when the key must still wait, refuses it,
// counts nothing and returns how long the wait still lasts.
func (t *Throttle) Attempt(key string) (n int, wait time.Duration) {
	k := store.DigestOf(key)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.keys[k]; st != nil && now.Before(st.until) {
		return st.failures, st.until.Sub(now)
	}
	return t.count(k, now), 0
}

// Wait returns how long key must still wait before its next attempt, 0 if
// it need not; it counts nothing. It is for attempts that cost nothing to
// check (an API key), with Fail for those that fail.
func (t *Throttle) Wait(key string) time.Duration {
	k := store.DigestOf(key)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.keys[k]; st != nil && now.Before(st.until) {
		return st.until.Sub(now)
	}
	return 0
}

// Fail counts a failure of key, and returns its number in the key's run of
// failures.
func (t *Throttle) Fail(key string) int {
	k := store.DigestOf(key)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count(k, now)
}

// count counts a failure of the key of digest k at now, and sets its wait.
// It runs under t.mu.
func (t *Throttle) count(k store.Digest, now time.Time) int {
	st := t.keys[k]
	if st == nil || now.Sub(st.last) >= t.policy.Forget && !now.Before(st.until) {
		if st == nil && len(t.keys) >= t.maxKeys {
			t.evict(now)
		}
		st = &state{}
		t.keys[k] = st
	}
	st.failures++
	st.before, st.last = st.last, now
	st.until = now.Add(t.policy.wait(st.failures))
	return st.failures
}

// Undo takes back one attempt that Attempt let through and that did not
// fail; the wait it caused, if any, goes with it, and the wait of the
// failure before it holds again.
func (t *Throttle) Undo(key string) {
	k := store.DigestOf(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.keys[k]
	if st == nil {
		return
	}
	if st.failures--; st.failures <= 0 {
		delete(t.keys, k)
		return
	}
	st.last = st.before
	st.until = st.last.Add(t.policy.wait(st.failures))
}

// Forget clears key: a user who has logged in starts again from no
// failures.
func (t *Throttle) Forget(key string) {
	k := store.DigestOf(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, k)
}

// Sweep forgets the keys whose last failure is older than the policy's
// Forget and whose wait is over, and returns how many.
func (t *Throttle) Sweep() int {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, st := range t.keys {
		if t.stale(st, now) {
			delete(t.keys, k)
			n++
		}
	}
	return n
}

// Len returns the number of keys remembered.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

func (t *Throttle) stale(st *state, now time.Time) bool {
	return now.Sub(st.last) >= t.policy.Forget && !now.Before(st.until)
}

// evict makes room for a key: it drops the stale keys or, if none is, the
// one whose last failure is oldest. It runs under t.mu.
func (t *Throttle) evict(now time.Time) {
	var oldest store.Digest
	var at time.Time
	found := false
	for k, st := range t.keys {
		if t.stale(st, now) {
			delete(t.keys, k)
			continue
		}
		if !found || st.last.Before(at) {
			oldest, at, found = k, st.last, true
		}
	}
	if len(t.keys) >= t.maxKeys && found {
		delete(t.keys, oldest)
	}
}
