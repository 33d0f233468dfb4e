package pbx

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

// recorder remembers the status a handler sent, for the log line and to know
// whether a panicking handler had already started its reply, and whether
// the reply was lost: a write that failed, or a handler that gave up on a
// client that had gone (noteLost).
type recorder struct {
	http.ResponseWriter
	status int
	lost   string // why the reply did not reach the client; "" if it did, as far as the server knows
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	if err != nil && rec.lost == "" {
		rec.lost = err.Error()
	}
	return n, err
}

// FlushError flushes the reply to the client, for http.ResponseController,
// and remembers a failure.
func (rec *recorder) FlushError() error {
	err := http.NewResponseController(rec.ResponseWriter).Flush()
	if err != nil && rec.lost == "" {
		rec.lost = err.Error()
	}
	return err
}

// noteLost tells the log that the reply of w did not reach its client, and
// why, when w is (or wraps) the server's recorder.
func noteLost(w http.ResponseWriter, why string) {
	for {
		switch x := w.(type) {
		case *recorder:
			x.lost = why
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return
		}
	}
}

// Unwrap lets http.ResponseController and WebSocket upgrades reach the
// connection beneath.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// logRequests logs "METHOD PATH STATUS DURATION" for every request, and
// "METHOD PATH lost DURATION (WHY)" for one whose reply did not reach the
// client. The query is left out because it carries the sub-ID; nothing else
// of the request is logged, so no password, key, token or session id reaches
// the log.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			took := time.Since(start).Round(time.Microsecond)
			if rec.lost != "" {
				s.log.Printf("%s %s lost %s (%s)", r.Method, r.URL.EscapedPath(), took, rec.lost)
				return
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.log.Printf("%s %s %d %s", r.Method, r.URL.EscapedPath(), status, took)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanics turns a panic into a 500 reply, so that one faulty request
// does not cut the connection without a word; the panic and its stack go to
// the log.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			switch {
			case v == nil:
				return
			case v == http.ErrAbortHandler:
				panic(v)
			}
			err := fmt.Errorf("panic serving %s %s: %v\n%s", r.Method, r.URL.EscapedPath(), v, debug.Stack())
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				s.log.Print(err)
				panic(http.ErrAbortHandler) // the reply has begun; cut it off rather than let it look whole
			}
			s.refuse(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}
