package fault

import (
	"fmt"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
)

// kind is what a Mode does.
type kind uint8

const (
	kindOff kind = iota
	kindLatency
	kindStatus500
	kindReset
	kindTruncate
	kindNotJSON
	kindOversized
	kindDropFeed
)

// Mode is the fault an Injector applies to every API request while it is
// set. The zero Mode is Off.
type Mode struct {
	k     kind
	delay time.Duration
}

// The modes. Status500, Reset, Truncate, NotJSON and Oversized fault the
// REST calls and leave the live feed alone; DropFeed faults the live feed
// alone; Latency delays both.
var (
	// Off faults nothing: every request passes through.
	Off = Mode{}
	// Status500 answers every REST call with 500 Internal Server Error and
	// a plain-text body, as a failing server behind a proxy does.
	Status500 = Mode{k: kindStatus500}
	// Reset resets the connection of every REST call (TCP RST) without a
	// reply.
	Reset = Mode{k: kindReset}
	// Truncate answers every REST call with 200 and a Content-Length of
	// more than it then sends: the connection closes in the middle of the
	// body.
	Truncate = Mode{k: kindTruncate}
	// NotJSON answers every REST call with 200 and an HTML page, as a web
	// server that is not the PBX does.
	NotJSON = Mode{k: kindNotJSON}
	// Oversized answers every REST call with 200 and a well-formed JSON
	// success of OversizedBytes, over the client's limit
	// (wire.MaxBody).
	Oversized = Mode{k: kindOversized}
	// DropFeed cuts every open live feed's connection at once (TCP RST, no
	// close frame), and resets every new one before it opens, until the
	// mode changes. The REST calls pass through.
	DropFeed = Mode{k: kindDropFeed}
)

// Latency delays every API request (the REST calls and the opening of the
// live feed) by d, then passes it on; a request whose client gives up first
// never reaches the PBX. A change of mode answers the requests still
// waiting with 503 Service Unavailable without passing them on, so that
// none reaches the PBX after the test has moved on, whether or not the
// server has yet seen its client give up (and a reply, unlike a reset, is
// not sent again by the browser). Latency(0) is Off.
func Latency(d time.Duration) Mode {
	if d <= 0 {
		return Off
	}
	return Mode{k: kindLatency, delay: d}
}

// OversizedBytes is the size of Oversized's reply: four times what clients
// accept.
const OversizedBytes = 4 * wire.MaxBody

// Delay is the latency of a Latency mode, 0 for the others.
func (m Mode) Delay() time.Duration { return m.delay }

// names are the modes' names, as String writes them and ParseMode reads
// them; Latency is "latency=" and a Go duration.
var names = map[kind]string{
	kindOff:       "off",
	kindStatus500: "500",
	kindReset:     "reset",
	kindTruncate:  "truncate",
	kindNotJSON:   "notjson",
	kindOversized: "oversized",
	kindDropFeed:  "dropfeed",
}

// String is the mode's name: off, latency=2s, 500, reset, truncate,
// notjson, oversized or dropfeed.
func (m Mode) String() string {
	if m.k == kindLatency {
		return "latency=" + m.delay.String()
	}
	return names[m.k]
}

// ParseMode reads a mode's name as String writes it (case does not
// matter).
func ParseMode(s string) (Mode, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if d, ok := strings.CutPrefix(s, "latency="); ok {
		delay, err := time.ParseDuration(d)
		if err != nil || delay <= 0 {
			return Off, fmt.Errorf("fault: latency must be a positive Go duration such as latency=2s, not %q", d)
		}
		return Latency(delay), nil
	}
	for k, name := range names {
		if s == name {
			return Mode{k: k}, nil
		}
	}
	return Off, fmt.Errorf("fault: unknown mode %q; use off, latency=DURATION, 500, reset, truncate, notjson, oversized or dropfeed", s)
}
