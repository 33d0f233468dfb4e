package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/wire"
)

// held performs every exchange at once, but holds back the answers to the
// requests that hold picks until release is closed: the answer to a call sent
// before a login arrives after it.
type held struct {
	auth.Transport
	hold    func(*auth.Request) bool
	sent    chan struct{}
	release chan struct{}
}

func (h *held) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	resp, err := h.Transport.Do(ctx, req)
	if h.hold(req) {
		h.sent <- struct{}{}
		<-h.release
	}
	return resp, err
}

func isCheck(req *auth.Request) bool {
	return strings.HasSuffix(req.URL, wire.PathLogin) && !strings.Contains(string(req.Body), `"username"`)
}

func isLogout(req *auth.Request) bool { return strings.HasSuffix(req.URL, wire.PathLogout) }

// holding returns a client whose answers to the calls hold picks are held.
func holding(t *testing.T, hold func(*auth.Request) bool) (*fixture, *held) {
	srv := startPBX(t)
	base := newFixture(t, srv, nil)
	h := &held{Transport: base.tr, hold: hold, sent: make(chan struct{}, 1), release: make(chan struct{})}
	return newFixture(t, srv, base.tr, func(c *auth.Config) { c.Transport = h }), h
}

// TestAnOldCheckDoesNotUndoALogin: a page checks the login on load, the user
// logs in before the check's answer arrives; the answer ("not logged in") is
// older than the login and must not clear the properties.
func TestAnOldCheckDoesNotUndoALogin(t *testing.T) {
	f, held := holding(t, isCheck)

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

// TestAnOldLogoutDoesNotUndoALogin: the server saw the logout first and then
// the login, so the user is logged in, whichever answer arrives first.
func TestAnOldLogoutDoesNotUndoALogin(t *testing.T) {
	f, held := holding(t, isLogout)
	loginAs(t, f.c, "bob", "builder")

	done := make(chan error, 1)
	go func() { done <- f.c.Logout(ctx) }()
	<-held.sent
	require.NoError(t, f.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}))
	close(held.release)
	require.NoError(t, <-done)

	assert.Equal(t, alice, f.c.User(), "the login was sent last, so it stands")
	require.NoError(t, f.c.Login(ctx, auth.Options{CheckOnly: true}), "and the server agrees")
	assert.Equal(t, alice, f.c.User())
}

// TestAnAnswerForTheOldSubIDIsDropped: a check under the shared login is on
// its way when the page isolates its tab; its answer (alice, the shared
// login) does not belong to the new sub-ID's login, which has none.
func TestAnAnswerForTheOldSubIDIsDropped(t *testing.T) {
	f, held := holding(t, isCheck)
	other := newFixture(t, f.srv, f.tr)
	loginAs(t, other.c, "alice", "wonderland") // the login tabs without a sub-ID share

	done := make(chan error, 1)
	go func() { done <- f.c.Login(ctx, auth.Options{CheckOnly: true}) }()
	<-held.sent
	require.NoError(t, f.c.SetSubID("isolated"))
	close(held.release)
	require.NoError(t, <-done, "the check succeeded for the sub-ID it was sent under")

	assert.Nil(t, f.c.User(), "but its answer is not this sub-ID's login")
	assert.Zero(t, f.clk.Pending())
}
