// Package testclock is the clock of the local PBX server's -test-clock flag.
//
// It runs with the real clock from the real time, and a test moves it
// forward with POST /test/clock, so that end-to-end tests can watch
// sessions, login tokens and external users expire without waiting a day.
//
// It is for tests only, never for a server anyone relies on: whoever can
// reach the server can move its clock, and so end every login on it.
package testclock

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/jsonreply"
	"github.com/pbxauth/pbxauth/web/internal/strictjson"
)

// Path is where the server serves the clock when it runs on one.
const Path = "/test/clock"

// maxBody bounds a request; {"advance": "..."} is a few dozen bytes.
const maxBody = 1 << 10

// Clock is the real clock plus an offset that only grows. It is safe for
// concurrent use; its zero value is the real clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	real   func() time.Time // nil: time.Now; tests replace it
}

// New returns a clock at the real time.
func New() *Clock { return &Clock{} }

// Now returns the real time plus every advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.realNow().Add(c.offset)
}

// Offset returns how far the clock is ahead of the real one: the sum of every
// advance so far. A restarted server gives it to its new clock with Advance.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Advance moves the clock forward by d and returns the new time. A clock
// never goes back: d must not be negative.
func (c *Clock) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("advance %s: the clock moves forward only; give a positive duration such as \"25h\"", d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	return c.realNow().Add(c.offset), nil
}

func (c *Clock) realNow() time.Time {
	if c.real != nil {
		return c.real()
	}
	return time.Now()
}

// request is the body of POST /test/clock.
type request struct {
	// Advance is a Go duration, "25h" or "90m"; "" moves nothing, so that
	// {} reads the clock.
	Advance string `json:"advance"`
}

// reply is the answer: the clock's time after the advance, in milliseconds
// since the Unix epoch, as JavaScript's Date.
type reply struct {
	Now int64 `json:"now"`
}

// ServeHTTP serves POST /test/clock: {"advance": "25h"} moves the clock and
// answers {"now": MS}. Failures are the REST contract's "fail" replies.
func (c *Clock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		jsonreply.Write(w, http.StatusMethodNotAllowed, failure(wire.CodeMethodNotAllowed, "use POST, not "+r.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		jsonreply.Write(w, http.StatusUnsupportedMediaType, failure(wire.CodeUnsupportedMedia, "send the body as Content-Type: application/json"))
		return
	}
	var req request
	err := strictjson.Decode(http.MaxBytesReader(w, r.Body, maxBody), &req)
	if errors.Is(err, strictjson.ErrTrailingData) {
		err = errors.New("send one JSON object; there is more after it")
	}
	if err != nil {
		jsonreply.Write(w, http.StatusBadRequest, failure(wire.CodeBadRequest, `the body must be {"advance": "25h"}: `+err.Error()))
		return
	}
	var d time.Duration
	if req.Advance != "" {
		if d, err = time.ParseDuration(req.Advance); err != nil {
			jsonreply.Write(w, http.StatusBadRequest, failure(wire.CodeBadRequest, `"advance" must be a Go duration such as "25h" or "90m": `+err.Error()))
			return
		}
	}
	now, err := c.Advance(d)
	if err != nil {
		jsonreply.Write(w, http.StatusBadRequest, failure(wire.CodeBadRequest, err.Error()))
		return
	}
	jsonreply.Write(w, http.StatusOK, reply{Now: now.UnixMilli()})
}

func failure(code, message string) *wire.Response {
	return &wire.Response{Result: wire.ResultFail, Error: &wire.Error{Code: code, Message: message}}
}

// Manual is a clock for unit tests that moves only when told: Now stays
// where it is until Add. (Clock instead follows the real time from an
// offset, for a running server.)
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock at start.
func NewManual(start time.Time) *Manual { return &Manual{now: start} }

// Now returns the clock's time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock forward by d.
func (c *Manual) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
