// Package jsontext reads and writes JSON without encoding/json, for the browser build.
//
// encoding/json would cost the browser build about 110 KB brotli on every
// page load. This package has instead a strict recursive-descent parser
// (whatever it accepts, encoding/json accepts with the same result, in time
// linear in its size; FuzzReadObject and core/backend/ipcortex/wire fuzz
// that) and encoding/json's string escaping (FuzzReadObject checks it byte
// for byte).
//
// It is the module's one home of the strict rules for JSON that a peer
// sends: no key twice in an object (Parser.Object), no key that differs from
// a known name only in case, which encoding/json would match to it
// (CaseVariant, Parser.OtherKey), nothing after the value (Parser.End). The
// phone systems' codecs (core/backend/...) read replies with it; the local
// server's strict decoder (web/internal/strictjson) walks requests with it
// before encoding/json decodes them, so that both sides apply the same rules.
package jsontext

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds nesting, so that hostile input cannot exhaust the stack.
const MaxDepth = 64

// scanKeys is how many keys of an object are checked for duplicates by a
// scan; beyond it, by a map.
const scanKeys = 16

// clipKey bounds a key quoted in an error.
func clipKey(k string) string {
	if len(k) <= 64 {
		return k
	}
	return k[:64] + "..."
}

// NewParser reads data. Its strings must be valid UTF-8 without lone
// surrogates; see ReplaceInvalid.
func NewParser(data []byte) *Parser { return &Parser{data: data} }

// ReplaceInvalid makes p take strings that hold invalid UTF-8 or lone
// surrogate escapes, as encoding/json does, decoding each bad byte or
// surrogate as U+FFFD, instead of refusing them. It returns p.
func (p *Parser) ReplaceInvalid() *Parser {
	p.replace = true
	return p
}

// Offset returns how many bytes of the data p has read.
func (p *Parser) Offset() int { return p.i }

// End refuses data after the value read.
func (p *Parser) End() error {
	p.Space()
	if p.i != len(p.data) {
		return p.Fail("unexpected data after the value")
	}
	return nil
}

// Quote returns s as a JSON string, escaped as encoding/json would.
func Quote(s string) string { return string(AppendString(nil, s)) }

// appendString appends s as a JSON string with encoding/json's escaping
// (HTML-safe, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD).
func AppendString(b []byte, s string) []byte {
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

// Parser is a recursive-descent JSON reader over data.
type Parser struct {
	data    []byte
	i       int
	replace bool // see ReplaceInvalid
}

// ErrSyntax is wrapped by every decoding error.
var ErrSyntax = errors.New("invalid JSON reply")

// Fail returns an error that wraps ErrSyntax and says msg at the byte p is at.
func (p *Parser) Fail(msg string) error {
	return errors.Join(ErrSyntax, errors.New(msg+at(p.i)))
}

func at(offset int) string { return " at byte " + strconv.Itoa(offset) }

// KeyError is a key that the strict rules refuse: given twice in one object
// (Field is ""), or differing only in case from Field, a name the reader
// knows. It wraps ErrSyntax.
type KeyError struct {
	Key    string
	Field  string
	Offset int // where the parser was when it refused the key
}

func (e *KeyError) Error() string {
	msg := "duplicate key " + strconv.Quote(clipKey(e.Key))
	if e.Field != "" {
		msg = "key " + strconv.Quote(clipKey(e.Key)) + " differs from " + strconv.Quote(e.Field) + " in case"
	}
	return ErrSyntax.Error() + "\n" + msg + at(e.Offset)
}

func (e *KeyError) Unwrap() error { return ErrSyntax }

// CaseVariant returns the first of names that key equals only when case is
// ignored, as encoding/json matches keys to fields ("USERNAME" and
// "u\u017fername" for "username"); "" when key is one of names, or matches
// none.
func CaseVariant(key string, names ...string) string {
	variant := ""
	for _, n := range names {
		if n == key {
			return ""
		}
		if variant == "" && strings.EqualFold(key, n) {
			variant = n
		}
	}
	return variant
}

func (p *Parser) Space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *Parser) Peek() byte {
	p.Space()
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

// Object reads {"key": value, ...}, calling member with the parser placed at
// each value; member must consume it. A key given twice is refused with a
// *KeyError. depth is the object's nesting, checked against MaxDepth.
func (p *Parser) Object(depth int, member func(key string) error) error {
	if depth > MaxDepth {
		return p.Fail("nesting too deep")
	}
	if p.Peek() != '{' {
		return p.Fail("expected an object")
	}
	p.i++
	// Replies have few keys, for which a scan beats a map; a hostile reply
	// of thousands would make the scan quadratic, so past scanKeys a map
	// takes over.
	var seen []string
	var many map[string]bool
	if p.Peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.Peek() != '"' {
			return p.Fail("expected a key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		dup := many != nil && many[key] // no map code while there is no map
		for _, k := range seen {
			dup = dup || k == key
		}
		if dup {
			return &KeyError{Key: key, Offset: p.i}
		}
		switch {
		case many != nil:
			many[key] = true
		case len(seen) < scanKeys:
			seen = append(seen, key)
		default:
			many = make(map[string]bool, 2*scanKeys)
			for _, k := range append(seen, key) {
				many[k] = true
			}
			seen = nil
		}
		if p.Peek() != ':' {
			return p.Fail("expected ':'")
		}
		p.i++
		if err := member(key); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.Fail("expected ',' or '}'")
		}
	}
}

// OtherKey skips the value of a key that is not a field, but refuses one
// that differs from a field only in case, which encoding/json would match,
// with a *KeyError.
func (p *Parser) OtherKey(key string, known ...string) error {
	if k := CaseVariant(key, known...); k != "" {
		return &KeyError{Key: key, Field: k, Offset: p.i}
	}
	return p.Skip(2)
}

// Array reads [value, ...], calling elem with the parser placed at each
// value; elem must consume it. depth is the array's nesting, checked
// against MaxDepth.
func (p *Parser) Array(depth int, elem func() error) error {
	if depth > MaxDepth {
		return p.Fail("nesting too deep")
	}
	if p.Peek() != '[' {
		return p.Fail("expected an array")
	}
	p.i++
	if p.Peek() == ']' {
		p.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.Peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.Fail("expected ',' or ']'")
		}
	}
}

// Nullable runs read unless the value is null, which leaves the field as it is.
func (p *Parser) Nullable(read func() error) error {
	if p.Peek() == 'n' {
		return p.literal("null")
	}
	return read()
}

func (p *Parser) StringInto(dst *string) error {
	return p.Nullable(func() error {
		if p.Peek() != '"' {
			return p.Fail("expected a string")
		}
		s, err := p.str()
		*dst = s
		return err
	})
}

func (p *Parser) Int64Into(dst *int64) error {
	return p.Nullable(func() error {
		start := p.i
		if err := p.number(); err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(p.data[start:p.i]), 10, 64)
		if err != nil {
			return p.Fail("expected an integer")
		}
		*dst = n
		return nil
	})
}

// Skip reads and discards any value.
func (p *Parser) Skip(depth int) error {
	if depth > MaxDepth {
		return p.Fail("nesting too deep")
	}
	switch c := p.Peek(); {
	case c == '{':
		return p.Object(depth, func(string) error { return p.Skip(depth + 1) })
	case c == '[':
		return p.Array(depth, func() error { return p.Skip(depth + 1) })
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
	return p.Fail("expected a value")
}

func (p *Parser) literal(word string) error {
	if len(p.data)-p.i < len(word) || string(p.data[p.i:p.i+len(word)]) != word {
		return p.Fail("expected " + word)
	}
	p.i += len(word)
	return nil
}

// Number reads a number and returns it as written.
func (p *Parser) Number() (string, error) {
	p.Space()
	start := p.i
	if err := p.number(); err != nil {
		return "", err
	}
	return string(p.data[start:p.i]), nil
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *Parser) number() error {
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
		return p.Fail("expected a number")
	}
	if p.i < len(d) && d[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return p.Fail("expected digits after '.'")
		}
	}
	if p.i < len(d) && (d[p.i] == 'e' || d[p.i] == 'E') {
		p.i++
		if p.i < len(d) && (d[p.i] == '+' || d[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return p.Fail("expected digits in the exponent")
		}
	}
	return nil
}

// str reads a string at p.i (which is '"'): valid UTF-8, no control
// characters, escapes decoded, lone surrogates refused (or, with
// ReplaceInvalid, invalid bytes and lone surrogates decoded as U+FFFD).
func (p *Parser) str() (string, error) {
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
			return "", p.Fail("control character in a string")
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
				if !p.replace {
					return "", p.Fail("invalid UTF-8 in a string")
				}
				b = utf8.AppendRune(append(b, p.data[start:p.i]...), utf8.RuneError)
				start = p.i + 1
			}
			p.i += size
		}
	}
	return "", p.Fail("unterminated string")
}

func (p *Parser) escape(b []byte) ([]byte, error) {
	if p.i >= len(p.data) {
		return b, p.Fail("unterminated escape")
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
			return b, p.Fail("bad \\u escape")
		}
		if utf16.IsSurrogate(r) {
			if !strings.HasPrefix(string(p.data[p.i:min(len(p.data), p.i+2)]), `\u`) {
				return p.loneSurrogate(b)
			}
			p.i += 2
			r2, ok := p.hex4()
			if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
				if !p.replace {
					return b, p.Fail("lone surrogate")
				}
				p.i -= 2 // not a pair: the next escape is read on its own
				if ok {
					p.i -= 4
				}
				return utf8.AppendRune(b, utf8.RuneError), nil
			}
		}
		return utf8.AppendRune(b, r), nil
	}
	return b, p.Fail("bad escape")
}

// loneSurrogate refuses a surrogate escape without its other half or, with
// ReplaceInvalid, decodes it as U+FFFD, as encoding/json does.
func (p *Parser) loneSurrogate(b []byte) ([]byte, error) {
	if !p.replace {
		return b, p.Fail("lone surrogate")
	}
	return utf8.AppendRune(b, utf8.RuneError), nil
}

func (p *Parser) hex4() (rune, bool) {
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

// ReadObject reads data as one JSON object, calling member with the parser
// placed at each value (member must consume it: StringInto, Skip, ...), and
// refuses data after it.
func ReadObject(data []byte, member func(p *Parser, key string) error) error {
	p := NewParser(data)
	if err := p.Object(0, func(key string) error { return member(p, key) }); err != nil {
		return err
	}
	return p.End()
}
