// Package overlay is the login overlay's postMessage protocol.
//
// It holds the messages between the browser module and the PBX's login
// page that the module shows in an iframe, parsed and written here so that
// the rules are tested natively. jsbridge does the DOM work around it;
// web/internal/site/login.js is the page's side; web/PROTOCOL.md, "The login
// overlay", tells the story.
//
// The conversation:
//
//	module: iframe src  {PBX}/api/login.html#parent=<page origin>    Frame.PageURL
//	page → module       {"pbxauth":"ready"}
//	module → page       {"pbxauth":"options","subid":S,"notoken":B,
//	                     "application":A,"origin":O}                 Options.Encode
//	page → module       {"pbxauth":"result","session":S,
//	                     "token":{"value":V,"expires":MS}|null}
//	                  | {"pbxauth":"failed","code":"auth_failed","message":M}
//	                  | {"pbxauth":"close"}
//
// A message to the module (Frame.Parse) is taken only when all of these hold;
// jsbridge hands over event.origin, whether event.source is the iframe's
// window, and event.data as JSON.stringify writes it:
//
//   - Origin: event.origin equals the PBX's origin byte for byte. The PBX's
//     origin is its host as browsers serialise an origin: lowercase scheme
//     (http or https) and host, no trailing slash, no default port (":443"
//     of https and ":80" of http are dropped). Nothing is folded on the
//     message's side: "https://PBX.example", "https://pbx.example/",
//     "https://pbx.example:443", "http://pbx.example" and "null" are other
//     origins. (Browsers also rewrite IPv6 addresses to their shortest form
//     and numeric host names to dotted quads; a PBX host written otherwise
//     matches nothing, so write it as the browser's address bar does.)
//   - Source: event.source is the overlay iframe's own window, not the page,
//     another frame, or a window the login page opened.
//   - Size: the serialised message is at most MaxMessage bytes.
//   - Syntax: one JSON object, strictly (core/backend/jsontext): valid UTF-8,
//     no duplicate keys, nothing after it; a key that differs from a field
//     only in case is refused; other keys are ignored, for later pages.
//   - Kind: "pbxauth" is "ready", "result", "failed" or "close".
//   - Fields: every field below is checked wherever it appears, and dropped
//     when its kind does not use it; null is absent. A result has a
//     "session" of 1 to backend.MaxSession visible ASCII characters, and a
//     "token" that is absent, null, or {"value", "expires"}: the value 1 to
//     MaxToken visible ASCII characters (no spaces or controls), as
//     core/auth's login tokens; expires a whole number of milliseconds
//     since 1970, from 1 to MaxExpires. A failed message has "code"
//     "auth_failed" and a "message" string, kept clipped to MaxText bytes
//     at a character boundary.
//
// Errors (of type Error) say which rule a message broke and never repeat a
// session or a token: constants, but for a field of the wrong type, which
// they name, and bad JSON, whose fault (and byte offset) they give.
// ErrOrigin and ErrWindow mean the message is not the login page's at all
// (a page receives many), and Frame.Check, which gives only them, lets a
// caller ignore those quietly before serialising their data. A message of
// a known kind that breaks a rule is told apart from another script's
// message by the Kind that Parse returns with the error.
//
// The options the module sends follow the rules login.js applies to them
// (ParseOptions, Options.Check): a sub-ID empty or 1 to 64 of A-Z a-z 0-9 -
// _; notoken a boolean; application "", "refreshable" or "longLogin"; origin
// empty or an http(s) origin as browsers serialise it; null or absent is
// the zero value; at most MaxMessage bytes.
package overlay

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/backend"
	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/core/backend/jsontext"
	"github.com/pbxauth/pbxauth/core/endpoint"
)

// Kind names a message; the key KindKey carries it.
type Kind string

// The kinds of message.
const (
	KindReady   Kind = "ready"   // page → module: loaded; send the options
	KindOptions Kind = "options" // module → page: what the login asks for
	KindResult  Kind = "result"  // page → module: logged in
	KindFailed  Kind = "failed"  // page → module: wrong password, too often
	KindClose   Kind = "close"   // page → module: the user closed it
)

// KindKey is the key of every message that holds its kind.
const KindKey = "pbxauth"

// CodeAuthFailed is the code of a failed message, the only one there is.
const CodeAuthFailed = "auth_failed"

// LoginPath is the login page's path on the PBX.
const LoginPath = "/api/login.html"

// Limits.
const (
	// MaxMessage bounds a message serialised as JSON, in bytes: a result
	// with the longest session and token, every character escaped, is
	// under 3,200.
	MaxMessage = 4096
	// MaxToken bounds a token's value, as core/auth's MaxTokenLen.
	MaxToken = 512
	// MaxText bounds the text of a failed message that is kept, in bytes.
	MaxText = 200
	// MaxExpires is the latest expiry, in milliseconds since 1970: the
	// last instant a JavaScript Date holds (year 275760).
	MaxExpires = 8_640_000_000_000_000
)

// Error is a rule a message broke.
type Error string

func (e Error) Error() string { return string(e) }

// The rules a message can break.
const (
	ErrOrigin      Error = "overlay: a message from another origin than the PBX's"
	ErrWindow      Error = "overlay: a message from the PBX's origin but not from the login page's window"
	ErrSize        Error = "overlay: a message of over 4096 bytes"
	ErrKind        Error = "overlay: a message whose " + KindKey + " is not \"ready\", \"result\", \"failed\" or \"close\""
	ErrSession     Error = "overlay: a result without a session of 1 to 1024 visible ASCII characters"
	ErrToken       Error = "overlay: a token that is neither an object nor null"
	ErrTokenValue  Error = "overlay: a token without a value of 1 to 512 visible ASCII characters"
	ErrExpires     Error = "overlay: a token without an expiry in whole milliseconds from 1970 to the year 275760"
	ErrCode        Error = "overlay: a failed message whose code is not \"" + CodeAuthFailed + "\""
	ErrOptionsKind Error = "overlay: a message whose " + KindKey + " is not \"options\" where options were expected"
	ErrSubID       Error = "overlay: a sub-ID that is neither empty nor 1 to 64 of A-Z, a-z, 0-9, '-' and '_'"
	ErrApplication Error = "overlay: an application that is not \"\", \"refreshable\" or \"longLogin\""
	ErrOptOrigin   Error = "overlay: an origin that is neither empty nor an http(s) origin as browsers write it (scheme://host[:port], lowercase, no default port, no slash)"
)

// Message is a message from the login page to the module.
type Message struct {
	Kind    Kind
	Session string         // KindResult: the session the login made
	Token   *backend.Token // KindResult: the token it made; nil when none
	Code    string         // KindFailed: CodeAuthFailed
	Text    string         // KindFailed: what the page says went wrong; may be ""
}

// Frame is one login overlay's iframe: the PBX origin its page loads from
// and whose messages it takes.
type Frame struct {
	origin string
}

// NewFrame returns the frame of the login page of the PBX at host
// (scheme://host[:port], as setHost gives it).
func NewFrame(host string) (Frame, error) {
	o, err := Origin(host)
	return Frame{origin: o}, err
}

// Origin returns host's origin as browsers serialise it (see the package
// doc), or why host has none.
func Origin(host string) (string, error) {
	e, err := endpoint.ParseAPI(host)
	if err != nil {
		return "", err
	}
	if e.Scheme == "https" && e.Port == "443" || e.Scheme == "http" && e.Port == "80" {
		e.Port = ""
	}
	return e.String(), nil
}

// IsOrigin reports whether s is an http(s) origin exactly as browsers
// serialise it (as new URL(s).origin === s does in login.js).
func IsOrigin(s string) bool {
	o, err := Origin(s)
	return err == nil && o == s // o is scheme://host[:port]
}

// Origin returns the origin the frame's messages must come from.
func (f Frame) Origin() string { return f.origin }

// PageURL returns the iframe's src: the login page, told the origin of the
// page that shows it (location.origin) in its fragment.
func (f Frame) PageURL(parent string) string {
	return f.origin + LoginPath + "#parent=" + escapeComponent(parent)
}

// Check applies the origin and source rules alone: ErrOrigin, ErrWindow or
// nil.
func (f Frame) Check(origin string, fromFrame bool) error {
	if origin != f.origin {
		return ErrOrigin
	}
	if !fromFrame {
		return ErrWindow
	}
	return nil
}

// Parse reads a message that a window posted: its event's origin, whether
// its source is the frame's window, and its data as JSON text. When a
// message of a known kind breaks a rule, the Message returned with the
// error has that Kind (and nothing else), so that a caller can tell a
// broken message of the login page from another script's message, whose
// Kind is "".
func (f Frame) Parse(origin string, fromFrame bool, data string) (Message, error) {
	if err := f.Check(origin, fromFrame); err != nil {
		return Message{}, err
	}
	var (
		kind, code, text string
		m                Message
	)
	strs := [...]*string{&kind, &m.Session, &code, &text}
	err := readObject(data, func(p *jsontext.Parser, key string) error {
		for i, k := range messageKeys {
			if key == k && i < len(strs) {
				return readString(p, key, strs[i])
			}
		}
		if key == "token" {
			return readToken(p, &m.Token)
		}
		return p.OtherKey(key, messageKeys[:]...)
	})
	switch m.Kind = Kind(kind); {
	case m.Kind != KindReady && m.Kind != KindClose && m.Kind != KindResult && m.Kind != KindFailed:
		if err == nil {
			err = ErrKind
		}
		return Message{}, err
	case err != nil:
	case m.Kind == KindResult:
		if backend.ValidSession(m.Session) {
			return m, nil
		}
		err = ErrSession
	case m.Kind == KindFailed:
		if code == CodeAuthFailed {
			return Message{Kind: m.Kind, Code: code, Text: clipText(text)}, nil
		}
		err = ErrCode
	}
	return Message{Kind: m.Kind}, err
}

// messageKeys are the fields of the messages to the module: the strings,
// then the token.
var messageKeys = [...]string{KindKey, "session", "code", "message", "token"}

// Encode writes m as the login page posts it and JSON.stringify writes it
// (so that a message Parse took encodes within MaxMessage). The fields
// m.Kind does not use are left out; a result always has its token, null
// when there is none.
func (m Message) Encode() string {
	b := appendJS([]byte(`{"`+KindKey+`":`), string(m.Kind))
	switch m.Kind {
	case KindResult:
		b = appendJS(append(b, `,"session":`...), m.Session)
		b = append(b, `,"token":`...)
		if m.Token == nil {
			b = append(b, "null"...)
		} else {
			b = appendJS(append(b, `{"value":`...), m.Token.Value)
			b = append(strconv.AppendInt(append(b, `,"expires":`...), m.Token.Expires.UnixMilli(), 10), '}')
		}
	case KindFailed:
		b = appendJS(append(b, `,"code":`...), m.Code)
		b = appendJS(append(b, `,"message":`...), m.Text)
	}
	return string(append(b, '}'))
}

// appendJS appends s as a JSON string as JSON.stringify writes it: only '"',
// '\\' and control characters escaped (invalid UTF-8 becomes U+FFFD, as
// a Go string reaches JavaScript).
func appendJS(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			if i := strings.IndexRune("\b\t\n\f\r", r); i >= 0 {
				b = append(b, '\\', "btnfr"[i])
			} else {
				b = append(b, '\\', 'u', '0', '0', '0'+byte(r>>4), "0123456789abcdef"[r&15])
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// Options is the module's message to the login page: what the login asks
// for (auth.PromptRequest's fields).
type Options struct {
	SubID       string
	NoToken     bool
	Application string // "", "refreshable" or "longLogin"
	Origin      string // the origin the token is bound to; "" for the page's
}

// Check reports the first option the login page would refuse.
func (o Options) Check() error {
	switch {
	case o.SubID != "" && !wire.ValidSubID(o.SubID):
		return ErrSubID
	case o.Application != "" && o.Application != wire.TokenRefreshable && o.Application != wire.TokenLongLogin:
		return ErrApplication
	case o.Origin != "" && !IsOrigin(o.Origin):
		return ErrOptOrigin
	}
	return nil
}

// Encode writes the options message.
func (o Options) Encode() string {
	return `{"` + KindKey + `":"` + string(KindOptions) + `","subid":` + jsontext.Quote(o.SubID) +
		`,"notoken":` + strconv.FormatBool(o.NoToken) + `,"application":` + jsontext.Quote(o.Application) +
		`,"origin":` + jsontext.Quote(o.Origin) + `}`
}

// ParseOptions reads an options message as the login page takes it (the
// page checks its origin and source itself).
func ParseOptions(data string) (Options, error) {
	var (
		kind string
		o    Options
	)
	err := readObject(data, func(p *jsontext.Parser, key string) error {
		switch key {
		case KindKey:
			return readString(p, key, &kind)
		case "subid":
			return readString(p, key, &o.SubID)
		case "notoken":
			switch p.Peek() {
			case 't', 'f':
				o.NoToken = p.Peek() == 't'
			case 'n':
			default:
				return Error("overlay: notoken is not a boolean")
			}
			return p.Skip(1)
		case "application":
			return readString(p, key, &o.Application)
		case "origin":
			return readString(p, key, &o.Origin)
		}
		return p.OtherKey(key, KindKey, "subid", "notoken", "application", "origin")
	})
	switch {
	case err != nil:
		return Options{}, err
	case Kind(kind) != KindOptions:
		return Options{}, ErrOptionsKind
	}
	if err := o.Check(); err != nil {
		return Options{}, err
	}
	return o, nil
}

// readObject reads data, at most MaxMessage bytes, as one strict JSON
// object (see jsontext.ReadObject); its syntax errors say so.
func readObject(data string, member func(p *jsontext.Parser, key string) error) error {
	if len(data) > MaxMessage {
		return ErrSize
	}
	err := jsontext.ReadObject([]byte(data), member)
	if _, ours := err.(Error); err != nil && !ours {
		return Error("overlay: the message is not one strict JSON object: " + strings.TrimPrefix(err.Error(), jsontext.ErrSyntax.Error()+"\n"))
	}
	return err
}

// readString reads key's value: a string, or null for absent.
func readString(p *jsontext.Parser, key string, dst *string) error {
	if c := p.Peek(); c != '"' && c != 'n' {
		return Error("overlay: " + key + " is not a string")
	}
	return p.StringInto(dst)
}

// readToken reads a token: null, or an object of value and expires.
func readToken(p *jsontext.Parser, dst **backend.Token) error {
	switch p.Peek() {
	case 'n':
		return p.Skip(1)
	case '{':
	default:
		return ErrToken
	}
	var (
		value string
		ms    int64
	)
	err := p.Object(1, func(key string) error {
		switch key {
		case "value":
			return readString(p, "token.value", &value)
		case "expires":
			if p.Int64Into(&ms) != nil {
				return ErrExpires
			}
			return nil
		}
		return p.OtherKey(key, "value", "expires")
	})
	switch {
	case err != nil:
		return err
	case len(value) > MaxToken || !backend.ValidSession(value):
		return ErrTokenValue
	case ms <= 0 || ms > MaxExpires:
		return ErrExpires
	}
	*dst = &backend.Token{Value: value, Expires: time.UnixMilli(ms)}
	return nil
}

// clipText keeps at most MaxText bytes of s (valid UTF-8), cut at a
// character boundary.
func clipText(s string) string {
	if len(s) <= MaxText {
		return s
	}
	cut := MaxText
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// escapeComponent escapes s as JavaScript's encodeURIComponent does (for
// valid UTF-8): every byte but A-Z a-z 0-9 - _ . ! ~ * ' ( ) as %XX.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 3*len(s))
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b[n] = c
			n++
			continue
		}
		b[n], b[n+1], b[n+2] = '%', hex[c>>4], hex[c&15]
		n += 3
	}
	return string(b[:n])
}
