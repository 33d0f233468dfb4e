package pbx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/pingserver"
	"github.com/pbxauth/pbxauth/web/internal/strictjson"
	"github.com/pbxauth/pbxauth/web/internal/vodiaserver"
)

// call is one REST request that passed the checks every path shares.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	subID string
	auth  wire.Auth
	// external is the body of a call to PathExternal, whose fields wire.Auth
	// does not have; its type and key are copied to auth.
	external externalAuth
	// undo, set by a call that made a login, takes the login back (its
	// session, and the token it made) when its reply cannot be delivered.
	undo func()
}

// failure is an error that becomes a "fail" reply with this status and code.
type failure struct {
	status  int
	code    string
	message string
	// retryAfter, if not 0, is sent as Retry-After (in whole seconds): how
	// long the client must wait before it tries again.
	retryAfter time.Duration
}

func (f *failure) Error() string { return f.code + ": " + f.message }

func fail(status int, code, format string, args ...any) error {
	return &failure{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return fail(http.StatusBadRequest, wire.CodeBadRequest, format, args...)
}

// rest serves one REST path whose body must carry an auth object of type typ.
//
// A call that made a login (c.undo) has its reply flushed to the client at
// once; when the client has gone, or the reply cannot be written (a write
// error, the server's write timeout), the login is taken back, so that no
// session outlives a reply that nobody received, and the log says so
// instead of 200.
func (s *Server) rest(typ string, serve func(*call) (*wire.Response, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := readCall(w, r, typ)
		var resp *wire.Response
		if err == nil {
			resp, err = serve(c)
		}
		switch {
		case errors.Is(err, errClientGone):
			noteLost(w, err.Error())
			return
		case err != nil:
			s.replyError(w, err)
			return
		case c.undo == nil:
			_ = reply(w, http.StatusOK, resp) // a client that went away is not our fault
			return
		}
		if err = r.Context().Err(); err == nil {
			err = reply(w, http.StatusOK, resp)
		}
		if err == nil {
			err = http.NewResponseController(w).Flush()
		}
		if err != nil {
			c.undo()
			s.log.Printf("login as %s undone: its reply was not delivered (%v)", loginLabel(resp.User.Login), err)
			noteLost(w, err.Error())
		}
	})
}

// readCall checks method, content type, sub-ID, that there is at most one
// Authorization header, and the body, in that order.
func readCall(w http.ResponseWriter, r *http.Request, typ string) (*call, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		return nil, fail(http.StatusMethodNotAllowed, wire.CodeMethodNotAllowed, "use POST, not %s", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fail(http.StatusUnsupportedMediaType, wire.CodeUnsupportedMedia, "send the body as Content-Type: application/json")
	}
	subID, err := subIDOf(r)
	if err != nil {
		return nil, err
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return nil, badRequest("send one Authorization header, with the API key or the session, not several")
	}
	c := &call{w: w, r: r, subID: subID}
	if typ == TypeExternal {
		c.external, err = decodeExternal(w, r)
		c.auth = wire.Auth{Type: c.external.Type, Key: c.external.Key}
	} else {
		c.auth, err = decodeAuth(w, r, typ)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// subIDOf returns the call's sub-ID, "" for none.
func subIDOf(r *http.Request) (string, error) {
	vs, ok := r.URL.Query()[wire.SubIDParam]
	if !ok {
		return "", nil
	}
	if len(vs) != 1 || !wire.ValidSubID(vs[0]) {
		return "", badRequest("the sub-ID must be given once, as 1 to %d of A-Z a-z 0-9 - _", wire.MaxSubIDLen)
	}
	return vs[0], nil
}

// decodeAuth reads the body {"auth": {"type": typ, ...}} and nothing else.
func decodeAuth(w http.ResponseWriter, r *http.Request, typ string) (wire.Auth, error) {
	var req wire.Request
	if err := decodeBody(w, r, typ, &req); err != nil {
		return wire.Auth{}, err
	}
	if req.Auth.Type != typ {
		return wire.Auth{}, wrongType(typ)
	}
	return req.Auth, nil
}

// decodeBody reads one JSON object of at most wire.MaxBody bytes into dst,
// refusing unknown fields, duplicate keys, keys that differ from a field's
// name only by case, and anything after it (web/strictjson); typ names the
// auth object's type in the error message.
func decodeBody(w http.ResponseWriter, r *http.Request, typ string, dst any) error {
	err := strictjson.Decode(http.MaxBytesReader(w, r.Body, wire.MaxBody), dst)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, strictjson.ErrTrailingData):
		return badRequest("send one JSON object; there is more after it")
	case errors.As(err, &tooLarge):
		return fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the body is over %d bytes", wire.MaxBody)
	case err != nil:
		return badRequest(`the body must be {"auth": {"type": %q, ...}}: %s`, typ, describe(err))
	}
	return nil
}

func wrongType(typ string) error {
	return badRequest(`this path wants {"auth": {"type": %q, ...}}`, typ)
}

// describe says what is wrong with a body that does not decode.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Sprintf("want an object, got a JSON %s", te.Value)
		}
		want := "an object"
		switch te.Type.Kind() {
		case reflect.String:
			want = "a string"
		case reflect.Bool:
			want = "true or false"
		}
		return fmt.Sprintf("field %q: want %s, got a JSON %s", te.Field, want, te.Value)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "it is empty or cut short"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// replyError answers a failed call; errors that are not a failure are faults
// of the server, logged and answered with 500.
func (s *Server) replyError(w http.ResponseWriter, err error) {
	var f *failure
	if !errors.As(err, &f) {
		s.log.Printf("internal error: %v", err)
		f = &failure{status: http.StatusInternalServerError, code: wire.CodeInternal, message: "the server failed; its log says why"}
	}
	f.setRetryAfter(w)
	_ = reply(w, f.status, &wire.Response{
		Result: wire.ResultFail,
		Error:  &wire.Error{Code: f.code, Message: f.message},
	})
}

// The phone systems whose contracts the server speaks, by path.
const (
	systemIPCortex = iota
	systemVodia
	systemPing
)

// system returns the phone system whose contract path belongs to.
func system(path string) int {
	switch {
	case path == vodiaserver.Path:
		return systemVodia
	case strings.HasPrefix(path, "/auth/"), strings.HasPrefix(path, pingserver.PathExtensions):
		return systemPing
	}
	return systemIPCortex
}

// refuse answers a request that the server's checks (Host, Origin) or a
// panic stop, in the failure format of the path's phone system: Vodia's and
// Ping's {"error": "..."}, or the IPCortex "fail" reply everywhere else.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	sys := system(r.URL.Path)
	if sys == systemIPCortex {
		s.replyError(w, err)
		return
	}
	var f *failure
	if !errors.As(err, &f) {
		s.log.Printf("internal error: %v", err)
		f = &failure{status: http.StatusInternalServerError, message: "the server failed; its log says why"}
	}
	f.setRetryAfter(w)
	if sys == systemVodia {
		vodiaserver.Fail(w, f.status, f.message)
	} else {
		pingserver.Fail(w, f.status, f.message)
	}
}

// setRetryAfter sends the failure's Retry-After, if it has one, and lets
// the pages of trusted origins read it.
func (f *failure) setRetryAfter(w http.ResponseWriter) {
	if f.retryAfter <= 0 {
		return
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retrySeconds(f.retryAfter)))
	h.Add("Access-Control-Expose-Headers", "Retry-After")
}

// reply writes a JSON reply, with its length, and returns the error of the
// write, if any. Replies carry session ids and passwords, so no cache may
// keep them.
func reply(w http.ResponseWriter, status int, resp *wire.Response) error {
	b, err := json.Marshal(resp)
	if err != nil {
		return err // a wire.Response always encodes
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, err = w.Write(b)
	return err
}
