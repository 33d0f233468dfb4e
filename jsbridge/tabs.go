//go:build js && wasm

package jsbridge

import (
	"strings"

	"github.com/hack-pad/safejs"
)

// Tabs is the core's Tabs in a page: a BroadcastChannel named
// TabsChannel, which only the page origin's own tabs (and frames) share,
// or, where the browser has none, the storage event of the origin's
// localStorage under TabsKey. A message says only that the login to one PBX
// changed: {pbxauth: "changed", host}. Whatever else a message is, it is
// ignored.
type Tabs struct {
	ch   safejs.Value // the channel, or undefined for the storage event
	hear func(host string)
	fn   safejs.Func
}

// The channel's name and the fallback's localStorage key.
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

// Listen calls hear with the PBX of each change another tab announces.
func (t *Tabs) Listen(hear func(host string)) error {
	t.hear = hear
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		_, _ = guard(func() (any, error) { t.heard(arg(args, 0)); return nil, nil })
		return nil
	})
	if err != nil {
		return err
	}
	t.fn = f
	target, event := t.ch, "message"
	if absent(t.ch) {
		target, event = global, "storage"
	}
	_, err = target.Call("addEventListener", event, f)
	return err
}

// heard reads a message or storage event; the client runs in its own
// goroutine, so that the page's event handler never waits for it.
func (t *Tabs) heard(ev safejs.Value) {
	host := ""
	if absent(t.ch) {
		if key, _ := mustGet(ev, "key").String(); key != TabsKey {
			return
		}
		v, _ := mustGet(ev, "newValue").String()
		host, _, _ = strings.Cut(v, "\n")
	} else {
		data := mustGet(ev, "data")
		if kind(data) != "object" || absent(data) {
			return
		}
		if k, _ := mustGet(data, "pbxauth").String(); k != "changed" {
			return
		}
		h := mustGet(data, "host")
		if kind(h) != "string" {
			return
		}
		host, _ = h.String()
	}
	if host != "" && t.hear != nil {
		go t.hear(host)
	}
}

// Announce tells the other tabs that the login to host changed.
func (t *Tabs) Announce(host string) {
	if !absent(t.ch) {
		msg := newObject()
		_ = msg.Set("pbxauth", "changed")
		_ = msg.Set("host", host)
		_, _ = t.ch.Call("postMessage", msg)
		return
	}
	// The storage event fires in the other tabs only when the value
	// changes: a random tail makes each announcement new.
	_ = LocalStorage.Set(TabsKey, host+"\n"+randomTail())
}

func randomTail() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	f := Jitter()
	var b [10]byte
	for i := range b {
		f *= 36
		d := int(f)
		b[i] = digits[d%36]
		f -= float64(d)
	}
	return string(b[:])
}
