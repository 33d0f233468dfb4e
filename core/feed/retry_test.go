package feed_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
)

func TestDropReconnectsWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := []float64{0.5, 0, 0.999, 0.25}
		h := newHarness(t, j...)
		h.up(forever, "7.2")

		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "trying again")
		h.set(func(h *harness) { h.refuse = 2 })
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(0, j[0])))
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(1, j[1])))
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(2, j[2])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())

		// A feed that came back starts counting again.
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "1012")
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, j[3])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.True(t, h.f.Running())
	})
}

// A Start while the feed is down between retries waits for the next
// attempt: it does not report a feed that is down as up.
func TestStartWhileRetryingWaitsForTheNextAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := []float64{0.5, 0.5}
		h := newHarness(t, j...)
		h.up(forever, "7.2")
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())

		h.set(func(h *harness) { h.refuse = 1 })
		refused := h.start(forever)
		synctest.Wait()
		select {
		case err := <-refused:
			t.Fatalf("Start during the backoff returned %v before the next attempt", err)
		default:
		}
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(feed.Backoff(0, j[0])))
		assert.Equal(t, feed.ErrRunning, errnoOf(<-refused), "that attempt failed")

		up := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(1, j[1])))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up", "reconnected"}, h.take())
		assert.NoError(t, <-up, "that attempt came up")
	})
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second,
	} {
		assert.Equal(t, want, feed.Backoff(n, 0), "Backoff(%d, 0)", n)
		assert.Equal(t, want*3/2, feed.Backoff(n, 0.5), "Backoff(%d, 0.5)", n)
	}
	assert.Equal(t, 15*time.Second, feed.Backoff(math.MaxInt, 0), "no overflow")

	below1 := math.Nextafter(1, 0)
	draws := []float64{0, below1, 0.5, 1e-9}
	for range 1000 {
		draws = append(draws, rand.Float64())
	}
	for n := range 70 {
		d := min(feed.BackoffBase<<min(n, 20), feed.BackoffMax)
		for _, r := range draws {
			w := feed.Backoff(n, r)
			if w < d/2 || w > d {
				t.Fatalf("Backoff(%d, %v) = %s, not within [%s, %s]", n, r, w, d/2, d)
			}
		}
		assert.Equal(t, d/2, feed.Backoff(n, 0))
		assert.InDelta(t, float64(d), float64(feed.Backoff(n, below1)), float64(time.Microsecond))
	}
}

func TestGiveUpNeverUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0) // waits 250 ms, 500 ms, 1 s, 2 s...
		h.set(func(h *harness) { h.refuse = -1 })
		done := h.start(feed.Options{MaxRetry: 2 * time.Second})
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		assert.Equal(t, feed.ErrOpen, errnoOf(<-done), "Start returns the first error")
		assert.True(t, h.f.Running(), "and the feed goes on")

		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(250*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(500*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(time.Second)) // 1.75 s waited; 2 s more would pass MaxRetry
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
	})
}

func TestGiveUpAfterUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0)
		h.up(feed.Options{MaxRetry: time.Second}, "7.2")
		h.set(func(h *harness) { h.refuse = -1 })
		h.conn().drop(feed.CodeAbnormal, "")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(250*time.Millisecond))
		assert.Equal(t, []string{"connect", "refused", "error 92"}, h.after(500*time.Millisecond)) // 0.75 s waited; 1 s more would pass MaxRetry
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())
	})
}

func TestMaxRetryZeroGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(feed.Options{}, "7.2")
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Contains(t, h.lastText(), "gave up")
		assert.False(t, h.f.Running())
		time.Sleep(time.Hour)
		assert.Equal(t, []string{}, h.take())

		h.set(func(h *harness) { h.refuse = -1 })
		assert.Equal(t, feed.ErrOpen, errnoOf(<-h.start(feed.Options{})))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		assert.False(t, h.f.Running())
	})
}

func TestRetryForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, 0)
		h.set(func(h *harness) { h.refuse = -1 })
		assert.Equal(t, feed.ErrOpen, errnoOf(<-h.start(forever)))
		assert.Equal(t, []string{"connect", "refused", "error 91"}, h.take())
		for n := range 40 { // 40 tries: about 8 minutes, the last 34 at the cap
			assert.Equal(t, []string{"connect", "refused", "error 91"}, h.after(feed.Backoff(n, 0)))
		}
		assert.True(t, h.f.Running())
		h.set(func(h *harness) { h.refuse = 0 })
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.BackoffMax/2))
		h.conn().ready("7.2")
		assert.Equal(t, []string{"up"}, h.take(), "Reconnected is for a feed that was up before")
	})
}

func TestVersionChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		h.conn().ready("7.3")
		assert.Equal(t, []string{"up", "reconnected", "error 100"}, h.take())
		assert.True(t, h.f.Running(), "the feed keeps running")

		h.conn().drop(wire.FeedRestart, "the server is shutting down")
		assert.Equal(t, []string{"error 92"}, h.take())
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
		h.conn().ready("7.3")
		assert.Equal(t, []string{"up", "reconnected"}, h.take(), "a version is new once")
	})
}

func TestNoAnswerTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		done := h.start(forever)
		assert.Equal(t, []string{"connect", "dial"}, h.take())
		c := h.conn()
		assert.Equal(t, []string{"error 91"}, h.after(feed.Timeout), "a server that never answers is a failed open")
		assert.Equal(t, feed.ErrOpen, errnoOf(<-done))
		code, byClient := c.closedBy()
		assert.True(t, byClient)
		assert.Equal(t, 1000, code)
		assert.Equal(t, []string{"connect", "dial"}, h.after(feed.Backoff(0, 0.5)))
	})
}
