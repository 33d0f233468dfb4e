// Package feedserver serves the local PBX server's live feed.
//
// The feed (web/PROTOCOL.md, "The live feed") is a WebSocket on which a
// logged-in client hears at once that its session has ended, however it
// ended, instead of finding out at its next call.
//
// A Hub owns the open feeds, indexed by the session each one follows. The
// server tells it of every session that ends (Hub.End, from the session
// store's end-of-session hook), and the hub itself looks once a second at
// the sessions of the open feeds, for those that end by time passing without
// any call to notice it. Either way, the session's feeds are closed with
// wire.FeedLoggedOut. Hub.Shutdown closes every feed with wire.FeedRestart,
// which http.Server.Shutdown cannot do: a feed's connection is hijacked.
//
// A user holds at most Options.MaxPerUser open feeds: the feed that goes
// over the cap closes the user's oldest with TooMany.
//
// The hub does not check the request's host or origin: the server mounts it
// behind the same checks as its REST calls.
package feedserver

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// Sessions is what the hub asks the server about sessions.
type Sessions interface {
	// Open returns the user of the live session id, as the REST replies
	// describe it but without the session, if the session was made under
	// subID ("" for none). It counts as a use of the session, as a REST call
	// of it would.
	Open(id, subID string) (wire.User, bool)
	// Alive reports whether the session id still lives, and its user too,
	// without counting a use. A session it finds dead has ended, and the
	// server tells the hub so (End) as for every end.
	Alive(id string) bool
}

// Options tune a hub. Every field may be left zero for the value of the
// protocol; tests shorten the timeouts.
type Options struct {
	// Version is what the ready message announces; "": BuildVersion().
	// A client that sees it change after reconnecting knows the server was
	// replaced.
	Version string
	// FirstMessage is how long a feed may take to send its auth message;
	// 0: wire.FeedFirstMessageSeconds.
	FirstMessage time.Duration
	// Silence is how long a feed that pings every pingtime may stay silent
	// before it counts as dead; nil: 2×pingtime + wire.FeedSilenceGraceSeconds.
	Silence func(pingtime time.Duration) time.Duration
	// CheckEvery is how often the hub looks at the sessions of the open
	// feeds; 0: a second.
	CheckEvery time.Duration
	// WriteTimeout bounds each message the hub sends; 0: 10 seconds.
	WriteTimeout time.Duration
	// MaxPerUser caps the open feeds of one user, counted once they are
	// ready: one more closes the user's oldest with TooMany. 0:
	// DefaultMaxPerUser; less than 0: no cap.
	MaxPerUser int
	// Logger gets a line when a feed opens and one when it closes; nil: no
	// logging. Never a session id or a sub-ID.
	Logger *log.Logger
}

// Defaults of Options.
const (
	DefaultCheckEvery   = time.Second
	DefaultWriteTimeout = 10 * time.Second
	DefaultMaxPerUser   = 100
)

// TooMany is the close code of a user's oldest feed when a new one goes
// over Options.MaxPerUser: the standard Policy Violation, reason "too many
// feeds". The session lives on; its client should not reconnect that feed
// at once, or it closes the next oldest.
const TooMany websocket.StatusCode = websocket.StatusPolicyViolation

// maxMessage bounds a client message; the auth message, the longest, is
// under 100 bytes. A longer one closes the feed with 1009 (message too big).
const maxMessage = 4 << 10

// Hub serves the feed at wire.FeedPath and owns the open feeds. Make it with
// New; it is an http.Handler.
type Hub struct {
	sessions     Sessions
	version      string
	firstMessage time.Duration
	silence      func(time.Duration) time.Duration
	checkEvery   time.Duration
	writeTimeout time.Duration
	maxPerUser   int // 0: no cap
	log          *log.Logger

	lastID atomic.Uint64

	mu        sync.Mutex
	feeds     map[*feed]struct{}            // every open feed, before its auth too
	bySession map[string]map[*feed]struct{} // the feeds whose auth named a session, by its id
	byUser    map[int64][]*feed             // the ready feeds, by user, oldest first
	stopCheck chan struct{}                 // closes to stop the check; nil while no feed follows a session
	closing   bool                          // Shutdown has begun: no new feeds
}

// New returns a hub that asks sessions about sessions.
func New(sessions Sessions, opts Options) *Hub {
	h := &Hub{
		sessions:     sessions,
		version:      opts.Version,
		firstMessage: opts.FirstMessage,
		silence:      opts.Silence,
		checkEvery:   opts.CheckEvery,
		writeTimeout: opts.WriteTimeout,
		maxPerUser:   opts.MaxPerUser,
		log:          opts.Logger,
		feeds:        map[*feed]struct{}{},
		bySession:    map[string]map[*feed]struct{}{},
		byUser:       map[int64][]*feed{},
	}
	switch {
	case h.maxPerUser == 0:
		h.maxPerUser = DefaultMaxPerUser
	case h.maxPerUser < 0:
		h.maxPerUser = 0
	}
	if h.version == "" {
		h.version = BuildVersion()
	}
	if h.firstMessage <= 0 {
		h.firstMessage = wire.FeedFirstMessageSeconds * time.Second
	}
	if h.silence == nil {
		h.silence = func(p time.Duration) time.Duration { return 2*p + wire.FeedSilenceGraceSeconds*time.Second }
	}
	if h.checkEvery <= 0 {
		h.checkEvery = DefaultCheckEvery
	}
	if h.writeTimeout <= 0 {
		h.writeTimeout = DefaultWriteTimeout
	}
	if h.log == nil {
		h.log = log.New(io.Discard, "", 0)
	}
	return h
}

// BuildVersion is the version a hub announces by default: the main module's
// version as the build recorded it, or "devel" for a build from a work tree,
// followed by the VCS revision when the build recorded one ("+dirty" for a
// modified tree).
func BuildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev != "" {
		v += "-" + rev[:min(12, len(rev))] + dirty
	}
	return v
}

// End closes every feed of the session id with wire.FeedLoggedOut. The
// server calls it for every session that ends, however it ends; a session
// without feeds is no error.
func (h *Hub) End(id string) {
	for _, f := range h.following(id) {
		f.close(wire.FeedLoggedOut, "its session ended")
	}
}

// following returns the feeds of the session id.
func (h *Hub) following(id string) []*feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.bySession[id]
	fs := make([]*feed, 0, len(set))
	for f := range set {
		fs = append(fs, f)
	}
	return fs
}

// Len returns the number of open feeds.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.feeds)
}

// Shutdown closes every open feed with wire.FeedRestart, refuses new ones
// (they are closed the same way once upgraded), and waits until the feeds
// have closed or ctx ends. Run it beside http.Server.Shutdown, which does
// not close hijacked connections such as the feeds'.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	fs := make([]*feed, 0, len(h.feeds))
	for f := range h.feeds {
		fs = append(fs, f)
	}
	h.mu.Unlock()
	for _, f := range fs {
		f.close(wire.FeedRestart, "the server is shutting down")
	}
	for _, f := range fs {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// add records a new feed; it refuses it once Shutdown has begun.
func (h *Hub) add(f *feed) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.feeds[f] = struct{}{}
	return true
}

// follow indexes f under the session id its auth message named, and starts
// the check of the sessions if f is the only feed that follows one. It runs
// before the session is opened, so that an end that comes between the two
// is not missed.
func (h *Hub) follow(f *feed, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.mu.Lock()
	f.session = id
	f.mu.Unlock()
	set := h.bySession[id]
	if set == nil {
		set = map[*feed]struct{}{}
		h.bySession[id] = set
	}
	set[f] = struct{}{}
	if h.stopCheck == nil {
		h.stopCheck = make(chan struct{})
		go h.check(h.stopCheck)
	}
}

// ready counts f among the ready feeds of its user, and returns the user's
// oldest feed if that makes one too many (nil if not), for the caller to
// close.
func (h *Hub) ready(f *feed, user int64) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.mu.Lock()
	f.user, f.counted = user, true
	f.mu.Unlock()
	list := append(h.byUser[user], f)
	var oldest *feed
	if h.maxPerUser > 0 && len(list) > h.maxPerUser {
		oldest, list = list[0], list[1:]
		oldest.mu.Lock()
		oldest.counted = false
		oldest.mu.Unlock()
	}
	h.byUser[user] = list
	return oldest
}

// Feeds returns the number of ready feeds of a user.
func (h *Hub) Feeds(user int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byUser[user])
}

// remove forgets a feed that has closed, and stops the check when no feed
// follows a session any more.
func (h *Hub) remove(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.feeds, f)
	f.mu.Lock()
	id, user, counted := f.session, f.user, f.counted
	f.mu.Unlock()
	if counted {
		list := slices.DeleteFunc(slices.Clone(h.byUser[user]), func(g *feed) bool { return g == f })
		if len(list) == 0 {
			delete(h.byUser, user)
		} else {
			h.byUser[user] = list
		}
	}
	if set := h.bySession[id]; set != nil {
		delete(set, f)
		if len(set) == 0 {
			delete(h.bySession, id)
		}
	}
	if len(h.bySession) == 0 && h.stopCheck != nil {
		close(h.stopCheck)
		h.stopCheck = nil
	}
}

// check looks every checkEvery at the session of each open feed, for the
// sessions that end by time passing (idle or age limit, a token's death, an
// external user's deletion), which no call reports. A look is no use of a
// session. A dead session's end reaches End through the server's hook;
// the hub calls End too, in case the session was already gone.
func (h *Hub) check(stop <-chan struct{}) {
	t := time.NewTicker(h.checkEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ids := make([]string, 0, len(h.bySession))
		for id := range h.bySession {
			ids = append(ids, id)
		}
		h.mu.Unlock()
		for _, id := range ids {
			if !h.sessions.Alive(id) {
				h.End(id)
			}
		}
	}
}

// ServeHTTP upgrades the request to a feed and serves it until it closes.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	subID, subErr := subIDOf(r)
	cookie := ""
	if subID == "" {
		if ck, err := r.Cookie(wire.CookieName); err == nil {
			cookie = ck.Value
		}
	}
	// The server's ReadTimeout and WriteTimeout stay on the connection
	// after it is hijacked, and would cut the feed: clear them. Each
	// message the hub sends has its own deadline instead.
	rc := http.NewResponseController(w)
	for _, err := range []error{rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})} {
		if err != nil && !errors.Is(err, http.ErrNotSupported) {
			h.log.Printf("feed: clearing the connection's deadlines: %v", err)
		}
	}
	// The server has checked the Origin already, with the same rules as for
	// its REST calls; coder/websocket's own check knows nothing of them.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered: the request was no WebSocket handshake
	}
	conn.SetReadLimit(maxMessage)
	f := &feed{id: h.lastID.Add(1), conn: conn, opened: time.Now(), done: make(chan struct{})}
	defer close(f.done)
	if !h.add(f) {
		h.log.Printf("feed %d refused: the server is shutting down", f.id)
		f.close(wire.FeedRestart, "the server is shutting down")
		h.drain(f)
		return
	}
	defer h.remove(f)
	if subErr != nil {
		f.close(wire.FeedBadRequest, subErr.Error())
	}
	h.serve(f, subID, cookie)
}

// subIDOf returns the sub-ID of the handshake, "" for none, with the rules
// of the REST calls.
func subIDOf(r *http.Request) (string, error) {
	vs, ok := r.URL.Query()[wire.SubIDParam]
	if !ok {
		return "", nil
	}
	if len(vs) != 1 || !wire.ValidSubID(vs[0]) {
		return "", errors.New("a bad sub-ID")
	}
	return vs[0], nil
}
