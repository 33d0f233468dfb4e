package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
)

// userRing hands out the users in turn, or always the fixed one.
type userRing struct {
	fixed string
	n     atomic.Int64
}

func (r *userRing) next() (login, password string) {
	if r.fixed != "" {
		return r.fixed, passwordOf(r.fixed)
	}
	i := int(r.n.Add(1)-1) % userCount
	login = userLogin(i)
	return login, passwordOf(login)
}

// userLogin is the login of the ring's i-th user.
func userLogin(i int) string { return fmt.Sprintf("load%03d", i) }

func passwordOf(login string) string { return "pw-" + login + "-x" }

// writeUsers writes the server's users file: the throttle probes' users and
// the ring's.
func writeUsers(file string) error {
	var list []map[string]any
	logins := []string{oneUser, wrongUser} // the throttle probes', outside the ring
	for i := range userCount {
		logins = append(logins, userLogin(i))
	}
	for i, login := range logins {
		list = append(list, map[string]any{"id": 7000 + i, "login": login, "password": passwordOf(login),
			"name": "Load " + login, "company": "default", "home": "default", "perms": map[string]string{"chat": "yes"}})
	}
	data, _ := json.Marshal(list)
	return os.WriteFile(file, data, 0o600)
}
