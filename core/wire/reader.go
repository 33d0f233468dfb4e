package wire

// Reader reads one JSON object with the same strict parser as the replies,
// for the codecs of the other phone systems (core/backend/...), which the
// browser build links without encoding/json.
type Reader struct{ p parser }

// NewReader reads data.
func NewReader(data []byte) *Reader { return &Reader{p: parser{data: data}} }

// Object reads the top-level object, calling member with the reader placed
// at each value; member must consume it (String, or Skip). It refuses data
// after the object.
func (r *Reader) Object(member func(key string) error) error {
	if err := r.p.object(0, member); err != nil {
		return err
	}
	r.p.space()
	if r.p.i != len(r.p.data) {
		return r.p.fail("unexpected data after the object")
	}
	return nil
}

// String reads a string (null leaves dst as it is).
func (r *Reader) String(dst *string) error { return r.p.stringInto(dst) }

// Skip reads and discards a value.
func (r *Reader) Skip() error { return r.p.skip(1) }

// Quote returns s as a JSON string, escaped as encoding/json would.
func Quote(s string) string { return string(appendString(nil, s)) }
