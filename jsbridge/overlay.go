//go:build js && wasm

package jsbridge

import (
	"context"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/overlay"
)

// Overlay is the core's Prompt in a page: the PBX's own login page
// (/api/login.html) in an iframe over the page, as the vendor's pop-up
// login. The user types into the PBX's page; the result comes back by
// postMessage, and the options go to it with the PBX's exact origin as the
// target. core/overlay is the protocol (its messages, and the rules that
// take a message only from the PBX's exact origin and that iframe's window);
// this is its DOM work. Its backdrop and dialog live in a closed shadow
// root with their styles set through the CSSOM, so page styles do not reach
// in, its styles do not leak out, and a page whose Content Security Policy
// forbids inline styles still shows it. The iframe itself is a light-DOM
// child of the host element, slotted into the dialog, so that a test's
// WebDriver can find it and switch into it in every engine (WebKit's driver
// does not enter closed roots); the hooks are overlayHost and overlayFrame.
// The credentials stay out of the page's reach either way: they are typed
// into a document of the PBX's origin. It is a modal dialog: focus moves
// into it and stays there until it closes, then returns where it was.
type Overlay struct {
	// LoadTimeout bounds how long the login page may take to say it is
	// ready (default 20 s); the user's typing has no deadline.
	LoadTimeout time.Duration
}

const overlayLabel = "Log in to the phone system"

// The overlay's stable hooks for tests, documented in the README: the host
// element is <pbxauth-login data-pbxauth-overlay> in document.body, and the
// iframe is its child iframe[name="pbxauth-login"][data-pbxauth-frame].
const (
	overlayHost  = "pbxauth-login"
	overlayFrame = "pbxauth-login"
)

// Prompt shows the overlay and waits for the login page's answer.
func (o Overlay) Prompt(ctx context.Context, r auth.PromptRequest) (auth.PromptResult, error) {
	doc := mustGet(global, "document")
	if absent(doc) || absent(mustGet(doc, "body")) {
		return auth.PromptResult{}, &auth.Error{Code: auth.CodePopupBlocked, Message: "login: there is no page to show the login overlay in; pass username and password or tokens, with nodom: true"}
	}
	frame, err := overlay.NewFrame(r.Host)
	if err != nil {
		return auth.PromptResult{}, &auth.Error{Code: auth.CodeBadOption, Message: "login: the login overlay cannot load from " + r.Host, Err: err}
	}
	page, _ := mustGet(mustGet(global, "location"), "origin").String()
	ov, err := newOverlayDOM(doc, frame, page)
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
		case err := <-ov.broken:
			return auth.PromptResult{}, &auth.Error{Code: auth.CodeServer, Message: "login: the login page sent a message that breaks the overlay's protocol; check that " + r.Host + " serves the login page of this module's version", Err: err}
		case m := <-ov.events:
			switch m.Kind {
			case overlay.KindReady:
				loaded.Stop()
				ov.sendOptions(overlay.Options{SubID: r.SubID, NoToken: r.NoToken, Application: r.Application, Origin: r.Origin})
			case overlay.KindResult:
				return auth.PromptResult{Session: m.Session, Token: m.Token}, nil
			case overlay.KindFailed:
				return auth.PromptResult{}, &auth.Error{Code: auth.CodeAuthFailed, Message: "login: " + orDefault(m.Text, "wrong username or password")}
			case overlay.KindClose:
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
	frame                       overlay.Frame
	before                      safejs.Value // the element that had focus
	events                      chan *overlay.Message
	broken                      chan error // a message of the login page that breaks the protocol
	listeners                   []listener
}

type listener struct {
	target  safejs.Value
	event   string
	fn      safejs.Func
	capture bool
}

func newOverlayDOM(doc safejs.Value, frame overlay.Frame, page string) (*overlayDOM, error) {
	ov := &overlayDOM{doc: doc, frame: frame, events: make(chan *overlay.Message, 8), broken: make(chan error, 1)}
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
	ov.host = el(overlayHost)
	ov.backdrop = el("div")
	dialog := el("div")
	ov.iframe = el("iframe")
	slot := el("slot")
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
	attrs(ov.host, "data-pbxauth-overlay", "")
	attrs(ov.iframe, "title", overlayLabel, "name", overlayFrame, "data-pbxauth-frame", "", "src", frame.PageURL(page),
		"referrerpolicy", "no-referrer", "sandbox", "allow-scripts allow-same-origin allow-forms")

	// With a shadow root the dialog shows the host's iframe through a slot;
	// without one (an old engine) the iframe goes in the dialog itself.
	root, inDialog := ov.host, ov.iframe
	if !absent(mustGet(ov.host, "attachShadow")) {
		if r, serr := ov.host.Call("attachShadow", map[string]any{"mode": "closed"}); serr == nil {
			root, inDialog = r, slot
		}
	}
	for _, step := range []func() error{
		func() error { _, err := dialog.Call("appendChild", inDialog); return err },
		func() error {
			if inDialog.Equal(ov.iframe) {
				return nil
			}
			_, err := ov.host.Call("appendChild", ov.iframe)
			return err
		},
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
func (ov *overlayDOM) post(m *overlay.Message) {
	select {
	case ov.events <- m:
	default:
	}
}

// onMessage takes the login page's messages as core/overlay reads them.
// The page's other messages (another origin or window) are ignored before
// their data is read; one from the overlay's window without a kind of the
// protocol (another script's there, or a later login page's) is ignored
// with a warning; one of a known kind that breaks the protocol ends the
// login.
func (ov *overlayDOM) onMessage(ev safejs.Value) {
	origin, _ := mustGet(ev, "origin").String()
	fromFrame := mustGet(ev, "source").Equal(mustGet(ov.iframe, "contentWindow"))
	if ov.frame.Check(origin, fromFrame) != nil {
		return
	}
	data := ""
	if text, err := mustGet(global, "JSON").Call("stringify", mustGet(ev, "data")); err == nil && kind(text) == "string" {
		data, _ = text.String()
	}
	m, err := ov.frame.Parse(origin, fromFrame, data)
	switch {
	case err == nil:
		ov.post(&m)
	case m.Kind == "":
		ConsoleWarn("a message in the login overlay was ignored: " + err.Error())
	default:
		select {
		case ov.broken <- err:
		default:
		}
	}
}

// onKey closes on Escape and keeps Tab inside the overlay.
func (ov *overlayDOM) onKey(ev safejs.Value) {
	switch key, _ := mustGet(ev, "key").String(); key {
	case "Escape":
		_, _ = ev.Call("preventDefault")
		ov.post(&overlay.Message{Kind: overlay.KindClose})
	case "Tab":
		_, _ = ev.Call("preventDefault")
		_, _ = ov.iframe.Call("focus")
	}
}

// onFocus brings focus back when it lands on the page behind the overlay.
func (ov *overlayDOM) onFocus(ev safejs.Value) {
	if t := mustGet(ev, "target"); !t.Equal(ov.host) && !t.Equal(ov.iframe) {
		_, _ = ov.iframe.Call("focus")
	}
}

// onClick closes on a click outside the dialog.
func (ov *overlayDOM) onClick(ev safejs.Value) {
	if mustGet(ev, "target").Equal(ov.backdrop) {
		ov.post(&overlay.Message{Kind: overlay.KindClose})
	}
}

// sendOptions posts the options to the login page, and to no other origin.
func (ov *overlayDOM) sendOptions(o overlay.Options) {
	win := mustGet(ov.iframe, "contentWindow")
	if absent(win) {
		return
	}
	msg, err := mustGet(global, "JSON").Call("parse", o.Encode())
	if err != nil {
		return
	}
	_, _ = win.Call("postMessage", msg, ov.frame.Origin())
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
