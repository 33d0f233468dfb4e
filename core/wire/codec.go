package wire

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file encodes requests and decodes replies without encoding/json. The
// browser build links the client side, and encoding/json costs it about
// 110 KB brotli on every page load (README.md, How it is built); the two shapes
// here need a few hundred lines. The decoder is strict: whatever it accepts,
// encoding/json accepts with the same result (codec_test.go checks that by
// fuzzing), and it refuses what a PBX has no reason to send: duplicate keys,
// keys that differ from a field only in case, invalid UTF-8, lone surrogates,
// nesting deeper than maxDepth.

// maxDepth bounds nesting, so that hostile input cannot exhaust the stack.
const maxDepth = 64

// EncodeRequest returns r as JSON, byte for byte as json.Marshal would.
func EncodeRequest(r Request) []byte {
	a := r.Auth
	b := append(make([]byte, 0, 128), `{"auth":{"type":`...)
	b = appendString(b, a.Type)
	for _, f := range [...]struct{ name, v string }{
		{"username", a.Username}, {"password", a.Password}, {"key", a.Key}, {"company", a.Company},
	} {
		b = appendField(b, f.name, f.v)
	}
	if a.GetNew {
		b = append(b, `,"getnew":true`...)
	}
	b = appendField(b, "token", a.Token)
	if a.NoToken {
		b = append(b, `,"notoken":true`...)
	}
	b = appendField(b, "application", a.Application)
	b = appendField(b, "origin", a.Origin)
	return append(b, "}}"...)
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendString appends s as a JSON string with encoding/json's escaping
// (HTML-safe, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// DecodeResponse parses a reply body into a Response.
func DecodeResponse(data []byte) (*Response, error) {
	p := parser{data: data}
	var r Response
	err := p.object(0, func(key string) error {
		switch key {
		case "result":
			return p.stringInto(&r.Result)
		case "password":
			return p.stringInto(&r.Password)
		case "user":
			return p.nullable(func() error {
				r.User = &User{}
				return p.user(r.User)
			})
		case "token":
			return p.nullable(func() error {
				r.Token = &Token{}
				return p.object(1, func(key string) error {
					switch key {
					case "value":
						return p.stringInto(&r.Token.Value)
					case "expires":
						return p.int64Into(&r.Token.Expires)
					}
					return p.otherKey(key, "value", "expires")
				})
			})
		case "error":
			return p.nullable(func() error {
				r.Error = &Error{}
				return p.object(1, func(key string) error {
					switch key {
					case "code":
						return p.stringInto(&r.Error.Code)
					case "message":
						return p.stringInto(&r.Error.Message)
					}
					return p.otherKey(key, "code", "message")
				})
			})
		}
		return p.otherKey(key, "result", "password", "user", "token", "error")
	})
	if err == nil {
		p.space()
		if p.i != len(p.data) {
			err = p.fail("unexpected data after the reply")
		}
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (p *parser) user(u *User) error {
	return p.object(1, func(key string) error {
		switch key {
		case "id":
			return p.int64Into(&u.ID)
		case "login":
			return p.stringInto(&u.Login)
		case "name":
			return p.stringInto(&u.Name)
		case "company":
			return p.stringInto(&u.Company)
		case "home":
			return p.stringInto(&u.Home)
		case "session":
			return p.stringInto(&u.Session)
		case "perms":
			return p.nullable(func() error {
				u.Perms = map[string]string{}
				return p.object(2, func(k string) error {
					var v string
					if p.peek() == 'n' {
						return p.fail("perms." + k + " is null")
					}
					err := p.stringInto(&v)
					u.Perms[k] = v
					return err
				})
			})
		}
		return p.otherKey(key, "id", "perms", "login", "name", "company", "home", "session")
	})
}

// parser is a recursive-descent JSON reader over data.
type parser struct {
	data []byte
	i    int
}

// ErrSyntax is wrapped by every decoding error.
var ErrSyntax = errors.New("invalid JSON reply")

func (p *parser) fail(msg string) error {
	return errors.Join(ErrSyntax, errors.New(msg+" at byte "+strconv.Itoa(p.i)))
}

func (p *parser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

// object reads {"key": value, ...}, calling member with the parser placed at
// each value; member must consume it. Duplicate keys are refused.
func (p *parser) object(depth int, member func(key string) error) error {
	if depth > maxDepth {
		return p.fail("nesting too deep")
	}
	if p.peek() != '{' {
		return p.fail("expected an object")
	}
	p.i++
	var seen []string // replies have few keys: a scan beats a map
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.fail("expected a key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		for _, k := range seen {
			if k == key {
				return p.fail("duplicate key " + strconv.Quote(key))
			}
		}
		seen = append(seen, key)
		if p.peek() != ':' {
			return p.fail("expected ':'")
		}
		p.i++
		if err := member(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

// otherKey skips the value of a key that is not a field, but refuses one that
// differs from a field only in case, which encoding/json would match.
func (p *parser) otherKey(key string, known ...string) error {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return p.fail("key " + strconv.Quote(key) + " differs from " + strconv.Quote(k) + " in case")
		}
	}
	return p.skip(2)
}

// nullable runs read unless the value is null, which leaves the field as it is.
func (p *parser) nullable(read func() error) error {
	if p.peek() == 'n' {
		return p.literal("null")
	}
	return read()
}

func (p *parser) stringInto(dst *string) error {
	return p.nullable(func() error {
		if p.peek() != '"' {
			return p.fail("expected a string")
		}
		s, err := p.str()
		*dst = s
		return err
	})
}

func (p *parser) int64Into(dst *int64) error {
	return p.nullable(func() error {
		start := p.i
		if err := p.number(); err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(p.data[start:p.i]), 10, 64)
		if err != nil {
			return p.fail("expected an integer")
		}
		*dst = n
		return nil
	})
}

// skip reads and discards any value.
func (p *parser) skip(depth int) error {
	if depth > maxDepth {
		return p.fail("nesting too deep")
	}
	switch c := p.peek(); {
	case c == '{':
		return p.object(depth, func(string) error { return p.skip(depth + 1) })
	case c == '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return nil
			default:
				return p.fail("expected ',' or ']'")
			}
		}
	case c == '"':
		_, err := p.str()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return p.fail("expected a value")
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return p.fail("expected " + word)
	}
	p.i += len(word)
	return nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *parser) number() error {
	d := p.data
	digits := func() int {
		n := 0
		for p.i < len(d) && d[p.i] >= '0' && d[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(d) && d[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(d) && d[p.i] == '0':
		p.i++
	case digits() == 0:
		return p.fail("expected a number")
	}
	if p.i < len(d) && d[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.fail("expected digits after '.'")
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.fail("expected digits in the exponent")
		}
	}
	return nil
}

// str reads a string at p.i (which is '"'): valid UTF-8, no control
// characters, escapes decoded, lone surrogates refused.
func (p *parser) str() (string, error) {
	p.i++
	var b []byte
	start := p.i
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			s := string(append(b, p.data[start:p.i]...))
			p.i++
			return s, nil
		case c < 0x20:
			return "", p.fail("control character in a string")
		case c == '\\':
			b = append(b, p.data[start:p.i]...)
			p.i++
			var err error
			if b, err = p.escape(b); err != nil {
				return "", err
			}
			start = p.i
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.data[p.i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.fail("invalid UTF-8 in a string")
			}
			p.i += size
		}
	}
	return "", p.fail("unterminated string")
}

func (p *parser) escape(b []byte) ([]byte, error) {
	if p.i >= len(p.data) {
		return b, p.fail("unterminated escape")
	}
	c := p.data[p.i]
	p.i++
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return b, p.fail("bad \\u escape")
		}
		if utf16.IsSurrogate(r) {
			if !strings.HasPrefix(string(p.data[p.i:min(len(p.data), p.i+2)]), `\u`) {
				return b, p.fail("lone surrogate")
			}
			p.i += 2
			r2, ok := p.hex4()
			if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
				return b, p.fail("lone surrogate")
			}
		}
		return utf8.AppendRune(b, r), nil
	}
	return b, p.fail("bad escape")
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}
