package site

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/api/api.js", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			Handler().ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.status, w.Code)
			if tt.status == http.StatusOK {
				assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
			}
			if tt.method == http.MethodGet && tt.status == http.StatusOK {
				assert.Contains(t, w.Body.String(), "IPCortex PBX (local) — the demo page comes with the browser module")
			}
		})
	}
}
