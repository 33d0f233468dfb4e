// Package strictjson decodes JSON request bodies more strictly than encoding/json.
//
// The local server decodes its requests with it because encoding/json takes
// the last of two equal keys and matches a key to a field whatever its case
// ({"AUTH":{"USERNAME":...}} fills the fields "auth" and "username"). Both
// let a request mean one thing to this server and another to a proxy, a log
// or a client library in front of it. Unmarshal refuses, in any object at
// any depth, a key given twice and a key that names a field of the
// destination only when case is ignored; then it decodes as encoding/json
// does with DisallowUnknownFields.
//
// Every request decoder of the server goes through it: the IPCortex REST
// calls (web/pbx), Vodia's (web/internal/vodiaserver), the test clock
// (web/testclock), the users file (web/users) and the live feed's messages
// (web/internal/feedserver, with UnmarshalLenient, since the feed ignores
// fields it does not know).
//
// The strict rules themselves (no key twice, no case variant of a known
// name, nothing after the value) live once, in core/backend/jsontext, which
// the phone systems' codecs use in the browser: this package walks the body
// with jsontext's parser, in its mode that reads strings as encoding/json
// does, and adds only what needs reflection (which keys are fields, and of
// what type) and the decoding itself. It stays a package of its own because
// a Go package is linked whole: were Unmarshal in jsontext, the browser
// build would link encoding/json and reflect (about 110 KB brotli) for
// nothing. A malformed body is reported as encoding/json's tokenizer
// reports it (*json.SyntaxError, io.EOF, io.ErrUnexpectedEOF), whichever
// reader met it first, so that replies keep encoding/json's words.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/pbxauth/pbxauth/core/backend/jsontext"
)

// ErrTrailingData is returned for a body with more after its JSON value.
var ErrTrailingData = errors.New("there is more after the JSON value; send one")

// maxDepth bounds the nesting of objects and arrays; request bodies of this
// server nest three deep at most.
const maxDepth = jsontext.MaxDepth

// KeyError is a key that Unmarshal refuses.
type KeyError struct {
	// Object is where the key is, as a path of keys and indexes from the top
	// ("auth", "list[2]"); "" for the top-level object.
	Object string
	// Key is the key as sent.
	Key string
	// Field is the field's name that Key matches when case is ignored; ""
	// when Key is given twice instead.
	Field string
}

func (e *KeyError) Error() string {
	where := "the top-level object"
	if e.Object != "" {
		where = strconv.Quote(e.Object)
	}
	if e.Field == "" {
		return fmt.Sprintf("key %q appears twice in %s; give each key once", e.Key, where)
	}
	return fmt.Sprintf("key %q in %s: field names are case-sensitive; write %q", e.Key, where, e.Field)
}

// Unmarshal decodes data, which must hold exactly one JSON value, into v
// (a pointer), refusing duplicate keys, keys that differ from a field's name
// only by case (a *KeyError), unknown fields (as encoding/json's
// DisallowUnknownFields does) and anything after the value
// (ErrTrailingData). Other errors are encoding/json's: *json.SyntaxError,
// *json.UnmarshalTypeError, io.ErrUnexpectedEOF, io.EOF for empty data.
func Unmarshal(data []byte, v any) error {
	return unmarshal(data, v, false)
}

// UnmarshalLenient is Unmarshal for messages that may carry fields the
// destination does not declare, which it ignores; duplicate keys and keys
// that differ from a declared field's name only by case are still refused.
func UnmarshalLenient(data []byte, v any) error {
	return unmarshal(data, v, true)
}

// Decode reads r to its end and unmarshals what it read into v, as
// Unmarshal does. An error of r, such as *http.MaxBytesError from
// http.MaxBytesReader, is returned as it is.
func Decode(r io.Reader, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return Unmarshal(data, v)
}

func unmarshal(data []byte, v any, lenient bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("strictjson: Unmarshal needs a non-nil pointer")
	}
	if err := check(data, rv.Type().Elem()); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}

// check applies the strict rules to data, which is to decode into t.
func check(data []byte, t reflect.Type) error {
	w := walker{jsontext.NewParser(data).ReplaceInvalid()}
	err := w.value(t, "", 0)
	switch {
	case err == nil:
		if w.p.End() != nil {
			return ErrTrailingData
		}
		return nil
	case errors.Is(err, jsontext.ErrSyntax), err == errNumber:
		return tokenizerError(data, err)
	}
	return err
}

// errNumber is a number that encoding/json's tokenizer, which reads every
// number as a float64, refuses (1e400).
var errNumber = errors.New("a number out of a float64's range")

// tokenizerError returns the error that encoding/json's tokenizer meets in
// data, where the walk met ours: a malformed body is told in encoding/json's
// words and types whichever reader found it. Should encoding/json take the
// data, ours is returned.
func tokenizerError(data []byte, ours error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.Token(); err != nil {
			if err == io.EOF && json.Valid(data) {
				return ours
			}
			return err
		}
	}
}

// walker walks one JSON value with jsontext's parser and checks the keys of
// its objects against the Go type they decode into.
type walker struct{ p *jsontext.Parser }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value checks the next value, which decodes into t (nil: anything, whose
// keys are only checked for duplicates); path is where it is.
func (w walker) value(t reflect.Type, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("the JSON nests deeper than %d", maxDepth)
	}
	t = concrete(t)
	switch c := w.p.Peek(); {
	case c == '{':
		return w.object(t, path, depth)
	case c == '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		i := 0
		return w.p.Array(depth, func() error {
			err := w.value(elem, path+"["+strconv.Itoa(i)+"]", depth+1)
			i++
			return err
		})
	case c == '-' || c >= '0' && c <= '9':
		n, err := w.p.Number()
		if err != nil {
			return err
		}
		if _, err := strconv.ParseFloat(n, 64); err != nil {
			return errNumber
		}
		return nil
	}
	return w.p.Skip(depth)
}

// object checks an object's members.
func (w walker) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var names []string // fields' names, in the struct's order
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = map[string]reflect.Type{}
			names = collectFields(t, fields, names, 0)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	err := w.p.Object(depth, func(key string) error {
		child := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				if name := jsontext.CaseVariant(key, names...); name != "" {
					return &KeyError{Object: path, Key: key, Field: name}
				}
			}
			child = ft // nil for an unknown key: the decoding refuses it, or ignores it when lenient
		}
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		return w.value(child, sub, depth+1)
	})
	if ke, ok := err.(*jsontext.KeyError); ok && ke.Field == "" {
		return &KeyError{Object: path, Key: ke.Key}
	}
	return err
}

// concrete returns t without its pointers, or nil when encoding/json would
// not look into its keys (an interface, a type that decodes itself).
func concrete(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// collectFields adds the JSON names of struct t's fields, with their types,
// as encoding/json names them: the tag's name, else the field's; "-" left
// out; the fields of an embedded struct without a name promoted. It returns
// names with the new names appended, in the struct's order.
func collectFields(t reflect.Type, out map[string]reflect.Type, names []string, depth int) []string {
	if depth > maxDepth {
		return names
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				names = collectFields(ft, out, names, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := out[name]; !dup {
			out[name] = f.Type
			names = append(names, name)
		}
	}
	return names
}
