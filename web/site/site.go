// Package site holds what the local PBX server serves to browsers besides the
// REST contract. For now that is a placeholder page at "/"; the browser
// module, its loader and the demo page join it here.
package site

import (
	"embed"
	"net/http"
)

//go:embed index.html
var files embed.FS

// Handler serves the page at "/" and 404 for every other path.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})
	return mux
}
