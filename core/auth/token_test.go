package auth_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/native"
)

// tokenSeen records what OnTokens was told.
type tokenSeen struct {
	mu  sync.Mutex
	got []map[string]time.Time
}

func (s *tokenSeen) record(m map[string]time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, m)
}

func (s *tokenSeen) last(t *testing.T) map[string]time.Time {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.got, "OnTokens was never called")
	return s.got[len(s.got)-1]
}

func onlyToken(t *testing.T, m map[string]time.Time) string {
	t.Helper()
	require.Len(t, m, 1)
	for k := range m {
		return k
	}
	return ""
}

// pageLoad is a new client (a new page) with the same origin storage
// (localStorage) and a fresh jar and tab storage.
func pageLoad(t *testing.T, srv *pbxServer, tokens auth.Storage, mods ...func(*auth.Config)) *fixture {
	return newFixture(t, srv, native.NewTransport(), append([]func(*auth.Config){func(c *auth.Config) { c.Credentials = &auth.Sessions{Store: c.Session, Tokens: tokens} }}, mods...)...)
}

func TestASavedTokenLogsTheNextPageLoadInSilently(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	first := pageLoad(t, srv, origin)
	loginAs(t, first.c, "alice", "wonderland")

	second := pageLoad(t, srv, origin)
	require.NoError(t, checkOnly(second.c), "checkonly uses a saved token that is still valid")
	assert.Equal(t, alice, second.c.User())

	third := pageLoad(t, srv, origin)
	require.NoError(t, third.c.Login(ctx, auth.Options{}), "so does login() without credentials")
	assert.Equal(t, alice, third.c.User())
}

func TestNoTokenKeepsNoneAndForgetsTheOldOne(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	first := pageLoad(t, srv, origin)
	loginAs(t, first.c, "alice", "wonderland")
	require.NoError(t, first.c.Login(ctx, auth.Options{Username: "bob", Password: "builder", NoToken: true}))

	second := pageLoad(t, srv, origin)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(second.c)), "alice's old token must not log the next page in")
}

func TestHeadlessHandsTokensToThePage(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	seen := &tokenSeen{}
	first := pageLoad(t, srv, origin)
	require.NoError(t, first.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland", Headless: true,
		Application: wire.TokenLongLogin, OnTokens: seen.record}))
	tok := onlyToken(t, seen.last(t))
	assert.True(t, seen.last(t)[tok].After(epoch), "with its expiry")

	second := pageLoad(t, srv, origin)
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(second.c.Login(ctx, auth.Options{Headless: true})), "nothing was kept")
	seen2 := &tokenSeen{}
	require.NoError(t, second.c.Login(ctx, auth.Options{Headless: true, Tokens: []string{"not-a-token", tok}, OnTokens: seen2.record}))
	assert.Equal(t, alice, second.c.User(), "the page passed the token back")
	assert.Equal(t, tok, onlyToken(t, seen2.last(t)))

	require.NoError(t, second.c.Logout(ctx))
	assert.Empty(t, seen2.last(t), "a logout leaves no live token")
	third := pageLoad(t, srv, origin)
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(third.c.Login(ctx, auth.Options{Headless: true, Tokens: []string{tok}})),
		"the logout revoked the token on the server")
}

func TestLogoutForgetsTheSavedToken(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	first := pageLoad(t, srv, origin)
	loginAs(t, first.c, "alice", "wonderland")
	other := pageLoad(t, srv, origin) // another tab of the origin
	require.NoError(t, checkOnly(other.c))

	require.NoError(t, first.c.Exit(ctx, auth.ExitOptions{Logout: true}))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(other.c)), "the other tab's login ends too")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(pageLoad(t, srv, origin).c)), "and no page load logs in again")
}

// downFor makes every exchange fail while down is set.
type downFor struct {
	auth.Transport
	mu   sync.Mutex
	down bool
}

func (d *downFor) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	d.mu.Lock()
	down := d.down
	d.mu.Unlock()
	if down {
		return nil, &net404{}
	}
	return d.Transport.Do(ctx, req)
}

type net404 struct{}

func (*net404) Error() string { return "connection refused" }

func TestARefusedTokenIsForgottenAnUnreachableOneKept(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	loginAs(t, pageLoad(t, srv, origin).c, "alice", "wonderland")

	d := &downFor{Transport: native.NewTransport(), down: true}
	offline := pageLoad(t, srv, origin, func(c *auth.Config) { c.Transport = d })
	assert.Equal(t, auth.CodeNetwork, auth.CodeOf(checkOnly(offline.c)))
	d.mu.Lock()
	d.down = false
	d.mu.Unlock()
	require.NoError(t, checkOnly(offline.c), "the token was kept through the network error")

	require.NoError(t, origin.Set("IPCortex.PBX.Auth.token:@"+srv.URL+" for ", "forged"))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(pageLoad(t, srv, origin).c)))
	_, kept, _ := origin.Get("IPCortex.PBX.Auth.token:@" + srv.URL + " for ")
	assert.False(t, kept, "a token the server refused is forgotten")
}

// fakePrompt stands in for the overlay: it logs in as the user would type,
// straight to the PBX, and hands back what the login made.
type fakePrompt struct {
	user, password string
	err            error
	mu             sync.Mutex
	asked          []auth.PromptRequest
}

func (p *fakePrompt) Prompt(ctx context.Context, r auth.PromptRequest) (auth.PromptResult, error) {
	p.mu.Lock()
	p.asked = append(p.asked, r)
	p.mu.Unlock()
	if p.err != nil {
		return auth.PromptResult{}, p.err
	}
	url := r.Host + wire.PathLogin
	if r.SubID != "" {
		url += "?subid=" + r.SubID
	}
	resp, err := native.NewTransport().Do(ctx, &auth.Request{Method: http.MethodPost, URL: url,
		ContentType: "application/json",
		Body: wire.EncodeRequest(wire.Request{Auth: wire.Auth{Type: wire.TypeAuth, Username: p.user, Password: p.password,
			NoToken: r.NoToken, Application: r.Application, Origin: r.Origin}})})
	if err != nil {
		return auth.PromptResult{}, err
	}
	reply, err := wire.DecodeResponse(resp.Body)
	if err != nil || reply.User == nil {
		return auth.PromptResult{}, &auth.Error{Code: auth.CodeAuthFailed, Message: "refused"}
	}
	res := auth.PromptResult{Session: reply.User.Session}
	if reply.Token != nil {
		res.Token = &backend.Token{Value: reply.Token.Value, Expires: time.UnixMilli(reply.Token.Expires)}
	}
	return res, nil
}

func (p *fakePrompt) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.asked)
}

func TestLoginWithoutCredentialsPrompts(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	pr := &fakePrompt{user: "carol", password: "carolpass"}
	f := pageLoad(t, srv, origin, func(c *auth.Config) { c.Prompt = pr })

	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(checkOnly(f.c)), "checkonly never prompts")
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(f.c.Login(ctx, auth.Options{Headless: true})), "nor does nodom")
	assert.Zero(t, pr.count())

	_, err := f.c.GetSubID()
	require.NoError(t, err)
	require.NoError(t, f.c.Login(ctx, auth.Options{Application: wire.TokenRefreshable}))
	assert.Equal(t, carol, f.c.User())
	require.Equal(t, 1, pr.count())
	assert.Equal(t, auth.PromptRequest{Host: srv.URL, SubID: f.c.SubID(), Application: wire.TokenRefreshable}, pr.asked[0])

	require.NoError(t, f.c.Login(ctx, auth.Options{}), "logged in: no second prompt")
	assert.Equal(t, 1, pr.count())
	require.NoError(t, checkOnly(f.c), "the prompt's session is this tab's")

	closed := &fakePrompt{err: &auth.Error{Code: auth.CodePopupClosed, Message: "closed"}}
	g := pageLoad(t, srv, auth.NewMemoryStorage(), func(c *auth.Config) { c.Prompt = closed })
	assert.Equal(t, auth.CodePopupClosed, auth.CodeOf(g.c.Login(ctx, auth.Options{})))
	assert.Nil(t, g.c.User())
}

func TestTheRefreshLogsInAgainWithTheToken(t *testing.T) {
	srv := startPBX(t)
	origin := auth.NewMemoryStorage()
	f := pageLoad(t, srv, origin)
	require.NoError(t, f.c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland", Application: wire.TokenLongLogin}))
	held, _, err := f.store.Get("IPCortex.PBX.Auth.session:@" + srv.URL)
	require.NoError(t, err)
	require.NotEmpty(t, held, "the session is held explicitly, also without a sub-ID")

	require.NoError(t, f.store.Set("IPCortex.PBX.Auth.session:@"+srv.URL, "ended-long-ago"))
	f.tr.HTTP.Jar = nil // nor does the browser send the cookie (another site)
	f.clk.Advance(time.Hour)
	assert.Equal(t, alice, f.c.User(), "the hourly refresh found the session gone and used the token")
	again, _, _ := f.store.Get("IPCortex.PBX.Auth.session:@" + srv.URL)
	assert.NotEqual(t, "ended-long-ago", again)
	assert.NotEmpty(t, again)
}
