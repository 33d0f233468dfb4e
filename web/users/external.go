package users

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
)

// Lifetimes of external users, after the vendor's guide: "deleted 15 minutes
// after creation if unused" and "deleted shortly after logout".
const (
	// ExternalUnusedLife is how long an external user that never logged in
	// is kept.
	ExternalUnusedLife = 15 * time.Minute
	// ExternalAfterEnd is how long an external user with autodelete is kept
	// once a session of it has ended.
	ExternalAfterEnd = time.Minute
)

// ExternalLoginPrefix starts the generated login names of external users.
const ExternalLoginPrefix = "ext-"

// ErrUsedUp is the answer to a login of an external user whose login has
// ended: an external user logs in once.
var ErrUsedUp = errors.New("this external user is used up: it logs in only once, and its login has ended (logout or timeout); have a new one created")

// Externals holds the external users ("Using 'External' users" in the
// vendor's guide): guests that an administrator creates over the REST API
// for one chat, AV or file session. Each has a long generated login name and
// no password (any non-blank one is accepted), logs in once (once a session
// of it has ended it can never log in again), and is deleted 15 minutes after
// its creation if it never logs in, and a minute after its session ends if
// it was created with autodelete. Deletion happens when the user is next
// looked up, or at Sweep.
//
// Unlike the Directory it changes while the server runs, so it has a lock;
// it is safe for concurrent use. Its zero value is not usable; call
// NewExternals.
type Externals struct {
	// Now is the clock; tests and the server's -test-clock replace it. Set it
	// before the store is first used.
	Now func() time.Time

	static  *Directory
	mu      sync.Mutex
	lastID  int64
	byLogin map[string]*external
	byID    map[int64]*external
}

// external is the state of one external user.
type external struct {
	user       *User
	autodelete bool
	used       bool      // a session of it has been made
	ended      bool      // a session of it has ended: it may not log in again
	deleteAt   time.Time // when it goes; zero: it stays
}

// NewExternals returns an empty store whose users get ids above every id of
// static and logins that static does not have, so that the two can be looked
// up side by side.
func NewExternals(static *Directory) *Externals {
	return &Externals{
		Now:     time.Now,
		static:  static,
		lastID:  static.MaxID(),
		byLogin: map[string]*external{},
		byID:    map[int64]*external{},
	}
}

// Create makes an external user named name in company, with the permission
// to chat, and returns it. With autodelete it is deleted a minute after its
// session ends; in any case it is deleted 15 minutes after now if it has not
// logged in by then.
func (x *Externals) Create(name, company string, autodelete bool) *User {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	login := x.newLogin()
	x.lastID++
	u := newExternalUser(x.lastID, login, name, company)
	e := &external{user: u, autodelete: autodelete, deleteAt: now.Add(ExternalUnusedLife)}
	x.byLogin[login] = e
	x.byID[u.ID] = e
	return u
}

// newExternalUser returns an external user: in company, with the permission
// to chat.
func newExternalUser(id int64, login, name, company string) *User {
	return &User{
		ID: id, Login: login, Name: name, Company: company, Home: company,
		Perms: map[string]string{"chat": PermYes}, External: true,
	}
}

// newLogin returns "ext-" and 32 random hex digits, a login that no user has.
func (x *Externals) newLogin() string {
	for {
		b := make([]byte, 16)
		rand.Read(b) // never fails; it crashes the program if the system has no randomness
		login := ExternalLoginPrefix + hex.EncodeToString(b)
		if _, taken := x.static.ByLogin(login); !taken && x.byLogin[login] == nil {
			return login
		}
	}
}

// Has reports whether login names a live external user (never one of the
// directory: NewExternals keeps their logins apart).
func (x *Externals) Has(login string) bool {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.byLoginAt(login, now) != nil
}

// Authenticate returns the external user with this login. Any password is
// accepted but a blank one (the vendor refuses those, so clients send a dummy
// one) and one over MaxPasswordLen bytes (refused for every user). An unknown
// or deleted login, or a refused password, is ErrAuthFailed; a user whose
// login has ended is ErrUsedUp. It does not mark the user used: Begin does,
// when the session is made.
func (x *Externals) Authenticate(login, password string) (*User, error) {
	if strings.TrimSpace(password) == "" || len(password) > MaxPasswordLen {
		return nil, ErrAuthFailed
	}
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.byLoginAt(login, now)
	switch {
	case e == nil:
		return nil, ErrAuthFailed
	case e.ended:
		return nil, ErrUsedUp
	}
	return e.user, nil
}

// ByID returns the live external user with this id.
func (x *Externals) ByID(id int64) (*User, bool) {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.byIDAt(id, now)
	if e == nil {
		return nil, false
	}
	return e.user, true
}

// Begin records that a session of the external user id starts: it is no
// longer deleted for being unused. It fails with ErrUsedUp once a session of
// the user has ended, and with ErrAuthFailed when the user is gone.
func (x *Externals) Begin(id int64) error {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.byIDAt(id, now)
	switch {
	case e == nil:
		return ErrAuthFailed
	case e.ended:
		return ErrUsedUp
	}
	e.used = true
	e.deleteAt = time.Time{}
	return nil
}

// End records that a session of the user id has ended (logout, timeout, its
// token's death): the user may not log in again, and with autodelete it is
// deleted a minute from now. An id that is no external user's is ignored, so
// that every ending session can be reported.
func (x *Externals) End(id int64) {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.byIDAt(id, now)
	if e == nil || !e.used {
		return
	}
	if !e.ended && e.autodelete {
		e.deleteAt = now.Add(ExternalAfterEnd)
	}
	e.ended = true
}

// Len returns the number of external users held, those due for deletion but
// not yet swept included.
func (x *Externals) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.byID)
}

// SavedExternal is one external user as Snapshot returns it and Restore
// takes it. The JSON names are those of the server's state file (-state).
type SavedExternal struct {
	ID         int64     `json:"id"`
	Login      string    `json:"login"`
	Name       string    `json:"name"`
	Company    string    `json:"company"`
	Autodelete bool      `json:"autodelete"`
	Used       bool      `json:"used"`              // a session of it has been made
	Ended      bool      `json:"ended"`             // a session of it has ended: it may not log in again
	DeleteAt   time.Time `json:"deleteAt,omitzero"` // when it goes; zero (absent): it stays
}

// SavedExternals is the state of an Externals: its users and the last id it
// gave, so that ids are not given twice across a restart.
type SavedExternals struct {
	LastID int64           `json:"lastId"`
	Users  []SavedExternal `json:"users"`
}

// Snapshot returns the store's state, users due for deletion but not yet
// swept included, for Restore to take after a restart.
func (x *Externals) Snapshot() SavedExternals {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := SavedExternals{LastID: x.lastID, Users: make([]SavedExternal, 0, len(x.byID))}
	for _, e := range x.byID {
		u := e.user
		out.Users = append(out.Users, SavedExternal{
			ID: u.ID, Login: u.Login, Name: u.Name, Company: u.Company,
			Autodelete: e.autodelete, Used: e.used, Ended: e.ended, DeleteAt: e.deleteAt,
		})
	}
	return out
}

// Restore adds the users of a Snapshot, replacing any held with the same id,
// and returns how many it kept: those whose time has come by the store's
// clock are dropped, and so are those whose id or login a user of the
// directory has (the users file changed) or another user held has. New users get ids above every id
// it has seen.
func (x *Externals) Restore(saved SavedExternals) int {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.lastID = max(x.lastID, saved.LastID)
	n := 0
	for _, se := range saved.Users {
		_, idTaken := x.static.ByID(se.ID)
		_, loginTaken := x.static.ByLogin(se.Login)
		if o := x.byLogin[se.Login]; o != nil && o.user.ID != se.ID {
			loginTaken = true
		}
		if idTaken || loginTaken || !se.DeleteAt.IsZero() && !now.Before(se.DeleteAt) {
			continue
		}
		u := newExternalUser(se.ID, se.Login, se.Name, se.Company)
		if old := x.byID[u.ID]; old != nil {
			delete(x.byLogin, old.user.Login)
		}
		e := &external{user: u, autodelete: se.Autodelete, used: se.Used, ended: se.Ended, deleteAt: se.DeleteAt}
		x.byID[u.ID] = e
		x.byLogin[u.Login] = e
		x.lastID = max(x.lastID, u.ID)
		n++
	}
	return n
}

// Sweep deletes every external user whose time has come and returns how many
// it deleted.
func (x *Externals) Sweep() int {
	now := x.Now()
	x.mu.Lock()
	defer x.mu.Unlock()
	n := 0
	for id := range x.byID {
		if x.byIDAt(id, now) == nil {
			n++
		}
	}
	return n
}

// byLoginAt returns the external user with this login, deleting it first if
// its time has come. It runs under x.mu.
func (x *Externals) byLoginAt(login string, now time.Time) *external {
	e := x.byLogin[login]
	if e == nil {
		return nil
	}
	return x.byIDAt(e.user.ID, now)
}

// byIDAt returns the external user with this id, deleting it first if its
// time has come. It runs under x.mu.
func (x *Externals) byIDAt(id int64, now time.Time) *external {
	e := x.byID[id]
	if e == nil {
		return nil
	}
	if !e.deleteAt.IsZero() && !now.Before(e.deleteAt) {
		delete(x.byID, id)
		delete(x.byLogin, e.user.Login)
		return nil
	}
	return e
}
