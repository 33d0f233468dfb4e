package native_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbx"
	"github.com/pbxauth/pbxauth/web/users"
)

// A Go program logs in to a PBX (here the local one), works as the user,
// and logs out. Every failure has a stable code.
func Example() {
	srv := httptest.NewServer(pbx.New(pbx.Config{Users: users.NewDirectory(users.Demo())}))
	defer srv.Close()

	c, err := native.NewClient(srv.URL) // e.g. "https://pbx.example.com"
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	err = c.Login(ctx, auth.Options{Username: "alice", Password: "not her password"})
	fmt.Println("wrong password:", auth.CodeOf(err))

	if err := c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}); err != nil {
		panic(err)
	}
	u := c.User()
	fmt.Println("logged in:", u.ID, u.Name, u.Company)

	if err := c.SetCompany(ctx, "acme"); err != nil {
		panic(err)
	}
	fmt.Println("company:", c.User().Company)

	if err := c.Exit(ctx, auth.ExitOptions{Logout: true}); err != nil {
		panic(err)
	}
	fmt.Println("logged out:", c.User() == nil)
	fmt.Println("check:", auth.CodeOf(c.Login(ctx, auth.Options{CheckOnly: true})))
	// Output:
	// wrong password: auth_failed
	// logged in: 101 Alice Example default
	// company: acme
	// logged out: true
	// check: login_required
}
