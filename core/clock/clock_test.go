package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFakeRunsInOrderAndStops(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFake(start)
	var got []string
	c.AfterFunc(2*time.Hour, func() { got = append(got, "b") })
	c.AfterFunc(time.Hour, func() {
		got = append(got, "a")
		c.AfterFunc(30*time.Minute, func() { got = append(got, "a2") })
	})
	stopped := c.AfterFunc(90*time.Minute, func() { got = append(got, "never") })
	assert.True(t, stopped.Stop())
	assert.False(t, stopped.Stop(), "a second Stop reports that nothing was pending")

	c.Advance(59 * time.Minute)
	assert.Empty(t, got)
	c.Advance(2 * time.Hour)
	assert.Equal(t, []string{"a", "a2", "b"}, got)
	assert.Equal(t, start.Add(2*time.Hour+59*time.Minute), c.Now())
	assert.Zero(t, c.Pending())
}

func TestSystem(t *testing.T) {
	done := make(chan struct{})
	System{}.AfterFunc(time.Millisecond, func() { close(done) })
	<-done
}
