package backend_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/backend"
)

// seenTransport records the deadline and the request it was given, and
// answers at once, or fails as if its own timer had fired.
type seenTransport struct {
	timeOut  bool
	deadline bool
	req      *backend.Request
}

func (s *seenTransport) Do(ctx context.Context, req *backend.Request) (*backend.Response, error) {
	_, s.deadline = ctx.Deadline()
	s.req = req
	if s.timeOut {
		return nil, context.DeadlineExceeded
	}
	return &backend.Response{Status: 200}, nil
}

func TestTargetDoGivesTheDeadline(t *testing.T) {
	for _, self := range []bool{false, true} {
		tr := &seenTransport{}
		at := backend.Target{Host: "https://pbx", Transport: tr, Timeout: 3 * time.Second, SelfTimed: self}
		_, err := at.Do(context.Background(), &backend.Request{Method: "POST", URL: "https://pbx/rest/auth/"})
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, tr.req.Timeout, "the request carries the deadline (self-timed %v)", self)
		assert.Equal(t, !self, tr.deadline, "a Go deadline only for a transport that does not keep it itself (self-timed %v)", self)
	}

	tr := &seenTransport{timeOut: true}
	_, err := backend.Target{Host: "https://pbx", Transport: tr, Timeout: time.Second, SelfTimed: true}.Do(context.Background(), &backend.Request{})
	assert.Equal(t, backend.CodeTimeout, backend.CodeOf(err), "the transport's own timeout is a timeout: %v", err)
}

func TestIsSelfTimed(t *testing.T) {
	assert.True(t, backend.IsSelfTimed(backend.SelfTimed{Transport: &seenTransport{}}))
	assert.False(t, backend.IsSelfTimed(&seenTransport{}))
	assert.False(t, backend.IsSelfTimed(nil))
}
