package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readerSeeds are hostile replies: deep nesting, duplicate and case-folded
// keys, huge numbers, invalid UTF-8, NUL bytes, lone surrogates, overlong
// strings. testdata/fuzz/FuzzReadObject holds more.
var readerSeeds = []string{
	`{}`, ` {"a" : "b" , "c":[1,-2.5e+3,true,false,null,{"d":[]}]} `,
	`{"a":"\u00e9\ud83d\ude00\n\/\b\f\r\t\"\\"}`,
	`{"a":1,"a":2}`, `{"a":{"b":1,"b":1}}`, `{"a":[{"b":1,"b":2}]}`, `{"A":1,"a":2}`,
	`{"n":99999999999999999999}`, `{"n":-9223372036854775808}`, `{"n":9223372036854775808}`, `{"n":-0}`,
	`{"n":1e400}`, `{"n":01}`, `{"n":1.}`, `{"n":.5}`, `{"n":+1}`, `{"n":1e+}`, `{"n":-}`,
	`{"s":"` + "\xff\xfe" + `"}`, `{"s":"` + "\x00" + `"}`, `{"s":"\u0000"}`, `{"s":"a` + "\xed\xa0\x80" + `"}`,
	`{"s":"\ud800"}`, `{"s":"\udc00\ud800"}`, `{"s":"\ud800\u0041"}`, `{"s":"\ud800\\u"}`, `{"s":"\u12"}`, `{"s":"\x"}`,
	`{"s":"` + strings.Repeat("\\u00e9", 1000) + `"}`,
	`{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`,
	`{"a":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat("}", 70) + `}`,
	`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	`{"a":1}` + "\x00", "\x00" + `{}`, `{"a":1} {}`, `{"a":tru}`, `{"a":nul}`, `[]`, `"x"`, ``, `{`, `{"a"}`, `{"a":1,}`,
	"{\"a\":1}\n\t\r ", "\ufeff{}",
}

// FuzzReadObject checks the parser against encoding/json: whatever it
// accepts, encoding/json accepts with the same value (objects, strings,
// numbers, and Int64Into's integers), with no key twice in any object and no
// deeper nesting than MaxDepth; whatever it refuses, it refuses with
// ErrSyntax; decoded strings are never longer than their JSON. It also
// checks that AppendString writes what json.Marshal writes, for any string.
func FuzzReadObject(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := json.Marshal(string(data))
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendString(nil, string(data))), "AppendString(%q)", data)

		ours, err := readObject(t, data, false)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax, "%q", data)
			require.LessOrEqual(t, len(err.Error()), 200, "an error as long as the input: %v", err)
			return
		}
		sameAsEncodingJSON(t, data, ours)
		depth, dup := shape(t, data)
		assert.False(t, dup, "a duplicate key was accepted: %q", data)
		assert.LessOrEqual(t, depth, MaxDepth+2, "nesting %d was accepted", depth)
	})
}

// FuzzReplaceInvalid checks the parser with ReplaceInvalid against
// encoding/json, which takes invalid UTF-8 and lone surrogates in strings
// and decodes them as U+FFFD: whatever it accepts, encoding/json accepts
// with the same value; an object that encoding/json accepts, it refuses
// only for a key given twice (with a *KeyError) or for nesting deeper than
// MaxDepth. The seeds are FuzzReadObject's.
func FuzzReplaceInvalid(f *testing.F) {
	for _, s := range readerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := readObject(t, data, true)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax, "%q", data)
			if json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
				depth, dup := shape(t, data)
				var ke *KeyError
				require.True(t, dup && errors.As(err, &ke) || depth > MaxDepth, "refused %q, which encoding/json takes: %v", data, err)
			}
			return
		}
		sameAsEncodingJSON(t, data, ours)
	})
}

// readObject reads data with ReadObject or, with replace, with a parser
// that replaces invalid strings (whose Object and End ReadObject uses), each
// value with readValue.
func readObject(t *testing.T, data []byte, replace bool) (map[string]any, error) {
	ours := map[string]any{}
	member := func(p *Parser, key string) error {
		v, err := readValue(t, p, 1)
		ours[key] = v
		return err
	}
	if !replace {
		return ours, ReadObject(data, member)
	}
	p := NewParser(data).ReplaceInvalid()
	err := p.Object(0, func(key string) error { return member(p, key) })
	if err == nil {
		err = p.End()
	}
	return ours, err
}

// sameAsEncodingJSON checks that encoding/json, with UseNumber, takes data
// and reads it as ours.
func sameAsEncodingJSON(t *testing.T, data []byte, ours map[string]any) {
	t.Helper()
	require.True(t, json.Valid(data), "encoding/json refuses what we accepted: %q", data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var theirs map[string]any
	require.NoError(t, dec.Decode(&theirs))
	assert.Equal(t, theirs, ours, "%q", data)
}

// readValue reads any value as encoding/json with UseNumber would, through
// the parser's own calls: objects with Object, strings with StringInto,
// numbers with number (and Int64Into on a copy of the parser, compared with
// encoding/json's int64), the rest with Skip, decoded from the span it
// skipped.
func readValue(t *testing.T, p *Parser, depth int) (any, error) {
	switch c := p.Peek(); {
	case c == '{':
		m := map[string]any{}
		err := p.Object(depth, func(key string) error {
			v, err := readValue(t, p, depth+1)
			m[key] = v
			return err
		})
		return m, err
	case c == '"':
		start := p.i
		var s string
		err := p.StringInto(&s)
		if err == nil && !p.replace && len(s) > p.i-start { // U+FFFD for one bad byte is three
			t.Fatalf("the string %q decoded from %q is longer than its JSON", s, p.data[start:p.i])
		}
		return s, err
	case c == 'n':
		return nil, p.Nullable(func() error { return errors.New("not null") })
	case c == '-' || c >= '0' && c <= '9':
		q := *p
		var n int64
		intErr := q.Int64Into(&n)
		start := p.i
		if err := p.number(); err != nil {
			return nil, err
		}
		raw := p.data[start:p.i]
		var their int64
		if json.Unmarshal(raw, &their) == nil {
			require.NoError(t, intErr, "Int64Into refuses %q", raw)
			require.Equal(t, their, n, "Int64Into(%q)", raw)
		} else {
			require.ErrorIs(t, intErr, ErrSyntax, "Int64Into accepts %q, as %d", raw, n)
		}
		return json.Number(raw), nil
	}
	start := p.i // Peek skipped the spaces
	if err := p.Skip(depth); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(p.data[start:p.i]))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v), "Skip accepted %q", p.data[start:p.i])
	return v, nil
}

// shape returns the nesting depth of valid JSON and whether an object has a
// key twice.
func shape(t *testing.T, data []byte) (maxDepth int, dup bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type level struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token of an object is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return maxDepth, dup
		}
		require.NoError(t, err)
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			dup = dup || top.keys[k]
			top.keys[k] = true
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{object: true, keys: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &level{})
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
		}
		maxDepth = max(maxDepth, len(stack))
	}
}

// TestManyKeys: a reply of thousands of distinct keys (64 KB, the most a
// reply may be) is read in linear time. A scan for duplicates took 0.57 s
// here before a map took over past scanKeys keys, and longer in a browser.
func TestManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"k":0`)
	for i := 0; b.Len() < 64<<10-20; i++ {
		b.WriteString(`,"x` + strconv.FormatInt(int64(i), 36) + `":0`)
	}
	data := []byte(b.String() + "}")
	start := time.Now()
	n := 0
	require.NoError(t, ReadObject(data, func(p *Parser, _ string) error { n++; return p.Skip(1) }))
	assert.Less(t, time.Since(start), 250*time.Millisecond, "%d keys", n)

	dup := append(data[:len(data)-1:len(data)-1], `,"k":1}`...)
	err := ReadObject(dup, func(p *Parser, _ string) error { return p.Skip(1) })
	assert.ErrorIs(t, err, ErrSyntax)
	assert.Contains(t, err.Error(), `duplicate key "k"`)
	for _, n := range []int{scanKeys - 1, scanKeys, scanKeys + 1, 3 * scanKeys} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = `"` + strconv.Itoa(i) + `":0`
		}
		obj := "{" + strings.Join(keys, ",")
		assert.NoError(t, ReadObject([]byte(obj+"}"), func(p *Parser, _ string) error { return p.Skip(1) }), n)
		for _, again := range []int{0, n / 2, n - 1} {
			err := ReadObject([]byte(obj+`,"`+strconv.Itoa(again)+`":1}`), func(p *Parser, _ string) error { return p.Skip(1) })
			assert.ErrorIs(t, err, ErrSyntax, "%d keys, %d again", n, again)
		}
	}
}
