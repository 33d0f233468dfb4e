package pbx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

// StateVersion is the version of the state file's format (the "version" of
// its JSON object); LoadState refuses any other.
const StateVersion = 1

// state is the state file: what the server keeps across a restart.
type state struct {
	Version int `json:"version"`
	// TestClock is how far the test clock was ahead of the real one, a Go
	// duration; absent: it was not ahead (or there was none).
	TestClock string               `json:"testClock,omitempty"`
	Sessions  []savedSession       `json:"sessions"`
	Tokens    []savedToken         `json:"tokens"`
	Externals users.SavedExternals `json:"externals"`
}

// savedSession and savedToken carry their user's login beside the user id,
// so that those whose id now names another user (the users file changed)
// are dropped rather than handed to that user.
type savedSession struct {
	store.Session
	Login string `json:"login"`
}

type savedToken struct {
	store.Token
	Login string `json:"login"`
}

// SaveState writes the server's sessions, login tokens and external users,
// and the test clock's offset, to file as JSON (web/PROTOCOL.md, "The state
// file"): to a temporary file of mode 0600 in the same directory, renamed
// over file once complete, so that file is always whole. It sweeps first, so
// that what has already ended is not kept. The file holds session ids and
// tokens, with which whoever reads it can act as their users. Call it once
// the server has stopped serving (after Shutdown).
func (s *Server) SaveState(file string) error {
	s.Sweep()
	st := state{Version: StateVersion, Sessions: []savedSession{}, Tokens: []savedToken{}, Externals: s.externals.Snapshot()}
	if s.testClock != nil && s.testClock.Offset() != 0 {
		st.TestClock = s.testClock.Offset().String()
	}
	for _, ss := range s.sessions.Snapshot() {
		st.Sessions = append(st.Sessions, savedSession{ss, s.loginOf(ss.UserID)})
	}
	for _, t := range s.tokens.Snapshot() {
		st.Tokens = append(st.Tokens, savedToken{t, s.loginOf(t.UserID)})
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("state file %s: %w", file, err)
	}
	if err := writeFile(file, append(data, '\n')); err != nil {
		return fmt.Errorf("state file %s: %w", file, err)
	}
	s.log.Printf("state: saved to %s: %d session(s), %d login token(s), %d external user(s)",
		file, len(st.Sessions), len(st.Tokens), len(st.Externals.Users))
	return nil
}

// writeFile writes data to a new temporary file of mode 0600 beside file and
// renames it to file.
func writeFile(file string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// CheckStateDir reports whether SaveState will be able to write file, by
// making and removing a temporary file beside it, so that a server can
// refuse to start rather than lose its state when it stops.
func CheckStateDir(file string) error {
	f, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return fmt.Errorf("state file %s cannot be written: %w", file, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// LoadState reads what SaveState wrote to file into the server, which must
// be new and not yet serving. A file that does not exist is no error: the
// server starts empty. A file that is not a state file of StateVersion is
// an error that names it. What has ended by the server's clock, and the
// sessions and tokens whose user is gone or whose user id now names another
// login, are dropped. The test clock is moved forward by the saved offset;
// an offset without a test clock is an error.
func (s *Server) LoadState(file string) error {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Printf("state: %s does not exist yet; starting empty", file)
		return nil
	}
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	st, offset, err := decodeState(data)
	if err != nil {
		return fmt.Errorf("state file %s is corrupt: %w; fix it, or remove it to start empty", file, err)
	}
	if offset > 0 {
		if s.testClock == nil {
			return fmt.Errorf("state file %s was saved by a server on the test clock, %s ahead of the real one; start with -test-clock, or remove the file", file, offset)
		}
		_, _ = s.testClock.Advance(offset) // offset >= 0: no error
	}
	nx := s.externals.Restore(st.Externals)
	var toks []store.Token
	for _, t := range st.Tokens {
		if s.userIs(t.UserID, t.Login) {
			toks = append(toks, t.Token)
		}
	}
	nt := s.tokens.Restore(toks)
	var sessions []store.Session
	for _, ss := range st.Sessions {
		if s.userIs(ss.UserID, ss.Login) {
			sessions = append(sessions, ss.Session)
		}
	}
	ns := s.sessions.Restore(sessions)
	dropped := len(st.Sessions) + len(st.Tokens) + len(st.Externals.Users) - ns - nt - nx
	s.log.Printf("state: restored from %s: %d session(s), %d login token(s), %d external user(s); dropped %d that had ended or whose user is gone",
		file, ns, nt, nx, dropped)
	return nil
}

// userIs reports whether the user with this id lives and has this login.
func (s *Server) userIs(id int64, login string) bool {
	u, ok := s.user(id)
	return ok && u.Login == login
}

// loginOf is the login of the user with this id, "" for none.
func (s *Server) loginOf(id int64) string {
	if u, ok := s.user(id); ok {
		return u.Login
	}
	return ""
}

// decodeState reads a state file: one JSON object of version StateVersion,
// without unknown fields, whose entries have their ids. It returns the test
// clock's offset apart.
func decodeState(data []byte) (st state, offset time.Duration, err error) {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil { // also refuses data after the object
		return st, 0, err
	}
	switch {
	case v.Version == nil:
		return st, 0, errors.New(`it has no "version"`)
	case *v.Version != StateVersion:
		return st, 0, fmt.Errorf("it is of version %d, and this server reads version %d", *v.Version, StateVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, 0, err
	}
	if st.TestClock != "" {
		if offset, err = time.ParseDuration(st.TestClock); err != nil || offset < 0 {
			return st, 0, fmt.Errorf(`"testClock" %q is not a Go duration of 0 or more`, st.TestClock)
		}
	}
	for i, ss := range st.Sessions {
		if ss.ID == "" {
			return st, 0, fmt.Errorf(`session %d has no "id"`, i+1)
		}
	}
	for i, t := range st.Tokens {
		if t.Value == "" {
			return st, 0, fmt.Errorf(`login token %d has no "value"`, i+1)
		}
	}
	for i, x := range st.Externals.Users {
		if x.ID <= 0 || x.Login == "" {
			return st, 0, fmt.Errorf(`external user %d has no "id" or no "login"`, i+1)
		}
	}
	return st, offset, nil
}
