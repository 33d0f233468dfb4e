//go:build js && wasm

package jsbridge

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hack-pad/safejs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/clock"
)

// These run in headless Chromium (see browser_test.go), against the real
// local PBX whose URL is in PBX_URL.

func env(t *testing.T, k string) string {
	v := os.Getenv(k)
	require.NotEmpty(t, v, "%s is not set: run these tests through TestInBrowser", k)
	return v
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func loginBody(user, pass string) []byte {
	return wire.EncodeRequest(wire.Request{Auth: wire.Auth{Type: wire.TypeAuth, Username: user, Password: pass}})
}

func post(t *testing.T, url string, body []byte, cookies bool) (*auth.Response, error) {
	return Fetch{}.Do(ctx(t), &auth.Request{Method: "POST", URL: url, ContentType: "application/json", Body: body, Cookies: cookies})
}

func TestFetchSendsCookiesOnlyWhenAsked(t *testing.T) {
	base := env(t, "PBX_URL")
	resp, err := post(t, base+wire.PathLogin, loginBody("bob", "builder"), true)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	r, err := wire.DecodeResponse(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, int64(102), r.User.ID)

	// The HttpOnly cookie is invisible to the page but sent with the next call.
	check := []byte(`{"auth":{"type":"auth"}}`)
	resp, err = post(t, base+wire.PathLogin, check, true)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status, string(resp.Body))
	cookies, _ := mustGet(mustGet(global, "document"), "cookie").String()
	assert.NotContains(t, cookies, wire.CookieName)

	// A request that carries its credential explicitly sends no cookie.
	resp, err = post(t, base+wire.PathLogin, check, false)
	require.NoError(t, err)
	assert.Equal(t, 401, resp.Status, string(resp.Body))
}

func TestFetchFaults(t *testing.T) {
	_, err := post(t, env(t, "DOWN_URL")+"/rest/auth/", loginBody("a", "b"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fetch failed")

	_, err = post(t, env(t, "REDIRECT_URL")+"/rest/auth/", loginBody("alice", "wonderland"), true)
	require.Error(t, err, "a redirect is refused, so the password is not re-sent")

	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = Fetch{}.Do(c, &auth.Request{Method: "POST", URL: env(t, "SLOW_URL"), Body: []byte("{}")})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the deadline aborts the fetch")

	_, err = Fetch{}.Do(c, &auth.Request{Method: "POST", URL: env(t, "SLOW_URL")})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "an ended context sends nothing")

	// Its own deadline, on a JavaScript timer: the context never ends.
	_, err = Fetch{}.Do(context.Background(), &auth.Request{Method: "POST", URL: env(t, "SLOW_URL"), Body: []byte("{}"), Timeout: 200 * time.Millisecond})
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Request.Timeout aborts the fetch")
	assert.Equal(t, auth.CodeTimeout, auth.CodeOf(backend.TransportError("slow", err)))
}

func TestStorageAndRandom(t *testing.T) {
	s := SessionStorage
	require.NoError(t, s.Set("jsbridge-test", "v1"))
	v, ok, err := s.Get("jsbridge-test")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "v1", v)
	require.NoError(t, s.Remove("jsbridge-test"))
	_, ok, err = s.Get("jsbridge-test")
	require.NoError(t, err)
	assert.False(t, ok)

	_, _, err = WebStorage{Name: "noSuchStorage"}.Get("k")
	assert.Error(t, err)
	assert.Error(t, WebStorage{Name: "noSuchStorage"}.Set("k", "v"))
	assert.Error(t, WebStorage{Name: "noSuchStorage"}.Remove("k"))

	a, b := make([]byte, 16), make([]byte, 16)
	require.NoError(t, Random(a))
	require.NoError(t, Random(b))
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, make([]byte, 16), a)
}

// TestStorageFrom: a storage given as a property of another object (what
// the Node.js entry's boot object hands out) is read at each call.
func TestStorageFrom(t *testing.T) {
	boot := newObject()
	s := WebStorage{From: boot, Name: "storage"}
	_, _, err := s.Get("k")
	assert.Error(t, err, "no storage there yet")

	require.NoError(t, boot.Set("storage", mustGet(global, "sessionStorage")))
	require.NoError(t, s.Set("jsbridge-from", "v2"))
	v, ok, err := SessionStorage.Get("jsbridge-from")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "v2", v)
	require.NoError(t, s.Remove("jsbridge-from"))
	_, ok, err = s.Get("jsbridge-from")
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestWebSocketsFrom: the constructor is the From object's WebSocket; none
// fails the dial with a message that says how to give one.
func TestWebSocketsFrom(t *testing.T) {
	_, err := WebSockets{From: newObject()}.Dial(context.Background(), "ws://127.0.0.1:1/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "configure({WebSocket})")
}

func TestPromiseAwaitAndErrors(t *testing.T) {
	v, err := Await(ctx(t), Promise(func() (any, error) { return "ok", nil }))
	require.NoError(t, err)
	s, _ := v.String()
	assert.Equal(t, "ok", s)

	_, err = Await(ctx(t), Promise(func() (any, error) { return nil, &auth.Error{Code: auth.CodeTimeout, Message: "slow"} }))
	var je *JSException
	require.ErrorAs(t, err, &je)
	assert.Equal(t, "Error", je.Name)
	assert.Equal(t, "slow", je.Message)

	_, err = Await(ctx(t), Promise(func() (any, error) { panic("boom") }))
	require.ErrorAs(t, err, &je)
	assert.Contains(t, je.Message, "boom")
	_, err = Await(ctx(t), Promise(func() (any, error) { var m map[string]int; m["x"] = 1; return nil, nil }))
	require.ErrorAs(t, err, &je)
	assert.Contains(t, je.Message, "assignment to entry in nil map")
	for v, want := range map[any]string{"s": "s", errors.New("e"): "e", 42: "not a string or an error"} {
		assert.Contains(t, panicText(v), want)
	}

	e := JSError(&auth.Error{Code: auth.CodeAuthFailed, Message: "no"})
	assert.Equal(t, "auth_failed", str(e, "code"))
	assert.Equal(t, "Error", str(e, "name"))
	e = JSError(typeErrorf("login", "bad"))
	assert.Equal(t, "bad_option", str(e, "code"))
	assert.Equal(t, "TypeError", str(e, "name"))
	assert.Equal(t, string(auth.CodeInternal), str(JSError(errors.New("x")), "code"))
	assert.Equal(t, string(auth.CodeInternal), str(JSError(&internalError{"p"}), "code"))

	// A Promise that never settles: Await returns with the context.
	never, err := jsPromise.New(mustFunc(t, func(safejs.Value, []safejs.Value) any { return nil }))
	require.NoError(t, err)
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Await(c, never)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestKind(t *testing.T) {
	big, err := mustGet(global, "BigInt").Invoke(5)
	require.NoError(t, err)
	sym, err := mustGet(global, "Symbol").Invoke("s")
	require.NoError(t, err)
	for want, v := range map[string]any{
		"undefined": safejs.Undefined(), "null": safejs.Null(), "boolean": true, "number": 1.5,
		"string": "s", "object": map[string]any{}, "bigint": big, "symbol": sym,
	} {
		jv, ok := v.(safejs.Value)
		if !ok {
			jv = js(t, v)
		}
		assert.Equal(t, want, kind(jv))
	}
	assert.Equal(t, "function", kind(mustFunc(t, func(safejs.Value, []safejs.Value) any { return nil }).Value()))
}

func TestParseLoginForms(t *testing.T) {
	cb := mustFunc(t, func(safejs.Value, []safejs.Value) any { return nil }).Value()
	opts := js(t, map[string]any{"username": "alice", "password": "pw", "subid": "tab1", "nodom": true})
	cases := []struct {
		name   string
		args   []any
		want   auth.Options
		withCB bool
	}{
		{"none", nil, auth.Options{}, false},
		{"options", []any{opts}, auth.Options{Username: "alice", Password: "pw", SubID: "tab1", Headless: true}, false},
		{"options, callback", []any{opts, cb}, auth.Options{Username: "alice", Password: "pw", SubID: "tab1", Headless: true}, true},
		{"callback, options", []any{cb, opts}, auth.Options{Username: "alice", Password: "pw", SubID: "tab1", Headless: true}, true},
		{"callback", []any{cb}, auth.Options{CheckOnly: true}, true},
		{"old form", []any{"bob", "builder", true, cb}, auth.Options{Username: "bob", Password: "builder"}, true},
		{"null options", []any{nil}, auth.Options{}, false},
		{"checkonly", []any{js(t, map[string]any{"checkonly": true, "tokens": []any{"a"}})}, auth.Options{CheckOnly: true, Tokens: []string{"a"}}, false},
		{"token is tokens", []any{js(t, map[string]any{"token": []any{"t1", "t2"}, "nodom": true, "notoken": false, "application": "longLogin", "origin": "https://app.example"})},
			auth.Options{Tokens: []string{"t1", "t2"}, Headless: true, Application: "longLogin", Origin: "https://app.example"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			call, err := parseLogin(jsArgs(t, c.args...))
			require.NoError(t, err)
			assert.Equal(t, c.want, call.opts)
			assert.Equal(t, c.withCB, kind(call.callback) == "function")
		})
	}

	for name, args := range map[string][]any{
		"number":            {42},
		"checkonly string":  {js(t, map[string]any{"checkonly": "yes"})},
		"username number":   {js(t, map[string]any{"username": 5, "password": "x"})},
		"tokens not array":  {js(t, map[string]any{"tokens": "a"})},
		"tokens of numbers": {js(t, map[string]any{"tokens": []any{1}})},
		"token not array":   {js(t, map[string]any{"token": "a"})},
		"tokenCB string":    {js(t, map[string]any{"tokenCB": "f"})},
		"callback number":   {js(t, map[string]any{}), 5},
		"old form no pass":  {"alice"},
		"old form bad cb":   {"alice", "pw", false, "cb"},
		"boolean":           {true},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseLogin(jsArgs(t, args...))
			var te *TypeError
			require.ErrorAs(t, err, &te)
			assert.Contains(t, te.Message, "IPCortex.PBX.Auth.login")
		})
	}

	throwing, err := global.Call("eval", `new Proxy({}, {get() { throw new Error("getter") }})`)
	require.NoError(t, err)
	_, err = parseLogin([]safejs.Value{throwing})
	var te *TypeError
	require.ErrorAs(t, err, &te)
	assert.Contains(t, te.Message, "getter")
}

// TestExport drives the exported object the way the loader does, against the
// real server: properties, callbacks, rejections with codes, and thrown Errors.
func TestExport(t *testing.T) {
	target := newObject()
	c, err := auth.New(auth.Config{Transport: Fetch{}, Host: env(t, "PBX_URL"), Session: SessionStorage, Random: Random,
		OnChange: Properties{Target: target}.Set})
	require.NoError(t, err)
	impl, err := Export(c)
	require.NoError(t, err)
	call := func(method string, args ...any) (safejs.Value, error) {
		p, err := impl.Call(method, args...)
		require.NoError(t, err)
		return Await(ctx(t), p)
	}

	sub, err := impl.Call("getSubID")
	require.NoError(t, err)
	id, _ := sub.String()
	assert.True(t, wire.ValidSubID(id))
	again, _ := impl.Call("getSubID")
	assert.True(t, again.Equal(sub), "getSubID is stable")

	_, err = call("login", js(t, map[string]any{"username": "alice", "password": "wrong"}))
	var je *JSException
	require.ErrorAs(t, err, &je)
	assert.True(t, mustGet(target, "id").IsUndefined() || mustGet(target, "id").IsNull())

	_, err = call("login", js(t, map[string]any{"username": "alice", "password": "wonderland"}))
	require.NoError(t, err)
	assert.Equal(t, "number", kind(mustGet(target, "id")))
	n, _ := mustGet(target, "id").Float()
	assert.Equal(t, 101.0, n)
	assert.Equal(t, "alice", str(target, "uname"))

	info, err := impl.Call("getUserInfo")
	require.NoError(t, err)
	assert.Equal(t, "company", str(mustGet(info, "perms"), "admin"))
	assert.Equal(t, "default", str(info, "home"))

	got := make(chan []safejs.Value, 1)
	cb := mustFunc(t, func(_ safejs.Value, args []safejs.Value) any { got <- args; return nil })
	_, err = call("setCompany", "nope", cb)
	require.Error(t, err)
	args := <-got
	ok, _ := args[0].Bool()
	assert.False(t, ok)
	msg, _ := args[1].String()
	assert.Contains(t, msg, "")

	_, err = call("selcompany", "acme")
	require.NoError(t, err)
	assert.Equal(t, "acme", str(target, "company"))

	pw, err := call("rtcReset", true)
	require.NoError(t, err)
	assert.Equal(t, "string", kind(pw))
	pw, err = call("rtcreset")
	require.NoError(t, err)
	assert.Equal(t, "undefined", kind(pw))

	for method, args := range map[string][]any{
		"login": {42}, "setCompany": {5}, "rtcReset": {"x"}, "exit": {7}, "logout": {"x"},
	} {
		_, err := call(method, args...)
		require.ErrorAs(t, err, &je, method)
		assert.Equal(t, "TypeError", je.Name, method)
	}
	thrown, err := impl.Call("setHost", 5)
	require.NoError(t, err)
	assert.Equal(t, "bad_option", str(thrown, "code"))
	assert.Equal(t, "TypeError", str(thrown, "name"))
	thrown, _ = impl.Call("setHost", "ftp://x")
	assert.Equal(t, "bad_option", str(thrown, "code"))
	assert.Equal(t, "Error", str(thrown, "name"))
	thrown, _ = impl.Call("setWSHost", "wss://feed.example.com")
	assert.True(t, thrown.IsUndefined() || thrown.IsNull())
	assert.Equal(t, "wss://feed.example.com", c.WSHost())

	_, err = call("exit", js(t, map[string]any{"logout": true}))
	require.NoError(t, err)
	assert.True(t, mustGet(target, "id").IsNull())
	_, err = call("login", js(t, map[string]any{"checkonly": true}))
	require.ErrorAs(t, err, &je)
	assert.True(t, strings.Contains(je.Message, "not logged in"), je.Message)
}

func TestPanicsDoNotKillTheRuntime(t *testing.T) {
	f := syncFunc(func([]safejs.Value) (any, error) { panic("sync boom") })
	v := f(safejs.Undefined(), nil)
	e, ok := v.(safejs.Value)
	require.True(t, ok)
	assert.Equal(t, string(auth.CodeInternal), str(e, "code"))

	noop := mustFunc(t, func(safejs.Value, []safejs.Value) any { return nil })
	c, err := auth.New(auth.Config{Transport: Fetch{}, Host: env(t, "PBX_URL")})
	require.NoError(t, err)
	p := asyncFunc(c, func([]safejs.Value) (auth.Call, safejs.Value, error) {
		panic("parse boom")
	}, noop)(safejs.Undefined(), nil)
	_, err = Await(ctx(t), p.(safejs.Value))
	var je *JSException
	require.ErrorAs(t, err, &je)
	assert.Contains(t, je.Message, "parse boom")
}

func str(v safejs.Value, key string) string {
	s, _ := mustGet(v, key).String()
	return s
}

func js(t *testing.T, v any) safejs.Value {
	out, err := safejs.ValueOf(v)
	require.NoError(t, err)
	return out
}

func jsArgs(t *testing.T, args ...any) []safejs.Value {
	out := make([]safejs.Value, len(args))
	for i, a := range args {
		if v, ok := a.(safejs.Value); ok {
			out[i] = v
			continue
		}
		out[i] = js(t, a)
	}
	return out
}

func mustFunc(t *testing.T, fn func(safejs.Value, []safejs.Value) any) safejs.Func {
	f, err := safejs.FuncOf(fn)
	require.NoError(t, err)
	t.Cleanup(f.Release)
	return f
}

// panicky is Fetch, but panics on the exchange it is armed for.
type panicky struct {
	mu    sync.Mutex
	armed bool
}

func (p *panicky) Do(ctx context.Context, req *auth.Request) (*auth.Response, error) {
	p.mu.Lock()
	armed := p.armed
	p.armed = false
	p.mu.Unlock()
	if armed {
		panic("refresh boom")
	}
	return Fetch{}.Do(ctx, req)
}

// TestAPanicInTheRefreshDoesNotKillTheRuntime: the hourly refresh runs in
// the client's worker, outside any JS entry point; a panic there fails the
// refresh, keeps the user, and the module goes on (a dead runtime would end
// this test binary with "Go program has already exited").
func TestAPanicInTheRefreshDoesNotKillTheRuntime(t *testing.T) {
	tr := &panicky{}
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c, err := auth.New(auth.Config{Transport: tr, Host: env(t, "PBX_URL"), Clock: clk, Random: Random})
	require.NoError(t, err)
	_, err = c.GetSubID()
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx(t), auth.Options{Username: "carol", Password: "carolpass"}))
	tr.mu.Lock()
	tr.armed = true
	tr.mu.Unlock()
	clk.Advance(time.Hour) // the refresh panics
	require.NotNil(t, c.User(), "a failed refresh keeps the user")
	assert.Equal(t, 1, clk.Pending(), "and tries again next hour")
	require.NoError(t, c.Login(ctx(t), auth.Options{CheckOnly: true}), "the client still works")
	clk.Advance(time.Hour)
	assert.Equal(t, "carol", c.User().Login, "and so does the next refresh")
}
