package throttle_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/throttle"
	"github.com/pbxauth/pbxauth/web/testclock"
)

var policy = throttle.Policy{Free: 3, First: time.Second, Max: 10 * time.Second, Forget: time.Hour}

func newThrottle(maxKeys int) (*throttle.Throttle, *testclock.Manual) {
	c := testclock.NewManual(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return throttle.New(policy, c.Now, maxKeys), c
}

func TestFreeThenSlowedThenRefusedForAWhile(t *testing.T) {
	th, c := newThrottle(0)
	for i := 1; i <= 3; i++ {
		n, wait := th.Attempt("alice")
		assert.Equal(t, i, n)
		assert.Zero(t, wait, "failure %d is free", i)
	}
	// The fourth attempt goes through, and makes the next one wait a second.
	n, wait := th.Attempt("alice")
	require.Zero(t, wait)
	require.Equal(t, 4, n)
	_, wait = th.Attempt("alice")
	assert.Equal(t, time.Second, wait, "refused during the wait")
	c.Add(400 * time.Millisecond)
	_, wait = th.Attempt("alice")
	assert.Equal(t, 600*time.Millisecond, wait, "what is left of it")

	// Each further failure doubles the wait, up to the maximum.
	var waits []time.Duration
	for range 6 {
		_, w := th.Attempt("alice")
		c.Add(w)
		n, w = th.Attempt("alice")
		require.Zero(t, w)
		_, w = th.Attempt("alice")
		waits = append(waits, w)
	}
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second, 10 * time.Second}, waits)
	assert.Equal(t, 10, n)

	_, wait = th.Attempt("bob")
	assert.Zero(t, wait, "keys are counted apart")
}

func TestForgetAndUndo(t *testing.T) {
	th, c := newThrottle(0)
	for range 4 {
		th.Attempt("alice")
	}
	_, wait := th.Attempt("alice")
	require.NotZero(t, wait)
	th.Forget("alice") // alice logged in
	n, wait := th.Attempt("alice")
	assert.Equal(t, 1, n)
	assert.Zero(t, wait)

	// Undo takes back an attempt that succeeded, and its wait.
	for range 3 {
		th.Attempt("10.0.0.1")
	}
	n, wait = th.Attempt("10.0.0.1")
	require.Equal(t, 4, n)
	require.Zero(t, wait)
	th.Undo("10.0.0.1")
	n, wait = th.Attempt("10.0.0.1")
	assert.Equal(t, 4, n, "the undone attempt no longer counts")
	assert.Zero(t, wait, "nor does its wait")

	// Undone during the wait of an earlier failure, the wait of that
	// failure holds again, from its own time.
	_, wait = th.Attempt("10.0.0.1")
	require.Equal(t, time.Second, wait)
	c.Add(time.Second)
	n, wait = th.Attempt("10.0.0.1")
	require.Equal(t, 5, n)
	require.Zero(t, wait)
	th.Undo("10.0.0.1")
	n, wait = th.Attempt("10.0.0.1")
	assert.Equal(t, 5, n, "the wait of failure 4 is over: the next attempt goes through")
	assert.Zero(t, wait)

	// A key's failures are forgotten once the last is Forget old.
	th2, c2 := newThrottle(0)
	for range 4 {
		th2.Attempt("carol")
	}
	c2.Add(time.Hour)
	n, wait = th2.Attempt("carol")
	assert.Equal(t, 1, n)
	assert.Zero(t, wait)
	c.Add(time.Hour)
	n, _ = th.Attempt("alice")
	assert.Equal(t, 1, n, "alice's one failure is forgotten too")
}

func TestSweepAndMaxKeys(t *testing.T) {
	th, c := newThrottle(3)
	th.Attempt("a")
	c.Add(time.Minute)
	th.Attempt("b")
	th.Attempt("c")
	th.Attempt("d") // over the cap: a, the oldest, goes
	assert.Equal(t, 3, th.Len())
	for range 3 {
		th.Attempt("b")
	}
	_, wait := th.Attempt("b")
	assert.NotZero(t, wait, "b is still counted")
	n, _ := th.Attempt("a")
	assert.Equal(t, 1, n, "a was forgotten")

	c.Add(59 * time.Minute)
	assert.Zero(t, th.Sweep(), "nothing is an hour old yet")
	c.Add(time.Minute)
	assert.Equal(t, 3, th.Sweep())
	assert.Zero(t, th.Len())
}

// Attempts sent at once get no more through than attempts sent one by one:
// each counts from the moment it is let through.
func TestConcurrentAttempts(t *testing.T) {
	th, _ := newThrottle(0)
	var mu sync.Mutex
	through := 0
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, wait := th.Attempt("alice"); wait == 0 {
				mu.Lock()
				through++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, policy.Free+1, through, "the free attempts and the one that starts the wait")
}

func TestWaitAndFail(t *testing.T) {
	th, c := newThrottle(0)
	assert.Zero(t, th.Wait("10.0.0.1"))
	assert.Zero(t, th.Len(), "Wait counts nothing")
	for i := 1; i <= 4; i++ {
		assert.Equal(t, i, th.Fail("10.0.0.1"))
	}
	assert.Equal(t, time.Second, th.Wait("10.0.0.1"))
	assert.Equal(t, 5, th.Fail("10.0.0.1"), "a failure during the wait counts too")
	assert.Equal(t, 2*time.Second, th.Wait("10.0.0.1"))
	c.Add(2 * time.Second)
	assert.Zero(t, th.Wait("10.0.0.1"))
}
