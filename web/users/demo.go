package users

import "strings"

// demoUsers are the users the server has without -users; the README lists
// them, so their passwords are no secret.
const demoUsers = `[
{"id": 101, "login": "alice", "password": "wonderland", "name": "Alice Example",
 "company": "default", "home": "default",
 "perms": {"chat": "yes", "admin": "company"},
 "companies": ["default", "acme"], "keys": ["demo-key-alice-6f1c2a9e"],
 "extension": "40", "email": "alice@example.com"},
{"id": 102, "login": "bob", "password": "builder", "name": "Bob Builder",
 "company": "default", "home": "default", "perms": {"chat": "yes"},
 "extension": "41"},
{"id": 103, "login": "carol", "password": "carolpass", "name": "Carol Acme",
 "company": "acme", "home": "acme", "perms": {"chat": "yes"},
 "extension": "42"}
]`

// Demo returns the built-in demo users: alice (password "wonderland", may
// select company "acme", API key "demo-key-alice-6f1c2a9e", extension "40",
// e-mail alice@example.com), bob ("builder", extension "41") and carol
// ("carolpass", in company "acme", extension "42"). Each one's domain, for
// Ping and Vodia, is its company: alice and bob in "default", carol in
// "acme".
func Demo() []*User {
	us, err := Load(strings.NewReader(demoUsers))
	if err != nil {
		panic("users: the demo users do not load: " + err.Error())
	}
	return us
}
