package strictjson_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/web/internal/strictjson"
)

type inner struct {
	Type     string            `json:"type"`
	Username string            `json:"username"`
	Ptr      *string           `json:"ptr,omitempty"`
	Perms    map[string]string `json:"perms"`
	List     []item            `json:"list"`
	Raw      json.RawMessage   `json:"raw"`
	Any      any               `json:"any"`
	Skipped  string            `json:"-"`
	NoTag    string
}

type item struct {
	Name string `json:"name"`
}

type Embedded struct {
	Promoted string `json:"promoted"`
}

type request struct {
	Embedded
	Auth *inner `json:"auth"`
}

func TestUnmarshalAcceptsWhatEncodingJSONDoes(t *testing.T) {
	body := `{"auth":{"type":"auth","username":"alice","ptr":"p","perms":{"chat":"yes","CHAT":"no"},
		"list":[{"name":"a"},{"name":"b"}],"raw":{"x":1,"X":2},"any":{"k":[1,{"k":2}]},"NoTag":"n"},"promoted":"yes"}`
	var got, want request
	require.NoError(t, strictjson.Unmarshal([]byte(body), &got))
	require.NoError(t, json.Unmarshal([]byte(body), &want))
	assert.Equal(t, want, got)
	assert.Equal(t, "alice", got.Auth.Username)
	assert.Equal(t, map[string]string{"chat": "yes", "CHAT": "no"}, got.Auth.Perms, "a map's keys are data: case matters, and both stay")
}

func TestUnmarshalRefusesDuplicateKeys(t *testing.T) {
	for name, body := range map[string]string{
		"top level":         `{"auth":{"type":"auth"},"auth":{"type":"auth","username":"bob"}}`,
		"nested":            `{"auth":{"type":"auth","username":"alice","username":"bob"}}`,
		"in a map":          `{"auth":{"perms":{"chat":"yes","chat":"no"}}}`,
		"in an array":       `{"auth":{"list":[{"name":"a"},{"name":"b","name":"c"}]}}`,
		"in an opaque part": `{"auth":{"raw":{"x":1,"x":2}}}`,
		"in an interface":   `{"auth":{"any":[{"k":1,"k":2}]}}`,
		"an unknown object": `{"other":{"k":1,"k":2}}`,
		// Keys are read as encoding/json reads them: both lone surrogates
		// are U+FFFD, and so are invalid bytes.
		"lone surrogates": `{"auth":{"perms":{"\ud800":"a","\udc00":"b"}}}`,
		"invalid UTF-8":   `{"auth":{"perms":{"` + "\xff" + `":"a","` + "\xfe" + `":"b"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			var r request
			err := strictjson.Unmarshal([]byte(body), &r)
			var ke *strictjson.KeyError
			require.ErrorAs(t, err, &ke, "body %s", body)
			assert.Empty(t, ke.Field)
			assert.Contains(t, err.Error(), "appears twice")
		})
	}
	var ke *strictjson.KeyError
	err := strictjson.Unmarshal([]byte(`{"auth":{"username":"a","username":"b"}}`), &request{})
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "auth", ke.Object)
	assert.Equal(t, "username", ke.Key)
	assert.Equal(t, `key "username" appears twice in "auth"; give each key once`, err.Error())
}

func TestUnmarshalRefusesCaseVariants(t *testing.T) {
	for name, tc := range map[string]struct{ body, object, key, field string }{
		"top level":       {`{"AUTH":{"type":"auth"}}`, "", "AUTH", "auth"},
		"nested":          {`{"auth":{"USERNAME":"alice"}}`, "auth", "USERNAME", "username"},
		"mixed":           {`{"auth":{"Type":"auth"}}`, "auth", "Type", "type"},
		"unknown":         {`{"auth":{"list":[{"nom":"x"}]}}`, "", "", ""},
		"long s":          {`{"auth":{"username":"a","u\u017fername":"b"}}`, "auth", "uſername", "username"},
		"promoted":        {`{"PROMOTED":"x"}`, "", "PROMOTED", "promoted"},
		"untagged field":  {`{"auth":{"notag":"x"}}`, "auth", "notag", "NoTag"},
		"inside an array": {`{"auth":{"list":[{"Name":"a"}]}}`, "auth.list[0]", "Name", "name"},
	} {
		t.Run(name, func(t *testing.T) {
			var r request
			err := strictjson.Unmarshal([]byte(tc.body), &r)
			require.Error(t, err, "encoding/json would take %s", tc.body)
			if tc.field == "" {
				assert.Contains(t, err.Error(), "unknown field")
				return
			}
			var ke *strictjson.KeyError
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, tc.object, ke.Object)
			assert.Equal(t, tc.key, ke.Key)
			assert.Equal(t, tc.field, ke.Field)
			assert.Contains(t, err.Error(), "case-sensitive")
		})
	}
	// What encoding/json alone does, and why this package exists.
	var loose request
	require.NoError(t, json.Unmarshal([]byte(`{"AUTH":{"USERNAME":"alice"}}`), &loose))
	assert.Equal(t, "alice", loose.Auth.Username)
}

func TestUnmarshalRefusesUnknownFieldsAndTrailingData(t *testing.T) {
	var r request
	err := strictjson.Unmarshal([]byte(`{"auth":{"colour":"red"}}`), &r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown field "colour"`)

	for _, body := range []string{`{"auth":{}} {}`, `{"auth":{}} x`, `{} []`} {
		assert.ErrorIs(t, strictjson.Unmarshal([]byte(body), &r), strictjson.ErrTrailingData, body)
	}
}

func TestUnmarshalLenientIgnoresUnknownFieldsOnly(t *testing.T) {
	type msg struct {
		Type    string `json:"type"`
		Session string `json:"session"`
	}
	var m msg
	require.NoError(t, strictjson.UnmarshalLenient([]byte(`{"type":"auth","session":"s","extra":{"a":1},"more":[1]}`), &m))
	assert.Equal(t, msg{Type: "auth", Session: "s"}, m)

	var ke *strictjson.KeyError
	require.ErrorAs(t, strictjson.UnmarshalLenient([]byte(`{"TYPE":"auth"}`), &m), &ke, "a case variant is no unknown field to ignore")
	require.ErrorAs(t, strictjson.UnmarshalLenient([]byte(`{"type":"ping","type":"auth"}`), &m), &ke)
	require.ErrorAs(t, strictjson.UnmarshalLenient([]byte(`{"type":"ping","extra":{"a":1,"a":2}}`), &m), &ke)
}

func TestUnmarshalKeepsEncodingJSONErrors(t *testing.T) {
	var r request
	var te *json.UnmarshalTypeError
	require.ErrorAs(t, strictjson.Unmarshal([]byte(`{"auth":{"username":5}}`), &r), &te)
	assert.Equal(t, "auth.username", te.Field)
	require.ErrorAs(t, strictjson.Unmarshal([]byte(`[]`), &r), &te)
	// encoding/json's tokenizer reads every number as a float64, even one
	// bound for a json.RawMessage; Unmarshal has always refused what it does.
	require.ErrorAs(t, strictjson.Unmarshal([]byte(`{"auth":{"raw":[1e400]}}`), &r), &te)

	var se *json.SyntaxError
	require.ErrorAs(t, strictjson.Unmarshal([]byte(`{"auth":}`), &r), &se)
	assert.ErrorIs(t, strictjson.Unmarshal(nil, &r), io.EOF)
	err := strictjson.Unmarshal([]byte(`{"auth":{"type":"a`), &r)
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF), "%v", err)

	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	var a any
	err = strictjson.Unmarshal([]byte(deep), &a)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nests deeper")

	assert.Error(t, strictjson.Unmarshal([]byte(`{}`), r), "not a pointer")
}

func TestDecodePassesReaderErrors(t *testing.T) {
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, io.NopCloser(strings.NewReader(`{"auth":{"username":"`+strings.Repeat("x", 100)+`"}}`)), 32)
	var tooLarge *http.MaxBytesError
	require.ErrorAs(t, strictjson.Decode(body, &request{}), &tooLarge)

	var r request
	require.NoError(t, strictjson.Decode(strings.NewReader(`{"auth":{"username":"alice"}}`), &r))
	assert.Equal(t, "alice", r.Auth.Username)
}

// FuzzUnmarshal checks Unmarshal against encoding/json with
// DisallowUnknownFields: what it takes, encoding/json takes with the same
// result; what encoding/json takes, it refuses only with a *KeyError or for
// nesting deeper than 64; a body encoding/json refuses, it refuses too.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"auth":{"type":"auth","username":"alice","perms":{"chat":"yes"},"list":[{"name":"a"}],"raw":{"x":1},"any":[1,"a",null]}}`,
		`{"auth":{"username":"a","USERNAME":"b"}}`, `{"auth":{"raw":{"a":1,"a":2}}}`, `{"auth":{"any":[1e400]}}`,
		`{"auth":{"perms":{"\u00e9":"a","é":"b"}}}`, `{"auth":{"perms":{"\ud800":"a","\udc00":"b"}}}`,
		`{"auth":{"username":"` + "\xff" + `"}}`, `{"auth":{"list":[{"Name":"a"}]}}`, `{"PROMOTED":"x"}`, `{"auth":{"notag":"x"}}`,
		`{"auth" 1}`, `{"auth":{}} x`, `{"auth":`, ``, `[]`, `null`, strings.Repeat("[", 70) + strings.Repeat("]", 70),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ours, theirs request
		err := strictjson.Unmarshal(data, &ours)
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		jsonErr := dec.Decode(&theirs)
		if jsonErr == nil && !json.Valid(data) {
			jsonErr = errors.New("more after the value")
		}
		if err == nil {
			require.NoError(t, jsonErr, "%q", data)
			assert.Equal(t, theirs, ours, "%q", data)
			return
		}
		if jsonErr == nil {
			var ke *strictjson.KeyError
			require.True(t, errors.As(err, &ke) || strings.Contains(err.Error(), "nests deeper"),
				"%q, which encoding/json takes: %v", data, err)
		}
	})
}
