package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
)

// heldChecks performs every exchange at once, but holds back the answers to
// checks (a login without credentials) until release is closed: the answer
// to a check sent before a login arrives after it.
type heldChecks struct {
	auth.Transport
	sent    chan struct{}
	release chan struct{}
}

func (h *heldChecks) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	resp, err := h.Transport.Do(ctx, req)
	if strings.Contains(string(req.Body), `"username"`) || !strings.Contains(string(req.Body), `{"type":"auth"}`) {
		return resp, err
	}
	h.sent <- struct{}{}
	<-h.release
	return resp, err
}

// TestAnOldCheckDoesNotUndoALogin: a page checks the login on load, the user
// logs in before the check's answer arrives; the answer ("not logged in") is
// older than the login and must not clear the properties.
func TestAnOldCheckDoesNotUndoALogin(t *testing.T) {
	srv := startPBX(t)
	base := newFixture(t, srv, nil)
	held := &heldChecks{Transport: base.tr, sent: make(chan struct{}, 1), release: make(chan struct{})}
	f := newFixture(t, srv, base.tr, func(c *auth.Config) { c.Transport = held })

	checked := make(chan error, 1)
	go func() { checked <- f.c.Login(ctx, auth.Options{CheckOnly: true}) }()
	<-held.sent // the check has its answer: not logged in

	require.NoError(t, f.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	close(held.release)

	err := <-checked
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err), "the check answers for when it was asked")
	assert.Equal(t, alice, f.c.User(), "but the newer login stands")
	assert.Equal(t, alice, f.seen.last(t), "and OnChange was not told otherwise")
	assert.Equal(t, 1, f.clk.Pending(), "the refresh of the login is still scheduled")
}
