package testclock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixed returns a clock whose real time stands at start.
func fixed() *Clock { return &Clock{real: func() time.Time { return start }} }

func TestClock(t *testing.T) {
	c := fixed()
	assert.Equal(t, start, c.Now(), "it starts at the real time")
	assert.Zero(t, c.Offset())
	now, err := c.Advance(25 * time.Hour)
	require.NoError(t, err)
	assert.Equal(t, start.Add(25*time.Hour), now)
	assert.Equal(t, start.Add(25*time.Hour), c.Now())
	_, err = c.Advance(-time.Second)
	assert.ErrorContains(t, err, "forward only")
	assert.Equal(t, start.Add(25*time.Hour), c.Now(), "a refused advance moves nothing")
	assert.Equal(t, 25*time.Hour, c.Offset())
}

func TestRealClock(t *testing.T) {
	c := New()
	before := time.Now()
	got := c.Now()
	assert.False(t, got.Before(before), "it runs from the real time")
	now, err := c.Advance(time.Hour)
	require.NoError(t, err)
	assert.False(t, now.Before(before.Add(time.Hour)))
}

func post(t *testing.T, c *Clock, method, contentType, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, Path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	c.ServeHTTP(w, r)
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), "body %s", w.Body)
	return w, m
}

func TestServeHTTP(t *testing.T) {
	c := fixed()
	w, m := post(t, c, http.MethodPost, "application/json", `{"advance":"25h"}`)
	require.Equal(t, http.StatusOK, w.Code, "body %s", w.Body)
	assert.Equal(t, map[string]any{"now": float64(start.Add(25 * time.Hour).UnixMilli())}, m)
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))

	w, m = post(t, c, http.MethodPost, "application/json", `{}`)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, float64(start.Add(25*time.Hour).UnixMilli()), m["now"], "{} reads the clock")

	tests := []struct {
		name, method, contentType, body string
		status                          int
		message                         string
	}{
		{"GET", http.MethodGet, "", "", http.StatusMethodNotAllowed, "use POST"},
		{"not JSON", http.MethodPost, "text/plain", `{"advance":"1h"}`, http.StatusUnsupportedMediaType, "application/json"},
		{"bad duration", http.MethodPost, "application/json", `{"advance":"a day"}`, http.StatusBadRequest, "Go duration"},
		{"negative", http.MethodPost, "application/json", `{"advance":"-1h"}`, http.StatusBadRequest, "forward only"},
		{"number", http.MethodPost, "application/json", `{"advance":3600}`, http.StatusBadRequest, `{"advance": "25h"}`},
		{"unknown field", http.MethodPost, "application/json", `{"advance":"1h","back":true}`, http.StatusBadRequest, "unknown field"},
		{"two objects", http.MethodPost, "application/json", `{}{}`, http.StatusBadRequest, "more after it"},
		{"too large", http.MethodPost, "application/json", `{"advance":"` + strings.Repeat("1", maxBody) + `h"}`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, m := post(t, c, tt.method, tt.contentType, tt.body)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, "fail", m["result"])
			assert.Contains(t, m["error"].(map[string]any)["message"], tt.message)
		})
	}
	assert.Equal(t, start.Add(25*time.Hour), c.Now(), "failures move nothing")
}
