package pbx

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pbxauth/pbxauth/core/backend/ipcortex/wire"
	"github.com/pbxauth/pbxauth/web/internal/store"
	"github.com/pbxauth/pbxauth/web/users"
)

// PathExternal creates an external user. The vendor documents external users
// only as made "with the REST API"; the path and body are ours. They are
// here and not in core/backend/ipcortex/wire because only administrators' tools call it,
// never the browser module.
const PathExternal = "/rest/auth/external"

// TypeExternal is the "type" of the body of PathExternal.
const TypeExternal = "external"

// maxExternalName bounds an external user's name, in characters.
const maxExternalName = 100

// permAdmin is the permission that may create external users, whatever its
// value ("yes" or "company").
const permAdmin = "admin"

// externalRequest is the body of PathExternal.
type externalRequest struct {
	Auth externalAuth `json:"auth"`
}

// externalAuth is its auth object: the admin's API key (or the
// Authorization header's), the guest's name, and whether to delete it a
// minute after its session ends (absent: true).
type externalAuth struct {
	Type       string `json:"type"`
	Key        string `json:"key,omitempty"`
	Name       string `json:"name"`
	Autodelete *bool  `json:"autodelete,omitempty"`
}

// decodeExternal reads the body of PathExternal.
func decodeExternal(w http.ResponseWriter, r *http.Request) (externalAuth, error) {
	var req externalRequest
	if err := decodeBody(w, r, TypeExternal, &req); err != nil {
		return externalAuth{}, err
	}
	if req.Auth.Type != TypeExternal {
		return externalAuth{}, wrongType(TypeExternal)
	}
	return req.Auth, nil
}

// createExternal makes an external user in the company of the admin whose
// API key the call carries. Sessions do not count: creating users is a job
// for an administrator's tool, which holds a key, not for a page.
func (s *Server) createExternal(c *call) (*wire.Response, error) {
	key, err := c.key()
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fail(http.StatusUnauthorized, wire.CodeLoginRequired,
			`creating an external user takes the API key of a user with the %q permission; send "key" or the header "Authorization: token auth=KEY"`, permAdmin)
	}
	admin, err := s.checkKey(c.r, key)
	if err != nil {
		return nil, err
	}
	if _, ok := admin.Perms[permAdmin]; !ok {
		return nil, fail(http.StatusForbidden, wire.CodeForbidden,
			"only users with the %q permission may create external users; use an administrator's API key", permAdmin)
	}
	name := strings.TrimSpace(c.external.Name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return nil, badRequest(`"name" must give the external user's name, as others will see it`)
	case n > maxExternalName:
		return nil, badRequest(`"name" is %d characters; give at most %d`, n, maxExternalName)
	}
	autodelete := c.external.Autodelete == nil || *c.external.Autodelete
	u := s.externals.Create(name, admin.Company, autodelete)
	return userReply(u, u.Company, ""), nil
}

// notForExternals refuses a call that external users may not make: they may
// log in, check, log out, clean up and reset their phone password, which is
// what chat, AV and file calls need, and nothing else.
func notForExternals(u *users.User) error {
	if u.External {
		return fail(http.StatusForbidden, wire.CodeForbidden, "external users may only use chat, AV and file calls")
	}
	return nil
}

// beginSession lets u start a session: an external user only until a session
// of it has ended.
func (s *Server) beginSession(u *users.User) error {
	if !u.External {
		return nil
	}
	if err := s.externals.Begin(u.ID); err != nil {
		return authFailed(err)
	}
	return nil
}

// sessionEnded hears of every session that ends: its feeds are closed, and
// an external user's ending session uses the user up.
func (s *Server) sessionEnded(ss store.Session) {
	s.feeds.End(ss.ID)
	s.externals.End(ss.UserID)
}

// user returns the user with this id, from the directory or the external
// users.
func (s *Server) user(id int64) (*users.User, bool) {
	if u, ok := s.users.ByID(id); ok {
		return u, true
	}
	return s.externals.ByID(id)
}

// authenticate checks a login name and password against the external users,
// then the directory.
func (s *Server) authenticate(login, password string) (*users.User, error) {
	if s.externals.Has(login) {
		return s.externals.Authenticate(login, password)
	}
	return s.users.Authenticate(login, password)
}

// authFailed is the 401 of a refused login; a used-up external user is told
// why, anything else hears only that the username or password was wrong.
func authFailed(err error) error {
	if errors.Is(err, users.ErrUsedUp) {
		return fail(http.StatusUnauthorized, wire.CodeAuthFailed, "%s", err.Error())
	}
	return fail(http.StatusUnauthorized, wire.CodeAuthFailed, "wrong username or password")
}
