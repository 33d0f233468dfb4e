//go:build !js

package native_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// A Go program logs in to a PBX (here the local one, which web/pbxtest runs
// inside the program), works as the user, and logs out. Every failure has a
// stable code.
func Example() {
	pbx, err := pbxtest.Start() // the demo users; a real program has a PBX
	if err != nil {
		panic(err)
	}
	defer pbx.Close()

	c, err := native.NewClient(pbx.URL) // e.g. "https://pbx.example.com"
	if err != nil {
		panic(err)
	}
	defer c.Close()
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

	if err := c.Logout(ctx); err != nil {
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

// A program logs in once with the password and keeps the login token that
// the PBX gives it (OnTokens is told the live tokens and their expiry). Its
// next run logs in with the token instead of the password.
func ExampleNewClient_token() {
	pbx, err := pbxtest.Start()
	if err != nil {
		panic(err)
	}
	defer pbx.Close()
	ctx := context.Background()

	first, err := native.NewClient(pbx.URL)
	if err != nil {
		panic(err)
	}
	var token string
	var expires time.Time
	err = first.Login(ctx, auth.Options{
		Username: "bob", Password: "builder",
		Application: "longLogin", // a token for a week rather than a day
		OnTokens: func(live map[string]time.Time) {
			for t, exp := range live {
				token, expires = t, exp // keep it somewhere safe, like a password
			}
		},
	})
	if err != nil {
		panic(err)
	}
	first.Close()
	fmt.Println("the token expires in", expires.Sub(pbx.Now()).Round(time.Hour))

	next, err := native.NewClient(pbx.URL) // the next run: a new cookie jar
	if err != nil {
		panic(err)
	}
	defer next.Close()
	if err := next.Login(ctx, auth.Options{Tokens: []string{token}}); err != nil {
		panic(err)
	}
	fmt.Println("logged in with the token:", next.User().Login)
	// Output:
	// the token expires in 168h0m0s
	// logged in with the token: bob
}
