//go:build js && wasm

package jsbridge

import (
	"context"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
)

// Properties keeps the page-visible properties of IPCortex.PBX.Auth (id,
// uname, name, company) equal to the core's user. Its Set is the core's
// Config.OnChange.
type Properties struct {
	Target safejs.Value
	// Event, if set, is the name of the event dispatched on the global
	// object after each change (ChangeEvent in a page), with the new
	// properties as its detail: {id, uname, name, company}, or null when
	// logged out.
	Event string
}

// ChangeEvent is the event a page hears on window when the properties
// change, whatever changed them: its own calls, another tab, the feed.
const ChangeEvent = "pbxauthchange"

// Set writes u's properties onto the target; nil means logged out, and every
// property is null (id stays a Number or null, as pages compare it with ===).
func (p Properties) Set(u *auth.User) {
	if u == nil {
		for _, k := range [...]string{"id", "uname", "name", "company"} {
			_ = p.Target.Set(k, nil)
		}
	} else {
		_ = p.Target.Set("id", float64(u.ID))
		_ = p.Target.Set("uname", u.Login)
		_ = p.Target.Set("name", u.Name)
		_ = p.Target.Set("company", u.Company)
	}
	if p.Event != "" {
		p.dispatch(u)
	}
}

// dispatch tells the page's listeners of the change; one that throws does
// not reach the client (dispatchEvent reports it to the console).
func (p Properties) dispatch(u *auth.User) {
	ce := mustGet(global, "CustomEvent")
	if kind(ce) != "function" {
		return
	}
	var detail any
	if u != nil {
		d := newObject()
		_ = d.Set("id", float64(u.ID))
		_ = d.Set("uname", u.Login)
		_ = d.Set("name", u.Name)
		_ = d.Set("company", u.Company)
		detail = d
	}
	init := newObject()
	_ = init.Set("detail", detail)
	if ev, err := ce.New(p.Event, init); err == nil {
		_, _ = global.Call("dispatchEvent", ev)
	}
}

// userInfo is what getUserInfo() returns: {id, login, name, company, home,
// perms}; all null (perms {}) when logged out, so that pages reading a field
// do not throw.
func userInfo(u *auth.User) safejs.Value {
	info, perms := newObject(), newObject()
	var id, login, name, company, home any // null when logged out
	if u != nil {
		id, login, name, company, home = float64(u.ID), u.Login, u.Name, u.Company, u.Home
		for k, v := range u.Perms {
			_ = perms.Set(k, v)
		}
	}
	// Set one by one, so that the keys keep this order (a Go map's would
	// change from call to call).
	_ = info.Set("id", id)
	_ = info.Set("login", login)
	_ = info.Set("name", name)
	_ = info.Set("company", company)
	_ = info.Set("home", home)
	_ = info.Set("perms", perms)
	return info
}

// asyncMethod parses its arguments synchronously and returns the core call
// to queue and the vendor-style callback (undefined if none).
type asyncMethod func(args []safejs.Value) (call auth.Call, callback safejs.Value, err error)

// syncMethod answers at once; an error is returned to the loader as an Error
// value, which it throws.
type syncMethod func(args []safejs.Value) (any, error)

// Export returns the implementation object that the loader's
// IPCortex.PBX.Auth delegates to. Its functions live as long as the page.
func Export(c *auth.Client) (safejs.Value, error) {
	obj := newObject()
	noop, err := safejs.FuncOf(func(safejs.Value, []safejs.Value) any { return nil })
	if err != nil {
		return obj, err
	}
	async := []struct {
		name string
		m    asyncMethod
	}{
		{"login", func(args []safejs.Value) (auth.Call, safejs.Value, error) {
			call, err := parseLogin(args)
			return auth.LoginCall(call.opts), call.callback, err
		}},
		{"logout", func(args []safejs.Value) (auth.Call, safejs.Value, error) {
			cb, err := callbackArg("logout", arg(args, 0))
			return auth.LogoutCall(), cb, err
		}},
		{"exit", func(args []safejs.Value) (auth.Call, safejs.Value, error) {
			logout, cb, err := parseExit(args)
			return auth.ExitCall(auth.ExitOptions{Logout: logout}), cb, err
		}},
		{"rtcReset", rtcReset("rtcReset")},
		{"rtcreset", rtcReset("rtcreset")}, // the older name
		{"setCompany", setCompany("setCompany")},
		{"selcompany", setCompany("selcompany")}, // the older name
	}

	sync := []struct {
		name string
		m    syncMethod
	}{
		{"getSubID", func([]safejs.Value) (any, error) { return c.GetSubID() }},
		// useSubID adopts the sub-ID that the loader handed out before the
		// module was ready, so that there is one sub-ID whatever the storage.
		{"useSubID", func(args []safejs.Value) (any, error) {
			id, err := requiredString("useSubID", "the sub-ID", arg(args, 0))
			if err != nil {
				return nil, err
			}
			return nil, c.SetSubID(id)
		}},
		// setHost(uri, [{backend: 'ipcortex' | 'vodia' | 'ping'}])
		{"setHost", func(args []safejs.Value) (any, error) {
			uri, err := requiredString("setHost", "the host", arg(args, 0))
			if err != nil {
				return nil, err
			}
			name := ""
			switch o := arg(args, 1); kind(o) {
			case "undefined", "null":
			case "object":
				v, err := prop(o, "backend")
				if err != nil {
					return nil, typeErrorf("setHost", "reading option backend failed: "+err.Error())
				}
				if !absent(v) {
					if name, err = requiredString("setHost", "option backend", v); err != nil {
						return nil, err
					}
				}
			default:
				return nil, typeErrorf("setHost", "options must be an object such as {backend: 'vodia'}, not "+kind(o))
			}
			return nil, c.SetHostFor(uri, name)
		}},
		{"setWSHost", func(args []safejs.Value) (any, error) {
			uri, err := requiredString("setWSHost", "the host", arg(args, 0))
			if err != nil {
				return nil, err
			}
			return nil, c.SetWSHost(uri)
		}},
		{"getUserInfo", func([]safejs.Value) (any, error) { return userInfo(c.User()), nil }},
	}

	methods := make([]jsMethod, 0, len(async)+len(sync)+6)
	for _, a := range async {
		methods = append(methods, jsMethod{a.name, asyncFunc(c, a.m, noop)})
	}
	for _, m := range sync {
		methods = append(methods, jsMethod{m.name, syncFunc(m.m)})
	}
	for _, m := range feedMethods(c) {
		fn := m.fn
		methods = append(methods, jsMethod{m.name, func(this safejs.Value, args []safejs.Value) any {
			v, err := guard(func() (any, error) { return fn(this, args), nil })
			if err != nil {
				return JSError(err)
			}
			return v
		}})
	}
	return obj, setMethods(obj, methods)
}

// setMethods puts the methods on obj as one Go function bound
// (Function.prototype.bind) to each one's index: the page registers one Go
// function instead of twenty, and so compiles no growth of syscall/js's
// table of them before it is ready. Nothing reads this.
func setMethods(obj safejs.Value, methods []jsMethod) error {
	dispatch, err := safejs.FuncOf(func(this safejs.Value, args []safejs.Value) any {
		i, err := arg(args, 0).Int()
		if err != nil || i < 0 || i >= len(methods) {
			return safejs.Undefined() // only bind calls it, with an index
		}
		return methods[i].fn(this, args[1:])
	})
	if err != nil {
		return err
	}
	for i, m := range methods {
		f, err := dispatch.Value().Call("bind", nil, i)
		if err != nil {
			return err
		}
		if err := obj.Set(m.name, f); err != nil {
			return err
		}
	}
	return nil
}

// rtcReset is rtcReset([getnew], [callback]) under the given name: the
// Promise resolves with the new password when getnew is true.
func rtcReset(name string) asyncMethod {
	return func(args []safejs.Value) (auth.Call, safejs.Value, error) {
		getNew, err := optionalBool(name, "getnew", arg(args, 0))
		cb, cerr := callbackArg(name, arg(args, 1))
		return auth.RTCResetCall(getNew), cb, firstErr(err, cerr)
	}
}

// setCompany is setCompany(company, [callback]) under the given name.
func setCompany(name string) asyncMethod {
	return func(args []safejs.Value) (auth.Call, safejs.Value, error) {
		company, err := requiredString(name, "the company id", arg(args, 0))
		cb, cerr := callbackArg(name, arg(args, 1))
		return auth.CompanyCall(company), cb, firstErr(err, cerr)
	}
}

// asyncFunc turns m into a JS function that returns a Promise. The call
// joins the client's queue before the function returns, so calls take effect
// in the order the page made them. With a callback, the callback gets
// (success, message) first; the Promise still settles, but a rejection
// nobody handles is not reported as unhandled, as callback pages never look
// at the Promise.
func asyncFunc(c *auth.Client, m asyncMethod, noop safejs.Func) func(safejs.Value, []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) any {
		var pending *auth.Pending
		cb := safejs.Undefined()
		_, perr := guard(func() (any, error) {
			call, callback, err := m(args)
			cb = callback
			if err == nil {
				pending = c.Start(context.Background(), call)
			}
			return nil, err
		})
		p := Promise(func() (any, error) {
			var out any
			err := perr
			if err == nil {
				var v string
				if v, err = pending.Wait(context.Background()); v != "" {
					out = v
				}
			}
			if kind(cb) == "function" {
				msg := "ok"
				if err != nil {
					msg = jsWords(err.Error())
				}
				if _, cerr := cb.Invoke(err == nil, msg); cerr != nil {
					logConsole("error", "a callback threw: "+cerr.Error())
				}
			}
			return out, err
		})
		if kind(cb) == "function" {
			_, _ = p.Call("catch", noop)
		}
		return p
	}
}

// syncFunc turns m into a JS function that returns its value, or an Error
// value for the loader to throw.
func syncFunc(m syncMethod) func(safejs.Value, []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) any {
		v, err := guard(func() (any, error) { return m(args) })
		if err != nil {
			return JSError(err)
		}
		if v == nil {
			return safejs.Undefined() // as the loader's answer before ready, not null
		}
		return v
	}
}

func parseExit(args []safejs.Value) (logout bool, cb safejs.Value, err error) {
	a0 := arg(args, 0)
	cb, err = callbackArg("exit", arg(args, 1))
	switch kind(a0) {
	case "undefined", "null":
		return false, cb, err
	case "function": // exit(callback)
		return false, a0, nil
	case "object":
		v, gerr := prop(a0, "logout")
		if gerr != nil {
			return false, cb, typeErrorf("exit", "reading option logout failed: "+gerr.Error())
		}
		logout, berr := optionalBool("exit", "option logout", v)
		return logout, cb, firstErr(berr, err)
	}
	return false, cb, typeErrorf("exit", "options must be an object such as {logout: true}, not "+kind(a0))
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
