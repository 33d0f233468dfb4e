package feed_test

import (
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"

	"github.com/pbxauth/pbxauth/core/feed"
)

func TestNotAFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().in <- []byte(`<html>`)
		assert.Equal(t, []string{"error 1"}, h.take())
		assert.Equal(t, feed.ErrInternal, errnoOf(<-done))
		assert.False(t, h.f.Running())
	})
}

func TestPanicInTheOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.panicIn = "Connect" })
		assert.Equal(t, feed.ErrInternal, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "error 1"}, h.take())
		assert.False(t, h.f.Running())

		h.set(func(h *harness) { h.panicIn = "Reconnected" })
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		c := h.conn()
		c.ready("7.2")
		assert.Equal(t, []string{"up", "reconnected", "error 1"}, h.take())
		assert.False(t, h.f.Running())
		code, byClient := c.closedBy()
		assert.True(t, byClient, "the socket is closed on the way out")
		assert.Equal(t, 1000, code)

		h.set(func(h *harness) { h.panicIn = "" })
		h.up(forever, "7.2") // and the feed starts again
	})
}

func TestPanicInTheErrorCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn, h.panicIn = false, "OnError" })
		assert.Equal(t, feed.ErrNotReady, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "error 3", "error 1"}, h.take())
		assert.False(t, h.f.Running())

		h.set(func(h *harness) { h.loggedIn, h.panicIn = true, "" })
		h.up(forever, "7.2")
	})
}
