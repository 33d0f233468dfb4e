//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/jsbridge/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/backend"
)

// Overlay is the core's Prompt in a page: the PBX's own login page
// (/api/login.html) in an iframe over the page, as the vendor's pop-up
// login. The user types into the PBX's page; the result comes back by
// postMessage, accepted only from the PBX's exact origin and from that
// iframe's window, and the options go to it with the PBX's exact origin as
// the target. The overlay lives in a closed shadow root with its styles set
// through the CSSOM, so page styles do not reach in, its styles do not leak
// out, and a page whose Content Security Policy forbids inline styles still
// shows it. It is a modal dialog: focus moves into it and stays there until
// it closes, then returns where it was.
type Overlay struct {
	// LoadTimeout bounds how long the login page may take to say it is
	// ready (default 20 s); the user's typing has no deadline.
	LoadTimeout time.Duration
}

const overlayLabel = "Log in to the phone system"

// overlayEvent is what the login page, or the user around it, did.
type overlayEvent struct {
	kind    string // ready, result, failed, close
	session string
	token   *backend.Token
	message string
}

// Prompt shows the overlay and waits for the login page's answer.
func (o Overlay) Prompt(ctx context.Context, r auth.PromptRequest) (auth.PromptResult, error) {
	doc := mustGet(global, "document")
	if absent(doc) || absent(mustGet(doc, "body")) {
		return auth.PromptResult{}, &auth.Error{Code: auth.CodePopupBlocked, Message: "login: there is no page to show the login overlay in; pass username and password or tokens, with nodom: true"}
	}
	page, _ := mustGet(mustGet(global, "location"), "origin").String()
	ov, err := newOverlayDOM(doc, r.Host, page)
	if err != nil {
		return auth.PromptResult{}, &auth.Error{Code: auth.CodePopupBlocked, Message: "login: the login overlay could not be shown", Err: err}
	}
	defer ov.remove()

	timeout := o.LoadTimeout
	if timeout <= 0 {
		timeout = auth.DefaultTimeout
	}
	loaded := time.NewTimer(timeout)
	defer loaded.Stop()
	for {
		select {
		case <-ctx.Done():
			return auth.PromptResult{}, ctx.Err()
		case <-loaded.C:
			return auth.PromptResult{}, &auth.Error{Code: auth.CodeNetwork, Message: "login: the login page did not load from " + r.Host + "/api/login.html in time; check setHost, and that the page's Content-Security-Policy allows frame-src " + r.Host}
		case ev := <-ov.events:
			switch ev.kind {
			case "ready":
				loaded.Stop()
				ov.sendOptions(r)
			case "result":
				return auth.PromptResult{Session: ev.session, Token: ev.token}, nil
			case "failed":
				return auth.PromptResult{}, &auth.Error{Code: auth.CodeAuthFailed, Message: "login: " + orDefault(ev.message, "wrong username or password")}
			case "close":
				return auth.PromptResult{}, &auth.Error{Code: auth.CodePopupClosed, Message: "login: the user closed the login overlay"}
			}
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// overlayDOM is the overlay's elements and listeners.
type overlayDOM struct {
	doc, host, backdrop, iframe safejs.Value
	pbx                         string
	before                      safejs.Value // the element that had focus
	events                      chan overlayEvent
	listeners                   []listener
}

type listener struct {
	target  safejs.Value
	event   string
	fn      safejs.Func
	capture bool
}

func newOverlayDOM(doc safejs.Value, pbx, page string) (*overlayDOM, error) {
	ov := &overlayDOM{doc: doc, pbx: pbx, events: make(chan overlayEvent, 8)}
	ov.before = mustGet(doc, "activeElement")
	var err error
	el := func(name string) safejs.Value {
		if err != nil {
			return safejs.Undefined()
		}
		var v safejs.Value
		v, err = doc.Call("createElement", name)
		return v
	}
	ov.host = el("pbxauth-login")
	ov.backdrop = el("div")
	dialog := el("div")
	ov.iframe = el("iframe")
	if err != nil {
		return nil, err
	}
	style(ov.host, "display", "block", "position", "fixed", "inset", "0", "z-index", "2147483647",
		"margin", "0", "padding", "0", "border", "0")
	style(ov.backdrop, "position", "fixed", "inset", "0", "display", "flex", "align-items", "center",
		"justify-content", "center", "background", "rgba(0, 0, 0, 0.55)", "padding", "8px", "box-sizing", "border-box")
	style(dialog, "width", "min(420px, 100%)", "height", "min(400px, 100%)", "background", "#fff",
		"border-radius", "8px", "box-shadow", "0 8px 32px rgba(0, 0, 0, 0.35)", "overflow", "hidden")
	style(ov.iframe, "display", "block", "width", "100%", "height", "100%", "border", "0")
	attrs(dialog, "role", "dialog", "aria-modal", "true", "aria-label", overlayLabel)
	enc, _ := global.Call("encodeURIComponent", page)
	encStr, _ := enc.String()
	attrs(ov.iframe, "title", overlayLabel, "src", pbx+"/api/login.html#parent="+encStr,
		"referrerpolicy", "no-referrer", "sandbox", "allow-scripts allow-same-origin allow-forms")

	root := ov.host
	if !absent(mustGet(ov.host, "attachShadow")) {
		if r, serr := ov.host.Call("attachShadow", map[string]any{"mode": "closed"}); serr == nil {
			root = r
		}
	}
	for _, step := range []func() error{
		func() error { _, err := dialog.Call("appendChild", ov.iframe); return err },
		func() error { _, err := ov.backdrop.Call("appendChild", dialog); return err },
		func() error { _, err := root.Call("appendChild", ov.backdrop); return err },
		func() error { _, err := mustGet(doc, "body").Call("appendChild", ov.host); return err },
		func() error { return ov.listen(global, "message", false, ov.onMessage) },
		func() error { return ov.listen(doc, "keydown", true, ov.onKey) },
		func() error { return ov.listen(doc, "focusin", true, ov.onFocus) },
		func() error { return ov.listen(ov.backdrop, "click", false, ov.onClick) },
	} {
		if err := step(); err != nil {
			ov.remove()
			return nil, err
		}
	}
	_, _ = ov.iframe.Call("focus")
	return ov, nil
}

func style(el safejs.Value, kv ...string) {
	s := mustGet(el, "style")
	for i := 0; i+1 < len(kv); i += 2 {
		_, _ = s.Call("setProperty", kv[i], kv[i+1], "important")
	}
}

func attrs(el safejs.Value, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		_, _ = el.Call("setAttribute", kv[i], kv[i+1])
	}
}

func (ov *overlayDOM) listen(target safejs.Value, event string, capture bool, fn func(ev safejs.Value)) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		_, _ = guard(func() (any, error) { fn(arg(args, 0)); return nil, nil })
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := target.Call("addEventListener", event, f, capture); err != nil {
		f.Release()
		return err
	}
	ov.listeners = append(ov.listeners, listener{target, event, f, capture})
	return nil
}

// post queues an event without blocking the JS callback that saw it.
func (ov *overlayDOM) post(ev overlayEvent) {
	select {
	case ov.events <- ev:
	default:
	}
}

// onMessage accepts the login page's messages: from the PBX's exact origin
// and from this iframe's window only.
func (ov *overlayDOM) onMessage(ev safejs.Value) {
	origin, err := mustGet(ev, "origin").String()
	if err != nil || origin != ov.pbx {
		return
	}
	if !mustGet(ev, "source").Equal(mustGet(ov.iframe, "contentWindow")) {
		return
	}
	data := mustGet(ev, "data")
	if kind(data) != "object" {
		return
	}
	text := func(v safejs.Value) string {
		if kind(v) != "string" {
			return ""
		}
		s, _ := v.String()
		return s
	}
	switch text(mustGet(data, "pbxauth")) {
	case "ready":
		ov.post(overlayEvent{kind: "ready"})
	case "result":
		out := overlayEvent{kind: "result", session: text(mustGet(data, "session"))}
		if tok := mustGet(data, "token"); kind(tok) == "object" {
			exp := mustGet(tok, "expires")
			if v := text(mustGet(tok, "value")); v != "" && kind(exp) == "number" {
				ms, _ := exp.Float()
				out.token = &backend.Token{Value: v, Expires: time.UnixMilli(int64(ms))}
			}
		}
		ov.post(out)
	case "failed":
		msg := text(mustGet(data, "message"))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		ov.post(overlayEvent{kind: "failed", message: msg})
	case "close":
		ov.post(overlayEvent{kind: "close"})
	}
}

// onKey closes on Escape and keeps Tab inside the overlay.
func (ov *overlayDOM) onKey(ev safejs.Value) {
	switch key, _ := mustGet(ev, "key").String(); key {
	case "Escape":
		_, _ = ev.Call("preventDefault")
		ov.post(overlayEvent{kind: "close"})
	case "Tab":
		_, _ = ev.Call("preventDefault")
		_, _ = ov.iframe.Call("focus")
	}
}

// onFocus brings focus back when it lands on the page behind the overlay.
func (ov *overlayDOM) onFocus(ev safejs.Value) {
	if !mustGet(ev, "target").Equal(ov.host) {
		_, _ = ov.iframe.Call("focus")
	}
}

// onClick closes on a click outside the dialog.
func (ov *overlayDOM) onClick(ev safejs.Value) {
	if mustGet(ev, "target").Equal(ov.backdrop) {
		ov.post(overlayEvent{kind: "close"})
	}
}

func (ov *overlayDOM) sendOptions(r auth.PromptRequest) {
	win := mustGet(ov.iframe, "contentWindow")
	if absent(win) {
		return
	}
	_, _ = win.Call("postMessage", map[string]any{
		"pbxauth": "options", "subid": r.SubID, "notoken": r.NoToken,
		"application": r.Application, "origin": r.Origin,
	}, ov.pbx)
}

// remove takes the overlay away, releases its listeners and gives focus back.
func (ov *overlayDOM) remove() {
	for _, l := range ov.listeners {
		_, _ = l.target.Call("removeEventListener", l.event, l.fn, l.capture)
		l.fn.Release()
	}
	ov.listeners = nil
	if parent := mustGet(ov.host, "parentNode"); !absent(parent) {
		_, _ = parent.Call("removeChild", ov.host)
	}
	if !absent(ov.before) && !absent(mustGet(ov.before, "focus")) {
		_, _ = ov.before.Call("focus")
	}
}
