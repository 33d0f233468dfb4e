package auth

import (
	"context"
	"strconv"
	"time"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/feed"
)

// FeedCallbacks are the page's callbacks of startFeed: OnUp when the feed
// is up (this module carries no phone data, so it gets none), OnError with
// the vendor's errno and a text, for every error in order. An errno of
// feed.ErrLoggedOut comes after the user's properties were cleared.
type FeedCallbacks struct {
	OnUp    func()
	OnError func(errno int, text string)
}

// feedCall is a startFeed call in the queue.
type feedCall struct {
	opts feed.Options
	cbs  FeedCallbacks
	stop bool // stopFeed, pauseFeed
}

// FeedCall is startFeed(o) with the page's callbacks: in its turn it starts
// the feed (or keeps the running one) and returns at once; FeedUp then
// waits until it is up.
func FeedCall(o feed.Options, cbs FeedCallbacks) Call {
	return Call{kind: kindFeed, feed: &feedCall{opts: o, cbs: cbs}}
}

// StopFeedCall is stopFeed() (and pauseFeed(): the login stays either way).
func StopFeedCall() Call { return Call{kind: kindFeed, feed: &feedCall{stop: true}} }

// StartFeed starts the live feed after the calls made before it and returns
// once it is up, or with its first error (a *feed.Error with the errno).
func (c *Client) StartFeed(ctx context.Context, o feed.Options, cbs FeedCallbacks) error {
	if _, err := c.Start(ctx, FeedCall(o, cbs)).Wait(ctx); err != nil {
		return err
	}
	return c.FeedUp(ctx)
}

// FeedUp waits until the feed started last is up, or returns its first
// error.
func (c *Client) FeedUp(ctx context.Context) error { return c.feed.Wait(ctx) }

// StopFeed stops the feed after the calls made before it; the login stays.
func (c *Client) StopFeed(ctx context.Context) error { return c.wait(ctx, StopFeedCall()) }

// runFeed starts or stops the feed; the worker runs it.
func (c *Client) runFeed(p *Pending) error {
	fc := p.call.feed
	if fc.stop {
		c.feed.Stop()
		return nil
	}
	if err := supports(p, backend.FeatureFeed); err != nil {
		return err
	}
	if c.cfg.Dialer == nil {
		return newError(CodeBadOption, "Client.StartFeed: no WebSocket dialer is configured (Config.Dialer)")
	}
	if err := fc.opts.Validate(); err != nil {
		return newError(CodeBadOption, "Client.StartFeed: "+err.Error())
	}
	c.mu.Lock()
	c.feedCBs = fc.cbs
	c.mu.Unlock()
	return c.feed.Launch(fc.opts)
}

// feedOwner is the Client as the feed's owner.
type feedOwner struct{ c *Client }

// Connect gives the feed its URL and first message: the session held for
// the host and sub-ID now. Without a login the feed is not ready (errno 3).
func (o feedOwner) Connect(ping time.Duration) (string, []byte, error) {
	c := o.c
	c.mu.Lock()
	loggedIn, ws, host, subID := c.user != nil, c.ws.String(), c.api.String(), c.subID
	c.mu.Unlock()
	if !loggedIn {
		return "", nil, &feed.Error{Errno: feed.ErrNotReady, Text: "Client.StartFeed: not logged in yet; start the feed after Client.Login succeeds"}
	}
	cred, err := c.cfg.Credentials.Credential(host, subID)
	if err != nil {
		return "", nil, &feed.Error{Errno: feed.ErrInternal, Text: "Client.StartFeed: cannot read the saved session: " + err.Error()}
	}
	url := ws + wire.FeedPath
	if subID != "" {
		url += "?" + wire.SubIDParam + "=" + subID
	}
	return url, wire.EncodeFeedAuth(cred.Session, int(ping.Seconds())), nil
}

// Relogin checks the login again, with the saved token if the session has
// ended, in the queue's order.
func (o feedOwner) Relogin() bool {
	_, _ = o.c.enqueue(context.Background(), Call{kind: kindRefresh}).Wait(context.Background())
	return o.c.User() != nil
}

// LoggedOut clears the login and the session held for it.
func (o feedOwner) LoggedOut() {
	_, _ = o.c.enqueue(context.Background(), Call{kind: kindLoggedOut}).Wait(context.Background())
}

// Reconnected re-checks the login after a reconnection.
func (o feedOwner) Reconnected() {
	o.c.enqueue(context.Background(), Call{kind: kindRefresh})
}

func (c *Client) feedUp() {
	if c.debugging() {
		c.debug("feed: up")
	}
	c.mu.Lock()
	cb := c.feedCBs.OnUp
	c.mu.Unlock()
	if cb != nil {
		cb()
	}
}

func (c *Client) feedError(errno int, text string) {
	if c.debugging() {
		c.debug("feed: errno " + strconv.Itoa(errno) + ": " + text)
	}
	c.mu.Lock()
	cb := c.feedCBs.OnError
	c.mu.Unlock()
	if cb != nil {
		cb(errno, text+" (errno "+strconv.Itoa(errno)+")")
	}
}
