package feed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
)

func TestLoggedOutWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take(),
			"Relogin is asked once; the login is cleared before the page hears of it")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "a logged-out feed does not reconnect")
	})
}

func TestTooManyFeedsStopsWithoutReconnecting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedTooMany, "too many feeds")
		assert.Equal(t, []string{"error 92"}, h.take(), "the login is kept; the page hears why")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "reconnecting would close the user's next oldest feed")
	})
}

func TestLoggedOutBeforeUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().drop(wire.FeedLoggedOut, "no live session of its sub-ID")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take())
		assert.Equal(t, feed.ErrLoggedOut, errnoOf(<-done))
		assert.False(t, h.f.Running())
	})
}

func TestReloginReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.relogin = []bool{true, true, false} })
		h.up(forever, "7.2")

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take(), "a restored login reconnects at once")
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.True(t, h.f.Running())

		// Up again, a later 4001 is a new ending: Relogin is asked again.
		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take())
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "loggedout", "error 2"}, h.take())
		assert.False(t, h.f.Running())
	})
}

func TestReloginThatTheServerStillRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.relogin = []bool{true, true} })
		h.up(forever, "7.2")

		h.conn().drop(wire.FeedLoggedOut, "logged out")
		assert.Equal(t, []string{"relogin", "connect", "dial"}, h.take())
		h.conn().drop(wire.FeedLoggedOut, "no live session of its sub-ID") // before ready
		assert.Equal(t, []string{"loggedout", "error 2"}, h.take(), "Relogin is asked once per ending")
		assert.False(t, h.f.Running())
	})
}
