package wire

import (
	"strconv"

	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

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
	p := jsontext.NewParser(data)
	var m FeedMessage
	err := p.Object(0, func(key string) error {
		switch key {
		case "type":
			return p.StringInto(&m.Type)
		case "version":
			return p.StringInto(&m.Version)
		}
		return p.OtherKey(key, "type", "version")
	})
	if err == nil {
		err = p.End()
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
	b = jsontext.AppendString(b, session)
	b = append(b, `,"pingtime":`...)
	b = strconv.AppendInt(b, int64(pingSeconds), 10)
	return append(b, '}')
}
