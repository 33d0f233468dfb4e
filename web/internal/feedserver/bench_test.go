package feedserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/feedserver"
	"github.com/pbxauth/pbxauth/web/internal/servertest"
	"github.com/pbxauth/pbxauth/web/pbx"
)

// Deadlines of the benchmark's network steps. They only keep a broken run
// from hanging; what is measured is below.
const (
	stepTimeout  = 10 * time.Second
	closeTimeout = time.Minute
	dialers      = 64 // feeds opened at once
)

// BenchmarkFeedLogout starts the real server (the pbx handler the program
// serves) on loopback, opens N feeds of one session with coder/websocket
// clients, and reports
//
//   - KB/conn: the memory one held feed costs, the Go heap in use plus the
//     goroutine stacks, after a GC, before and after the N feeds are open,
//     divided by N. Server and clients run in this one process, so it is the
//     cost of both ends of a connection (the server's feed, the client's
//     connection and its reading goroutine), not the server's alone;
//   - ms/last-told: the time from sending the REST logout to the moment the
//     last of the N clients has read its 4001 close (ns/op is the same time).
//
// It needs about 2N+50 open files; it raises RLIMIT_NOFILE (raiseFileLimit)
// up to the hard limit when the soft one is lower.
func BenchmarkFeedLogout(b *testing.B) {
	servertest.LowerHashCost()
	for _, n := range []int{100, 2000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) { benchLogout(b, n) })
	}
}

func benchLogout(b *testing.B, n int) {
	raiseFileLimit(b, uint64(2*n+50))
	// The N feeds are one user's: lift the cap on a user's feeds.
	ts := httptest.NewServer(pbx.New(pbx.Config{Users: servertest.DemoUsers(), Feed: feedserver.Options{MaxPerUser: -1}}))
	defer ts.Close()
	var told time.Duration
	var perConn float64
	for range b.N {
		b.StopTimer()
		id := login(b, ts.URL)
		before := memInUse()
		closes := make(chan websocket.StatusCode, n)
		conns := openFeeds(b, ts.URL, id, n, closes)
		perConn += float64(memInUse()-before) / float64(n)

		b.StartTimer()
		start := time.Now()
		logout(b, ts.URL, id)
		for range n {
			if code := <-closes; code != wire.FeedLoggedOut {
				b.Fatalf("a feed closed with %d, not %d", code, wire.FeedLoggedOut)
			}
		}
		told += time.Since(start)
		b.StopTimer()
		for _, c := range conns {
			_ = c.CloseNow()
		}
	}
	b.ReportMetric(float64(told.Microseconds())/1e3/float64(b.N), "ms/last-told")
	b.ReportMetric(perConn/1024/float64(b.N), "KB/conn")
}

// memInUse is the heap in use and the goroutine stacks, after a GC.
func memInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// openFeeds opens n feeds of the session id, each with a goroutine that
// reads it until it closes and then sends the close code to closes.
func openFeeds(b *testing.B, base, id string, n int, closes chan<- websocket.StatusCode) []*websocket.Conn {
	b.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + wire.FeedPath
	auth := []byte(`{"type":"auth","session":"` + id + `","pingtime":540}`)
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, dialers)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := openFeed(url, auth)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
				defer cancel()
				_, _, err := c.Read(ctx)
				closes <- websocket.CloseStatus(err)
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return conns
}

// openFeed dials a feed, sends the auth message and reads ready.
func openFeed(url string, auth []byte) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Write(ctx, websocket.MessageText, auth); err != nil {
		c.CloseNow()
		return nil, err
	}
	_, data, err := c.Read(ctx)
	if err != nil || !strings.Contains(string(data), `"type":"ready"`) {
		c.CloseNow()
		return nil, fmt.Errorf("no ready message: %q, %v", data, err)
	}
	return c, nil
}

// login logs alice in without a token and returns the session id.
func login(b *testing.B, base string) string {
	b.Helper()
	body := post(b, base+wire.PathLogin, "", `{"auth":{"type":"auth","username":"alice","password":"wonderland","notoken":true}}`)
	var resp wire.Response
	if err := json.Unmarshal(body, &resp); err != nil || resp.User == nil || resp.User.Session == "" {
		b.Fatalf("login: %s, %v", body, err)
	}
	return resp.User.Session
}

// logout ends the session id with a REST call.
func logout(b *testing.B, base, id string) {
	b.Helper()
	post(b, base+wire.PathLogout, id, `{"auth":{"type":"auth"}}`)
}

func post(b *testing.B, url, session, body string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.Header.Set("Authorization", wire.SessionHeaderPrefix+session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("POST %s: %d %s %v", url, resp.StatusCode, out, err)
	}
	return out
}
