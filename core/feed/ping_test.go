package feed_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pbxauth/pbxauth/core/feed"
)

func TestPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(feed.Options{PingTime: 10 * time.Second, MaxRetry: feed.RetryForever}, "7.2")
		c := h.conn()
		ping := `{"type":"ping"}`
		time.Sleep(10*time.Second - time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, []string{hello}, c.sends())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, []string{hello, ping}, c.sends())
		time.Sleep(20 * time.Second)
		synctest.Wait()
		assert.Equal(t, []string{hello, ping, ping, ping}, c.sends())

		h.set(func(h *harness) { h.refuse = -1 })
		c.drop(feed.CodeAbnormal, "")
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Len(t, c.sends(), 4, "no pings on a closed connection, nor while reconnecting")
	})
}

func TestDefaultPingTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t)
		h.up(forever, "7.2")
		time.Sleep(feed.DefaultPingTime - time.Nanosecond)
		synctest.Wait()
		assert.Len(t, h.conn().sends(), 1)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Len(t, h.conn().sends(), 2)
	})
}
