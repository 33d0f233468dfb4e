package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
)

// held performs every exchange at once, but holds back the answer to the
// first request that hold picks until release is closed: a reply still on
// its way when the page makes its next call.
type held struct {
	auth.Transport
	hold    func(*auth.Request) bool
	once    sync.Once
	sent    chan struct{}
	release chan struct{}
}

func (h *held) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	resp, err := h.Transport.Do(ctx, req)
	if h.hold(req) {
		first := false
		h.once.Do(func() { first = true })
		if first {
			close(h.sent)
			<-h.release
		}
	}
	return resp, err
}

func isLogin(req *auth.Request) bool {
	return strings.Contains(req.URL, wire.PathLogin) && strings.Contains(string(req.Body), `"username"`)
}

func isCheck(req *auth.Request) bool {
	return strings.Contains(req.URL, wire.PathLogin) && !strings.Contains(string(req.Body), `"username"`)
}

// holding returns a client whose answer to the first call hold picks is held.
func holding(t *testing.T, hold func(*auth.Request) bool) (*fixture, *held) {
	srv := startPBX(t)
	tr := native.NewTransport()
	h := &held{Transport: tr, hold: hold, sent: make(chan struct{}), release: make(chan struct{})}
	return newFixture(t, srv, tr, func(c *auth.Config) { c.Transport = h }), h
}

// background runs fn in a goroutine and returns its error on a channel.
func background(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// TestACheckMadeDuringALoginDoesNotDropIt: the login's answer is held in the
// transport while the page checks; the check waits for the login, so the
// login stands and the check sees it.
func TestACheckMadeDuringALoginDoesNotDropIt(t *testing.T) {
	f, h := holding(t, isLogin)
	login := background(func() error { return f.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}) })
	<-h.sent
	check := f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))
	close(h.release)

	require.NoError(t, <-login)
	_, err := check.Wait(ctx)
	require.NoError(t, err, "the check ran after the login")
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, alice, f.seen.last(t))
	assert.Equal(t, 1, f.clk.Pending(), "one refresh, of the login")
}

// TestLoginThenLogoutEndsLoggedOut: a user clicks "log in" then "log out"
// before the login's answer arrives; the logout was the last call, so it
// holds, on the client and on the server.
func TestLoginThenLogoutEndsLoggedOut(t *testing.T) {
	f, h := holding(t, isLogin)
	login := f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"}))
	<-h.sent
	exit := f.c.Start(ctx, auth.ExitCall(auth.ExitOptions{Logout: true}))
	close(h.release)

	_, err := login.Wait(ctx)
	require.NoError(t, err)
	_, err = exit.Wait(ctx)
	require.NoError(t, err)
	assert.Nil(t, f.c.User())
	assert.Nil(t, f.seen.last(t))
	assert.Zero(t, f.clk.Pending())
	other := newFixture(t, f.srv, f.tr)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(other.c)), "the server agrees")
}

// TestALogoutThenALoginEndsLoggedIn is the other order.
func TestALogoutThenALoginEndsLoggedIn(t *testing.T) {
	f, h := holding(t, func(r *auth.Request) bool { return strings.HasSuffix(r.URL, wire.PathLogout) })
	loginAs(t, f.c, "bob", "builder")
	logout := background(func() error { return f.c.Logout(ctx) })
	<-h.sent
	login := f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"}))
	close(h.release)
	require.NoError(t, <-logout)
	_, err := login.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, alice, f.c.User())
	require.NoError(t, checkOnly(f.c), "and the server agrees")
	assert.Equal(t, alice, f.c.User())
}

// TestIdenticalWaitingCallsShareAnExchange: twenty login() clicks while
// another call runs are one login.
func TestIdenticalWaitingCallsShareAnExchange(t *testing.T) {
	f, h := holding(t, isCheck)
	first := f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))
	<-h.sent
	before := f.srv.count()
	var logins []*auth.Pending
	for i := 0; i < 20; i++ {
		logins = append(logins, f.c.Start(ctx, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"})))
	}
	close(h.release)
	_, err := first.Wait(ctx)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(err))
	for _, p := range logins {
		_, err := p.Wait(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, before+1, f.srv.count(), "one exchange for the twenty")
	assert.Equal(t, alice, f.c.User())
	assert.Equal(t, []*auth.User{alice}, f.seen.all())
}

// TestAnAnswerForTheOldSubIDDoesNotStay: a check under the shared login is
// on its way when the page isolates its tab; its answer (alice) is recorded
// in its turn, and then the change of sub-ID forgets it.
func TestAnAnswerForTheOldSubIDDoesNotStay(t *testing.T) {
	f, h := holding(t, isCheck)
	other := newFixture(t, f.srv, f.tr)
	loginAs(t, other.c, "alice", "wonderland") // the login tabs without a sub-ID share

	check := background(func() error { return checkOnly(f.c) })
	<-h.sent
	require.NoError(t, f.c.SetSubID("isolated"))
	close(h.release)
	require.NoError(t, <-check, "the check succeeded for the sub-ID it was sent under")
	require.NoError(t, f.c.Sync(ctx))
	assert.Nil(t, f.c.User(), "but the tab's sub-ID has no login")
	assert.Nil(t, f.seen.last(t))
	assert.Zero(t, f.clk.Pending())
}

// TestSetHostForgetsTheUser: another PBX knows nothing of this one's user;
// the refresh stops, and nothing more is sent to the old host.
func TestSetHostForgetsTheUser(t *testing.T) {
	srv := startPBX(t)
	f := newFixture(t, srv, nil)
	loginAs(t, f.c, "alice", "wonderland")
	other := startPBX(t)

	require.NoError(t, f.c.SetHost(srv.URL+"/"), "the same host, written differently")
	require.NoError(t, f.c.Sync(ctx))
	assert.Equal(t, alice, f.c.User(), "keeps the user")

	require.NoError(t, f.c.SetHost(other.URL))
	require.NoError(t, f.c.Sync(ctx))
	assert.Nil(t, f.c.User())
	assert.Nil(t, f.seen.last(t))
	assert.Zero(t, f.clk.Pending(), "the refresh stopped")
	n := srv.count()
	f.clk.Advance(3 * time.Hour)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)), "the new host has no login")
	assert.Equal(t, n, srv.count(), "nothing more went to the old host")
}

// TestExitLogsOutWhenTheCleanUpFails: the user pressed "log out"; a failing
// clean-up does not keep them logged in, and both outcomes are reported.
func TestExitLogsOutWhenTheCleanUpFails(t *testing.T) {
	h := pbxHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathCleanup {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f := newFixture(t, &pbxServer{Server: srv}, nil)
	loginAs(t, f.c, "alice", "wonderland")

	err := f.c.Exit(ctx, auth.ExitOptions{Logout: true})
	assert.Equal(t, auth.CodeServer, auth.CodeOf(err), "the clean-up's failure is reported: %v", err)
	assert.Nil(t, f.c.User(), "but the logout happened")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)), "on the server too")

	loginAs(t, f.c, "alice", "wonderland")
	err = f.c.Exit(ctx, auth.ExitOptions{})
	assert.Equal(t, auth.CodeServer, auth.CodeOf(err))
	assert.Equal(t, alice, f.c.User(), "without logout a failed clean-up changes nothing")
}

// TestExitReportsBothFailures: clean-up and logout both fail; the error
// says both, with the first one's code.
func TestExitReportsBothFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == wire.PathCleanup {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"result":"fail","error":{"code":"busy","message":"logout is down"}}`))
	}))
	t.Cleanup(srv.Close)
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Host: srv.URL})
	require.NoError(t, err)
	err = c.Exit(ctx, auth.ExitOptions{Logout: true})
	assert.Equal(t, auth.CodeServer, auth.CodeOf(err))
	assert.Contains(t, err.Error(), "HTTP 500")
	assert.Contains(t, err.Error(), "logout is down")
}

// panicking panics on its first exchange after arm.
type panicking struct {
	auth.Transport
	mu    sync.Mutex
	armed bool
}

func (p *panicking) arm() { p.mu.Lock(); p.armed = true; p.mu.Unlock() }

func (p *panicking) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	p.mu.Lock()
	armed := p.armed
	p.armed = false
	p.mu.Unlock()
	if armed {
		panic("boom")
	}
	return p.Transport.Do(ctx, req)
}

// TestAPanicFailsOnlyItsCall: in a call or in the refresh, which run in the
// client's worker; the worker goes on.
func TestAPanicFailsOnlyItsCall(t *testing.T) {
	srv := startPBX(t)
	p := &panicking{Transport: native.NewTransport()}
	f := newFixture(t, srv, nil, func(c *auth.Config) { c.Transport = p })
	p.arm()
	err := f.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	assert.Equal(t, auth.CodeInternal, auth.CodeOf(err))
	assert.Contains(t, err.Error(), "boom")

	loginAs(t, f.c, "alice", "wonderland")
	p.arm()
	f.clk.Advance(time.Hour) // the refresh panics
	assert.Equal(t, alice, f.c.User(), "a failed refresh keeps the user")
	assert.Equal(t, 1, f.clk.Pending(), "and tries again next hour")
	require.NoError(t, checkOnly(f.c))
}

// TestAGivenUpCallDoesNotRun: a call whose context ended while it waited
// is not sent.
func TestAGivenUpCallDoesNotRun(t *testing.T) {
	f, h := holding(t, isCheck)
	first := f.c.Start(ctx, auth.LoginCall(auth.Options{CheckOnly: true}))
	<-h.sent
	gone, cancel := context.WithCancel(ctx)
	login := f.c.Start(gone, auth.LoginCall(auth.Options{Username: "alice", Password: "wonderland"}))
	cancel()
	n := f.srv.count()
	close(h.release)
	_, _ = first.Wait(ctx)
	_, err := login.Wait(ctx)
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(err))
	require.NoError(t, f.c.Sync(ctx))
	assert.Equal(t, n, f.srv.count())
	assert.Nil(t, f.c.User())
}

// TestManySubIDsOneCredentialPerRequest: fifty tabs with sub-IDs and one
// without, in one browser (one cookie jar): the jar holds one session
// cookie, and no request carries more than one session credential.
func TestManySubIDsOneCredentialPerRequest(t *testing.T) {
	var mu sync.Mutex
	most, requests := 0, 0
	h := pbxHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for _, ck := range r.Cookies() {
			if strings.HasPrefix(ck.Name, wire.CookieName) {
				n++
			}
		}
		if _, ok := wire.SessionFromHeader(r.Header.Get("Authorization")); ok {
			n++
		}
		mu.Lock()
		most, requests = max(most, n), requests+1
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	pbx := &pbxServer{Server: srv}
	tr := native.NewTransport()
	plain := newFixture(t, pbx, tr)
	loginAs(t, plain.c, "carol", "carolpass")
	var tabs []*fixture
	for i := 0; i < 50; i++ {
		f := newFixture(t, pbx, tr)
		_, err := f.c.GetSubID()
		require.NoError(t, err)
		loginAs(t, f.c, "alice", "wonderland")
		tabs = append(tabs, f)
	}
	for _, f := range append(tabs, plain) {
		require.NoError(t, checkOnly(f.c))
	}
	assert.Equal(t, carol, plain.c.User(), "the tab without a sub-ID kept its own login")
	assert.Equal(t, alice, tabs[17].c.User())
	assert.Len(t, cookies(t, tr, srv.URL), 1, "one session cookie, of the login without a sub-ID")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 102, requests)
	assert.Equal(t, 1, most, "no request carried more than one session credential")
}
