// Package jsonreply writes the JSON replies of the local server's non-IPCortex paths.
//
// Those are the paths beside the IPCortex REST calls (Vodia, Ping, the test
// clock and the fault switch), which share a shape: a JSON body, never
// cached (replies carry session ids), and failures as {"error": message}.
package jsonreply

import (
	"encoding/json"
	"net/http"
)

// Write writes v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a client that went away is not our fault
}

// Fail answers {"error": message} with status.
func Fail(w http.ResponseWriter, status int, message string) {
	Write(w, status, struct {
		Error string `json:"error"`
	}{message})
}
