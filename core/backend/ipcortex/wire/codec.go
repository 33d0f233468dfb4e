package wire

import "github.com/pbxauth/pbxauth/core/backend/jsontext"

// This file encodes requests and decodes replies without encoding/json, with
// core/backend/jsontext (see why there). The decoder is strict: whatever it
// accepts, encoding/json accepts with the same result (wire_fuzz_test.go checks
// that by fuzzing), and it refuses what a PBX has no reason to send:
// duplicate keys, keys that differ from a field only in case, invalid UTF-8,
// lone surrogates, deep nesting.

// ErrSyntax is wrapped by every decoding error.
var ErrSyntax = jsontext.ErrSyntax

// EncodeRequest returns r as JSON, byte for byte as json.Marshal would.
func EncodeRequest(r Request) []byte {
	a := r.Auth
	b := append(make([]byte, 0, 128), `{"auth":{"type":`...)
	b = jsontext.AppendString(b, a.Type)
	for _, f := range [...]struct{ name, v string }{
		{"username", a.Username}, {"password", a.Password}, {"key", a.Key}, {"company", a.Company},
	} {
		b = appendField(b, f.name, f.v)
	}
	if a.GetNew {
		b = append(b, `,"getnew":true`...)
	}
	b = appendField(b, "token", a.Token)
	if a.NoToken {
		b = append(b, `,"notoken":true`...)
	}
	b = appendField(b, "application", a.Application)
	b = appendField(b, "origin", a.Origin)
	return append(b, "}}"...)
}

// appendField appends ,"name":"v" unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return jsontext.AppendString(b, v)
}

// DecodeResponse parses a reply body into a Response.
func DecodeResponse(data []byte) (*Response, error) {
	p := jsontext.NewParser(data)
	var r Response
	err := p.Object(0, func(key string) error {
		switch key {
		case "result":
			return p.StringInto(&r.Result)
		case "password":
			return p.StringInto(&r.Password)
		case "user":
			return p.Nullable(func() error {
				r.User = &User{}
				return readUser(p, r.User)
			})
		case "token":
			return p.Nullable(func() error {
				r.Token = &Token{}
				return p.Object(1, func(key string) error {
					switch key {
					case "value":
						return p.StringInto(&r.Token.Value)
					case "expires":
						return p.Int64Into(&r.Token.Expires)
					}
					return p.OtherKey(key, "value", "expires")
				})
			})
		case "error":
			return p.Nullable(func() error {
				r.Error = &Error{}
				return p.Object(1, func(key string) error {
					switch key {
					case "code":
						return p.StringInto(&r.Error.Code)
					case "message":
						return p.StringInto(&r.Error.Message)
					}
					return p.OtherKey(key, "code", "message")
				})
			})
		}
		return p.OtherKey(key, "result", "password", "user", "token", "error")
	})
	if err == nil {
		err = p.End()
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func readUser(p *jsontext.Parser, u *User) error {
	return p.Object(1, func(key string) error {
		switch key {
		case "id":
			return p.Int64Into(&u.ID)
		case "login":
			return p.StringInto(&u.Login)
		case "name":
			return p.StringInto(&u.Name)
		case "company":
			return p.StringInto(&u.Company)
		case "home":
			return p.StringInto(&u.Home)
		case "session":
			return p.StringInto(&u.Session)
		case "perms":
			return p.Nullable(func() error {
				u.Perms = map[string]string{}
				return p.Object(2, func(k string) error {
					var v string
					if p.Peek() == 'n' {
						return p.Fail("perms." + k + " is null")
					}
					err := p.StringInto(&v)
					u.Perms[k] = v
					return err
				})
			})
		}
		return p.OtherKey(key, "id", "perms", "login", "name", "company", "home", "session")
	})
}
