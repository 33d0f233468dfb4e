//go:build js && wasm

package jsbridge

import (
	"github.com/hack-pad/safejs"
)

// Tabs is the core's Tabs in a page. The news travels by the storage event
// of the origin's localStorage under TabsKey: only the origin's own tabs
// hear it, and they hear it in order with the origin's other localStorage
// writes. That order is the point: the news of a login must not reach a tab
// before the token that login saved does, or the tab checks its login again
// without it and stays logged out. Chromium hands a BroadcastChannel message
// to another tab before that tab's copy of localStorage has the token (the
// engines flow tabs-in-step lost that race about 1 run in 2), so the channel
// named TabsChannel is only the way where localStorage is refused (then no
// token is saved either). A message says only that the login to one PBX
// changed; whatever else an event is, it is ignored.
type Tabs struct {
	ch   safejs.Value // the channel, or undefined where the browser has none
	hear func(host string)
	fns  []safejs.Func
}

// The channel's name and the localStorage key.
const (
	TabsChannel = "pbxauth"
	TabsKey     = "pbxauth:tabs"
)

// NewTabs opens the page's channel. Listen then hands what other tabs say
// to the client.
func NewTabs() *Tabs {
	t := &Tabs{ch: safejs.Undefined()}
	if bc := mustGet(global, "BroadcastChannel"); kind(bc) == "function" {
		if ch, err := bc.New(TabsChannel); err == nil {
			t.ch = ch
		}
	}
	return t
}

// Listen calls hear with the PBX of each change another tab announces, by
// either way.
func (t *Tabs) Listen(hear func(host string)) error {
	t.hear = hear
	if err := t.on(global, "storage", t.fromStorage); err != nil {
		return err
	}
	if absent(t.ch) {
		return nil
	}
	return t.on(t.ch, "message", t.fromChannel)
}

func (t *Tabs) on(target safejs.Value, event string, read func(ev safejs.Value) string) error {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		_, _ = guard(func() (any, error) { t.heard(read(arg(args, 0))); return nil, nil })
		return nil
	})
	if err != nil {
		return err
	}
	t.fns = append(t.fns, f)
	_, err = target.Call("addEventListener", event, f)
	return err
}

// fromStorage reads a storage event: the PBX written under TabsKey (its
// removal, with no new value, says nothing).
func (t *Tabs) fromStorage(ev safejs.Value) string {
	if key, _ := mustGet(ev, "key").String(); key != TabsKey {
		return ""
	}
	v := mustGet(ev, "newValue")
	if kind(v) != "string" {
		return ""
	}
	host, _ := v.String()
	return host
}

// fromChannel reads a message {pbxauth: "changed", host}.
func (t *Tabs) fromChannel(ev safejs.Value) string {
	data := mustGet(ev, "data")
	if kind(data) != "object" || absent(data) {
		return ""
	}
	if k, _ := mustGet(data, "pbxauth").String(); k != "changed" {
		return ""
	}
	h := mustGet(data, "host")
	if kind(h) != "string" {
		return ""
	}
	host, _ := h.String()
	return host
}

// heard hands a change to the client in its own goroutine, so that the
// page's event handler never waits for it.
func (t *Tabs) heard(host string) {
	if host != "" && t.hear != nil {
		go t.hear(host)
	}
}

// Announce tells the other tabs that the login to host changed: it writes
// host under TabsKey and removes it at once, so that each announcement is a
// change (the storage event fires only on one) and nothing is left behind.
// Where localStorage is refused, it posts on the channel.
func (t *Tabs) Announce(host string) {
	if err := LocalStorage.Set(TabsKey, host); err == nil {
		_ = LocalStorage.Remove(TabsKey)
		return
	}
	if !absent(t.ch) {
		msg := newObject()
		_ = msg.Set("pbxauth", "changed")
		_ = msg.Set("host", host)
		_, _ = t.ch.Call("postMessage", msg)
	}
}
