package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
)

// waitingPrompt is an overlay whose person never types: it waits until its
// context ends, as the browser's overlay does, or until it is given an
// answer.
type waitingPrompt struct {
	shown  chan struct{}
	answer chan auth.PromptResult
	ended  chan error
}

func newWaitingPrompt() *waitingPrompt {
	return &waitingPrompt{shown: make(chan struct{}, 4), answer: make(chan auth.PromptResult, 1), ended: make(chan error, 4)}
}

func (p *waitingPrompt) Prompt(ctx context.Context, r auth.PromptRequest) (auth.PromptResult, error) {
	p.shown <- struct{}{}
	select {
	case res := <-p.answer:
		return res, nil
	case <-ctx.Done():
		p.ended <- ctx.Err()
		return auth.PromptResult{}, ctx.Err()
	}
}

// settle waits for a call with a deadline, so that a call that waits behind
// the person fails the test instead of hanging it.
func settle(t *testing.T, p *auth.Pending) error {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := p.Wait(wctx)
	require.NotEqual(t, auth.CodeNetwork, auth.CodeOf(err), "the call waited behind the overlay: %v", err)
	return err
}

func showOverlay(t *testing.T, f *fixture, pr *waitingPrompt) *auth.Pending {
	t.Helper()
	p := f.c.Start(ctx, auth.LoginCall(auth.Options{}))
	select {
	case <-pr.shown:
	case <-time.After(20 * time.Second):
		t.Fatal("login() did not show the overlay")
	}
	return p
}

func TestCallsDuringTheOverlayDoNotWaitForThePerson(t *testing.T) {
	srv := startPBX(t)
	pr := newWaitingPrompt()
	f := pageLoad(t, srv, auth.NewMemoryStorage(), func(c *auth.Config) { c.Prompt = pr })
	overlay := showOverlay(t, f, pr)

	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(settle(t, f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true})))),
		"a check answers at once: nobody is logged in yet")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(settle(t, f.c.Start(ctx, auth.RTCResetCall(false)))))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(settle(t, f.c.Start(ctx, auth.CompanyCall("acme")))))
	assert.Same(t, overlay, f.c.Start(ctx, auth.LoginCall(auth.Options{})), "a second login() joins the overlay's")
	select {
	case err := <-pr.ended:
		t.Fatalf("none of those may close the overlay; it ended with %v", err)
	default:
	}

	logout := f.c.Start(ctx, auth.LogoutCall())
	err := settle(t, overlay)
	assert.Equal(t, auth.CodePopupClosed, auth.CodeOf(err), "a logout closes the overlay: %v", err)
	assert.Contains(t, err.Error(), "logout")
	require.NoError(t, settle(t, logout), "then the logout runs")
	assert.Error(t, <-pr.ended, "the overlay was told to close")
	assert.Nil(t, f.c.User())
}

func TestALoginWithAPasswordEndsTheOverlay(t *testing.T) {
	srv := startPBX(t)
	pr := newWaitingPrompt()
	f := pageLoad(t, srv, auth.NewMemoryStorage(), func(c *auth.Config) { c.Prompt = pr })
	overlay := showOverlay(t, f, pr)

	login := f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"}))
	assert.Equal(t, auth.CodePopupClosed, auth.CodeOf(settle(t, overlay)))
	require.NoError(t, settle(t, login))
	assert.Equal(t, alice, f.c.User())
	require.NoError(t, settle(t, f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))), "after the overlay, checks run in the queue again")
}

func TestCallsAfterTheOverlayWasEndedKeepTheirOrder(t *testing.T) {
	srv := startPBX(t)
	pr := newWaitingPrompt()
	f := pageLoad(t, srv, auth.NewMemoryStorage(), func(c *auth.Config) { c.Prompt = pr })
	overlay := showOverlay(t, f, pr)

	// The login ends the overlay; the check made after it must see its
	// result, not be answered from what was known before it.
	login := f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"}))
	check := f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))
	assert.Equal(t, auth.CodePopupClosed, auth.CodeOf(settle(t, overlay)))
	require.NoError(t, settle(t, login))
	require.NoError(t, settle(t, check), "the check ran after the login, in the page's order")
}

func TestThePersonsLoginSettlesTheJoinedCalls(t *testing.T) {
	srv := startPBX(t)
	pr := newWaitingPrompt()
	f := pageLoad(t, srv, auth.NewMemoryStorage(), func(c *auth.Config) { c.Prompt = pr })
	overlay := showOverlay(t, f, pr)
	joined := f.c.Start(ctx, auth.LoginCall(auth.Options{}))

	// The person logs in: the fake overlay hands back a real session.
	s := pageLoad(t, srv, auth.NewMemoryStorage())
	loginAs(t, s.c, "bob", "builder")
	session, _, err := s.store.Get("IPCortex.PBX.Auth.session:@" + srv.URL)
	require.NoError(t, err)
	pr.answer <- auth.PromptResult{Session: session}

	require.NoError(t, settle(t, overlay))
	require.NoError(t, settle(t, joined))
	assert.Equal(t, bob, f.c.User())
	require.NoError(t, settle(t, f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))))
}
