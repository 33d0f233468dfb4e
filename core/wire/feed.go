package wire

import "strconv"

// Feed message types (see web/PROTOCOL.md, The live feed).
const (
	FeedAuth  = "auth"  // the client's first message
	FeedReady = "ready" // the server's answer: the feed is up
	FeedPing  = "ping"
	FeedPong  = "pong"
)

// FeedMessage is what the client reads of a feed message: its type and,
// in "ready", the PBX's version. Other fields are skipped.
type FeedMessage struct {
	Type    string
	Version string
}

// DecodeFeedMessage reads a feed message; unknown fields are skipped, for
// forward compatibility.
func DecodeFeedMessage(data []byte) (*FeedMessage, error) {
	p := parser{data: data}
	var m FeedMessage
	err := p.object(0, func(key string) error {
		switch key {
		case "type":
			return p.stringInto(&m.Type)
		case "version":
			return p.stringInto(&m.Version)
		}
		return p.otherKey(key, "type", "version")
	})
	if err == nil {
		p.space()
		if p.i != len(p.data) {
			err = p.fail("unexpected data after the message")
		}
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// EncodeFeedAuth returns the client's first message:
// {"type":"auth","session":S,"pingtime":N}.
func EncodeFeedAuth(session string, pingSeconds int) []byte {
	b := append(make([]byte, 0, 96), `{"type":"auth","session":`...)
	b = appendString(b, session)
	b = append(b, `,"pingtime":`...)
	b = strconv.AppendInt(b, int64(pingSeconds), 10)
	return append(b, '}')
}
