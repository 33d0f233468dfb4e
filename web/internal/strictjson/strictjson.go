// Package strictjson decodes the JSON bodies of the local server's requests
// more strictly than encoding/json, which takes the last of two equal keys
// and matches a key to a field whatever its case ({"AUTH":{"USERNAME":...}}
// fills the fields "auth" and "username"). Both let a request mean one thing
// to this server and another to a proxy, a log or a client library in front
// of it. Unmarshal refuses, in any object at any depth, a key given twice
// and a key that names a field of the destination only when case is
// ignored; then it decodes as encoding/json does with DisallowUnknownFields.
//
// Every request decoder of the server goes through it: the IPCortex REST
// calls (web/pbx), Vodia's (web/internal/vodiaserver), the test clock (web/testclock) and
// the live feed's messages (web/internal/feedserver, with UnmarshalLenient, since the feed
// ignores fields it does not know).
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
)

// ErrTrailingData is returned for a body with more after its JSON value.
var ErrTrailingData = errors.New("there is more after the JSON value; send one")

// maxDepth bounds the nesting of objects and arrays; request bodies of this
// server nest three deep at most.
const maxDepth = 64

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
	dec := json.NewDecoder(bytes.NewReader(data))
	c := checker{dec: dec, lenient: lenient}
	if err := c.value(rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	return dec.Decode(v)
}

// checker walks one JSON value with a json.Decoder's tokens and checks the
// keys of its objects against the Go type they decode into.
type checker struct {
	dec     *json.Decoder
	lenient bool
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value checks the next value, which decodes into t (nil: anything, whose
// keys are only checked for duplicates); path is where it is.
func (c *checker) value(t reflect.Type, path string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("the JSON nests deeper than %d", maxDepth)
	}
	t = concrete(t)
	tok, err := c.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return c.object(t, path, depth)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; c.dec.More(); i++ {
			if err := c.value(elem, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		_, err = c.dec.Token() // ]
		return err
	}
	return nil
}

// object checks the members of an object whose '{' has been read.
func (c *checker) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = map[string]reflect.Type{}
			collectFields(t, fields, 0)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	seen := map[string]bool{}
	for c.dec.More() {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // the decoder gives only strings as keys
		if seen[key] {
			return &KeyError{Object: path, Key: key}
		}
		seen[key] = true
		child := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				if name := folded(fields, key); name != "" {
					return &KeyError{Object: path, Key: key, Field: name}
				}
			}
			child = ft // nil for an unknown key: the decoding refuses it, or ignores it when lenient
		}
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		if err := c.value(child, sub, depth+1); err != nil {
			return err
		}
	}
	_, err := c.dec.Token() // }
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
// out; the fields of an embedded struct without a name promoted.
func collectFields(t reflect.Type, out map[string]reflect.Type, depth int) {
	if depth > maxDepth {
		return
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
				collectFields(ft, out, depth+1)
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
		}
	}
}

// folded returns the field name that key matches only when case is ignored
// (as encoding/json matches it), "" for none.
func folded(fields map[string]reflect.Type, key string) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return name
		}
	}
	return ""
}
