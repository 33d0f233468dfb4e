package auth

import (
	"context"
	"strconv"
	"sync"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// SubIDKey is where the sub-ID is kept in Config.Session (sessionStorage in a
// browser), so that a tab keeps its sub-ID across reloads.
const SubIDKey = "IPCortex.PBX.Auth.subid"

// subIDBytes of randomness: 128 bits, as hex.
const subIDBytes = 16

// SubID returns the active sub-ID, or "" if calls are not qualified.
func (c *Client) SubID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.subID
}

// GetSubID returns this tab's sub-ID and activates it: the one kept in
// Config.Session if there is one, else a new random one that is then kept.
// Repeated calls return the same value.
func (c *Client) GetSubID() (string, error) {
	v, ok, err := c.cfg.Session.Get(SubIDKey)
	if err != nil {
		return "", &Error{Code: CodeBadOption, Message: "Client.GetSubID: cannot read the session storage", Err: err}
	}
	if !ok || !wire.ValidSubID(v) {
		if v, err = c.newSubID(); err != nil {
			return "", err
		}
	}
	if err := c.SetSubID(v); err != nil {
		return "", err
	}
	return v, nil
}

// SetSubID activates a given sub-ID and keeps it in Config.Session: from now
// on every call is qualified with it, so this client's login is independent
// of those under other sub-IDs. A different sub-ID forgets the user, in the
// queue's order, as SetHost does.
func (c *Client) SetSubID(s string) error {
	if !wire.ValidSubID(s) {
		return subIDError(s)
	}
	if err := c.cfg.Session.Set(SubIDKey, s); err != nil {
		return &Error{Code: CodeBadOption, Message: "subid: cannot write the session storage", Err: err}
	}
	c.mu.Lock()
	changed := c.subID != s
	c.subID = s
	c.mu.Unlock()
	if changed {
		// The login we knew belongs to the previous sub-ID: forget it, after
		// the calls made under that sub-ID.
		c.enqueue(context.Background(), Call{kind: kindReset})
	}
	return nil
}

func (c *Client) newSubID() (string, error) {
	if c.cfg.Random == nil {
		return "", newError(CodeBadOption, "Client.GetSubID: no random source is configured (Config.Random)")
	}
	b := make([]byte, subIDBytes)
	if err := c.cfg.Random(b); err != nil {
		return "", &Error{Code: CodeBadOption, Message: "Client.GetSubID: the random source failed", Err: err}
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, hex[x>>4], hex[x&15])
	}
	return string(out), nil
}

func subIDError(s string) *Error {
	return newError(CodeBadOption, "Options.SubID: "+strconv.Quote(clip(s))+" is not valid; use 1 to "+strconv.Itoa(wire.MaxSubIDLen)+" letters, digits, '-' or '_', or call Client.GetSubID for a random one")
}

// MemoryStorage is a Storage in memory, for Go programs and tests.
type MemoryStorage struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{m: map[string]string{}} }

// Get returns the value kept under key.
func (s *MemoryStorage) Get(key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Set keeps value under key.
func (s *MemoryStorage) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Remove forgets key.
func (s *MemoryStorage) Remove(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}
