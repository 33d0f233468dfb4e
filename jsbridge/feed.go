//go:build js && wasm

package jsbridge

import (
	"context"
	"math"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/feed"
)

// feedMethods are IPCortex.PBX's feed calls: startFeed([cb], [errCB],
// [opts]) or startFeed(opts), the legacy startPoll(cb, errCB), stopFeed,
// stopPoll, pauseFeed (all three stop the traffic and keep the login), and
// httpStopReuse, which has nothing to do here.
func feedMethods(c *auth.Client) []jsMethod {
	stop := func(_ safejs.Value, _ []safejs.Value) any {
		c.Start(context.Background(), auth.StopFeedCall())
		return safejs.Undefined()
	}
	return []jsMethod{
		{"startFeed", startFeed(c, "startFeed")},
		{"startPoll", startFeed(c, "startPoll")},
		{"stopFeed", stop},
		{"stopPoll", stop},
		{"pauseFeed", stop},
		{"httpStopReuse", func(safejs.Value, []safejs.Value) any { return safejs.Undefined() }},
	}
}

// jsMethod is a JS function and its name (a slice of them, not a map: the
// page compiles no map code to set them up).
type jsMethod struct {
	name string
	fn   func(safejs.Value, []safejs.Value) any
}

// startFeed returns the JS function: it joins the client's queue at once
// (after a login made before it), and its Promise resolves once the feed is
// up, or rejects once with the first error, which also reaches errCB.
func startFeed(c *auth.Client, name string) func(safejs.Value, []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) any {
		var pending *auth.Pending
		_, perr := guard(func() (any, error) {
			o, cbs, err := parseFeed(name, args)
			if err == nil {
				pending = c.Start(context.Background(), auth.FeedCall(o, cbs))
			}
			return nil, err
		})
		return Promise(func() (any, error) {
			if perr != nil {
				return nil, perr
			}
			if _, err := pending.Wait(context.Background()); err != nil {
				return nil, err
			}
			return nil, c.FeedUp(context.Background())
		})
	}
}

// parseFeed reads startFeed's arguments in any order pages use: the data
// callback, then the error callback, and an options object; undefined and
// null are skipped, so that login().then(IPCortex.PBX.startFeed) works.
func parseFeed(name string, args []safejs.Value) (feed.Options, auth.FeedCallbacks, error) {
	o := feed.Options{MaxRetry: feed.RetryForever}
	var cbs auth.FeedCallbacks
	var fns []safejs.Value
	var opts safejs.Value = safejs.Undefined()
	for _, a := range args {
		switch kind(a) {
		case "undefined", "null":
		case "function":
			fns = append(fns, a)
		case "object":
			if !absent(opts) {
				return o, cbs, typeErrorf(name, "pass one options object")
			}
			opts = a
		default:
			return o, cbs, typeErrorf(name, "arguments are callbacks and an options object, not "+kind(a))
		}
	}
	if len(fns) > 2 {
		return o, cbs, typeErrorf(name, "pass at most two callbacks: data, then error")
	}
	var errCB safejs.Value = safejs.Undefined()
	if len(fns) > 0 {
		cbs.OnUp = feedUpCallback(fns[0])
	}
	if len(fns) > 1 {
		errCB = fns[1]
	}
	if !absent(opts) {
		read := func(key string) (safejs.Value, error) {
			v, err := prop(opts, key)
			if err != nil {
				return v, typeErrorf(name, "reading option "+key+" failed: "+err.Error())
			}
			return v, nil
		}
		for _, key := range []string{"device", "deviceMin", "mailbox", "queue", "presence"} {
			v, err := read(key)
			if err != nil {
				return o, cbs, err
			}
			if !absent(v) && kind(v) != "boolean" {
				return o, cbs, typeErrorf(name, "option "+key+" must be a boolean, not "+kind(v))
			}
		}
		v, err := read("pingtime")
		if err != nil {
			return o, cbs, err
		}
		if !absent(v) {
			if kind(v) != "number" {
				return o, cbs, typeErrorf(name, "option pingtime must be a number of seconds, not "+kind(v))
			}
			f, _ := v.Float()
			if f != math.Trunc(f) || f < 10 || f > 999 {
				return o, cbs, &auth.Error{Code: auth.CodeBadOption, Message: "IPCortex.PBX." + name + ": option pingtime must be a whole number of seconds from 10 to 999"}
			}
			o.PingTime = time.Duration(f) * time.Second
		}
		v, err = read("maxWSRetryTime")
		if err != nil {
			return o, cbs, err
		}
		switch {
		case absent(v):
		case kind(v) != "number":
			return o, cbs, typeErrorf(name, "option maxWSRetryTime must be a number of seconds or null, not "+kind(v))
		default:
			f, _ := v.Float()
			if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return o, cbs, &auth.Error{Code: auth.CodeBadOption, Message: "IPCortex.PBX." + name + ": option maxWSRetryTime must be 0 or more seconds (0: never retry), or null to retry forever"}
			}
			o.MaxRetry = feed.RetryForever // past what a Duration holds: no limit in effect
			if f < float64(math.MaxInt64)/float64(time.Second) {
				o.MaxRetry = time.Duration(f * float64(time.Second))
			}
		}
		v, err = read("errorCB")
		if err != nil {
			return o, cbs, err
		}
		switch kind(v) {
		case "undefined", "null":
		case "function":
			errCB = v
		default:
			return o, cbs, typeErrorf(name, "option errorCB must be a function, not "+kind(v))
		}
	}
	if !absent(errCB) {
		cbs.OnError = feedErrorCallback(errCB)
	}
	return o, cbs, nil
}

func feedUpCallback(fn safejs.Value) func() {
	return func() {
		if _, err := fn.Invoke(); err != nil {
			logConsole("error", "the feed's callback threw: "+err.Error())
		}
	}
}

func feedErrorCallback(fn safejs.Value) func(int, string) {
	return func(errno int, text string) {
		if _, err := fn.Invoke(errno, jsWords(text)); err != nil {
			logConsole("error", "the feed's error callback threw: "+err.Error())
		}
	}
}
