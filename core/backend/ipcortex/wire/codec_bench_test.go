package wire

import (
	"encoding/json"
	"testing"
)

// The codec replaces encoding/json for size; these compare its speed with
// encoding/json, the baseline, in the same run (make bench prints the ratios).

func BenchmarkDecodeResponse(b *testing.B) {
	data := []byte(replySeeds[0])
	b.Run("wire", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeResponse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			var r Response
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeRequest(b *testing.B) {
	r := Request{Auth: Auth{Type: TypeAuth, Username: "alice", Password: "wonder<land>&\u2028"}}
	b.Run("wire", func(b *testing.B) {
		for b.Loop() {
			_ = EncodeRequest(r)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
