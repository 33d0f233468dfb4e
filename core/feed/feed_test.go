package feed_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/feed"
)

func TestStartResolvesWhenReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		assert.Equal(t, []string{hello}, h.conn().sends(), "the owner's first message is sent first")
		select {
		case err := <-done:
			t.Fatalf("Start returned %v before the server was ready", err)
		default:
		}
		assert.True(t, h.f.Running())

		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take())
		require.NoError(t, <-done)
		assert.NoError(t, h.f.Wait(context.Background()), "Wait after the feed is up")
		assert.True(t, h.f.Running())
	})
}

func TestWaitHonoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		require.NoError(t, h.f.Launch(forever))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		assert.ErrorIs(t, h.f.Wait(ctx), context.DeadlineExceeded)
		assert.True(t, h.f.Running(), "a caller that stops waiting does not stop the feed")
	})
}

func TestStartBeforeLogin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn = false })
		err := <-h.start(forever)
		assert.Equal(t, feed.ErrNotReady, errnoOf(err), "%v", err)
		assert.Equal(t, []string{"connect", "error 3"}, h.take(), "no dial without a login")
		assert.False(t, h.f.Running())
	})
}

// Wait reports the outcome of a feed that has already ended by itself, not
// "stopped": Start is Launch then Wait, and the loop may end in between.
func TestWaitAfterTheFeedEndedItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.set(func(h *harness) { h.loggedIn = false })
		require.NoError(t, h.f.Launch(forever))
		assert.Equal(t, []string{"connect", "error 3"}, h.take())
		assert.False(t, h.f.Running())
		err := h.f.Wait(context.Background())
		assert.Equal(t, feed.ErrNotReady, errnoOf(err), "%v", err)

		h.f.Stop() // the page's stopFeed: from now on there is no feed to wait for
		assert.Equal(t, feed.ErrInternal, errnoOf(h.f.Wait(context.Background())))
	})
}

// Wait after a Launch reports the error of the attempt that Launch began,
// also when the loop has failed it and is already waiting to retry: Start
// is Launch then Wait, and a refused dial fails at once, so the loop can
// get that far in between. Wait must not wait for the next attempt instead.
func TestWaitAfterTheFirstAttemptFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0)
		h.set(func(h *harness) { h.refuse = 1 })
		require.NoError(t, h.f.Launch(forever))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take(), "failed, and waiting to retry")

		done := make(chan error, 1)
		go func() { done <- h.f.Wait(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-done:
			assert.Equal(t, feed.ErrOpen, errnoOf(err), "%v", err)
		default:
			t.Fatal("Wait missed the first attempt's error: it waits for the next attempt")
		}
		assert.Equal(t, feed.ErrOpen, errnoOf(h.f.Wait(context.Background())), "the first error, until the next Launch")

		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0)), "the retry is at its time")
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take())
		assert.NoError(t, <-h.start(forever), "a Start joining the feed that came up")
		assert.NoError(t, h.f.Wait(context.Background()), "and a Wait after it")
	})
}

func TestStopDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		time.Sleep(feed.Backoff(0, 0.5) / 2)
		h.f.Stop()
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take(), "a stopped feed neither connects nor reports")
	})
}

func TestStopWhileUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		c := h.conn()
		h.f.Stop()
		assert.Equal(t, []string{}, h.take())
		code, byClient := c.closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
		assert.Equal(t, []string{hello}, c.sends(), "no ping after Stop")
	})
}

func TestStopBeforeUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.f.Stop()
		err := <-done
		assert.Error(t, err, "Start waiting for the server returns once the feed is stopped")
		assert.Equal(t, []string{}, h.take(), "no OnError after Stop")
		code, byClient := h.conn().closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
	})
}

func TestLaunchTwiceStartsOneFeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		first, second := h.start(forever), h.start(forever)
		require.NoError(t, h.f.Launch(forever))
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take())
		assert.NoError(t, <-first)
		assert.NoError(t, <-second)
		assert.NoError(t, <-h.start(forever), "Start on a running feed joins it")
		assert.Equal(t, []string{}, h.take())
	})
}

func TestPauseAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		old := h.conn()
		h.f.Stop()
		assert.Equal(t, []string{}, h.take())
		time.Sleep(time.Minute)

		h.up(forever, "7.2") // connects anew; the same version is no change
		assert.NotSame(t, old, h.conn())
		assert.True(t, h.f.Running())
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take(), "the resumed feed reconnects as the first did")
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
	})
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o  feed.Options
		ok bool
	}{
		{feed.Options{}, true},
		{feed.Options{PingTime: 10 * time.Second}, true},
		{feed.Options{PingTime: 999 * time.Second}, true},
		{feed.Options{PingTime: 9 * time.Second}, false},
		{feed.Options{PingTime: 10*time.Second - time.Millisecond}, false},
		{feed.Options{PingTime: 1000 * time.Second}, false},
		{feed.Options{PingTime: -time.Second}, false},
		{feed.Options{MaxRetry: feed.RetryForever}, true},
		{feed.Options{MaxRetry: time.Hour}, true},
		{feed.Options{MaxRetry: -2}, false},
		{feed.Options{MaxRetry: -time.Second}, false},
	} {
		err := tc.o.Validate()
		if tc.ok {
			assert.NoError(t, err, "%+v", tc.o)
		} else {
			assert.Error(t, err, "%+v", tc.o)
		}
	}

	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		assert.Error(t, h.f.Launch(feed.Options{PingTime: time.Second}))
		assert.Error(t, <-h.start(feed.Options{MaxRetry: -5}))
		assert.False(t, h.f.Running())
		assert.Equal(t, []string{}, h.take())
	})
}
