package backend_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex"
	"github.com/pbxauth/pbxauth/core/backend/ping"
	"github.com/pbxauth/pbxauth/core/backend/vodia"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// The Go client against the local server's three systems: the whole login,
// properties and logout, natively.

var ctx = context.Background()

// systems is the local PBX with its three systems and the demo users.
type systems = pbxtest.Server

func startSystems(t *testing.T) *systems { return pbxtest.NewServer(t) }

func client(t *testing.T, s *systems, name string) *auth.Client {
	t.Helper()
	c, err := auth.New(auth.Config{Transport: native.NewTransport(), Random: native.Random,
		Backends: []backend.Backend{ipcortex.New(), vodia.New(), ping.New()}})
	require.NoError(t, err)
	require.NoError(t, c.SetHostFor(s.URL, name))
	t.Cleanup(c.Close)
	return c
}

func TestPingBasicAndJWT(t *testing.T) {
	s := startSystems(t)
	c := client(t, s, ping.Name)
	assert.Equal(t, "ping", c.Backend())
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(c.Login(ctx, auth.Options{Username: "41", Password: "nope"})))
	require.NoError(t, c.Login(ctx, auth.Options{Username: "41", Password: "builder"}))
	assert.Equal(t, &auth.User{ID: 41, Login: "41", Name: "Bob Builder", Company: "default", Home: "default", Perms: map[string]string{}}, c.User())
	require.NoError(t, c.Login(ctx, auth.Options{CheckOnly: true}))
	_, err := c.RTCReset(ctx, true)
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err))
	assert.Contains(t, err.Error(), "ping backend cannot do Client.RTCReset")
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(c.Login(ctx, auth.Options{Username: "41", Password: "builder", Application: "longLogin"})))
	require.NoError(t, c.Logout(ctx))
	assert.Nil(t, c.User())
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(c.Login(ctx, auth.Options{CheckOnly: true})))

	jwt, err := s.PingToken("carol", time.Hour)
	require.NoError(t, err)
	d := client(t, s, ping.Name)
	require.NoError(t, d.Login(ctx, auth.Options{Tokens: []string{jwt}}))
	assert.Equal(t, int64(42), d.User().ID)
	assert.Equal(t, "acme", d.User().Company)
	e := client(t, s, ping.Name)
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(e.Login(ctx, auth.Options{Tokens: []string{jwt + "x"}})))
}

// temporaryID asks for a Vodia temporary id as the integrator's server does.
func temporaryID(t *testing.T, s *systems, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+vodia.PathSession, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", "vodia-demo")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	var id string
	require.NoError(t, json.Unmarshal(b, &id))
	return id
}

func TestVodiaTemporaryID(t *testing.T) {
	s := startSystems(t)
	c := client(t, s, vodia.Name)
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(c.Login(ctx, auth.Options{Username: "40", Password: "wonderland"})), "no password login on Vodia")
	id := temporaryID(t, s, `{"name":"3rd","username":"40","domain":"default"}`)
	require.NoError(t, c.Login(ctx, auth.Options{Tokens: []string{id}}))
	assert.Equal(t, &auth.User{ID: 40, Login: "40", Name: "Alice Example", Company: "default", Home: "default", Perms: map[string]string{}}, c.User())
	require.NoError(t, c.Login(ctx, auth.Options{CheckOnly: true}))
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(c.SetCompany(ctx, "acme")))
	require.NoError(t, c.Logout(ctx))
	assert.Equal(t, auth.CodeLoginRequired, auth.CodeOf(c.Login(ctx, auth.Options{CheckOnly: true})))
	assert.Equal(t, auth.CodeAuthFailed, auth.CodeOf(client(t, s, vodia.Name).Login(ctx, auth.Options{Tokens: []string{id}})), "single use")

	admin := client(t, s, vodia.Name)
	require.NoError(t, admin.Login(ctx, auth.Options{Tokens: []string{temporaryID(t, s, `{"name":"3rd","admin":true,"domain":"default"}`)}}))
	assert.Equal(t, "admin", admin.User().Login)
	domain := client(t, s, vodia.Name)
	require.NoError(t, domain.Login(ctx, auth.Options{Tokens: []string{temporaryID(t, s, `{"name":"3rd","domain":"acme"}`)}}))
	assert.Equal(t, "domain", domain.User().Login)
	assert.Equal(t, "acme", domain.User().Company)
}

func TestUnknownBackend(t *testing.T) {
	c, err := auth.New(auth.Config{Transport: native.NewTransport()})
	require.NoError(t, err)
	err = c.SetHostFor("https://pbx.example.com", "asterisk")
	assert.Equal(t, auth.CodeBadOption, auth.CodeOf(err))
	assert.Contains(t, err.Error(), "ipcortex")
}
