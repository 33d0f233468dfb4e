package auth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/core/feed"
	"github.com/pbxauth/pbxauth/core/native"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// A Go program gets its Client from native.NewClient (see the examples of
// core/native). New builds one from its parts: here a service that acts as
// a user with the user's API key instead of a password, over the native
// transport. The PBX is the local one, which web/pbxtest runs inside the
// program.
func ExampleNew() {
	pbx, err := pbxtest.Start() // the demo users
	if err != nil {
		panic(err)
	}
	defer pbx.Close()

	c, err := auth.New(auth.Config{
		Transport: native.NewTransport(),
		Host:      pbx.URL, // e.g. "https://pbx.example.com"
		// "Authorization: Bearer KEY" on every request
		Credentials: auth.APIKey{Key: "demo-key-alice-6f1c2a9e", InHeader: true},
		OnChange: func(u *auth.User) {
			if u != nil {
				fmt.Println("now acting as", u.Login)
			}
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	// With a key, a login with no options reads the key's user.
	if err := c.Login(ctx, auth.Options{}); err != nil {
		panic(err)
	}
	fmt.Println(c.User().ID, c.User().Name)
	// Output:
	// now acting as alice
	// 101 Alice Example
}

// Every failure is an *auth.Error with a stable Code and a message a
// person can act on; auth.CodeOf reads the code of any error.
func ExampleError() {
	pbx, err := pbxtest.Start()
	if err != nil {
		panic(err)
	}
	defer pbx.Close()
	c := pbx.Client() // what native.NewClient(pbx.URL) returns
	ctx := context.Background()

	err = c.Login(ctx, auth.Options{Username: "carol", Password: "wrong"})
	var e *auth.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code)
	}

	err = c.SetCompany(ctx, "acme") // not logged in
	fmt.Println(auth.CodeOf(err))

	err = c.Login(ctx, auth.Options{Username: "carol"}) // a username needs a password
	fmt.Println(auth.CodeOf(err))
	// Output:
	// auth_failed
	// login_required
	// bad_option
}

// The live feed tells a logged-in program at once when its login ends
// elsewhere: a logout in another program, a revocation, or, as here, the
// expiry of the session (the test server's clock moves a day ahead). The
// user's properties are cleared before OnError hears of it.
func ExampleClient_StartFeed() {
	pbx, err := pbxtest.Start()
	if err != nil {
		panic(err)
	}
	defer pbx.Close()
	c := pbx.Client()
	ctx := context.Background()

	if err := c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}); err != nil {
		panic(err)
	}
	ended := make(chan int, 1)
	err = c.StartFeed(ctx, feed.Options{}, auth.FeedCallbacks{
		OnError: func(errno int, text string) {
			select {
			case ended <- errno:
			default: // only the first error matters here
			}
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("feed up for", c.User().Login)

	pbx.Advance(25 * time.Hour)
	errno := <-ended
	fmt.Println("login ended:", errno == feed.ErrLoggedOut, "errno", errno)
	fmt.Println("user:", c.User())
	// Output:
	// feed up for alice
	// login ended: true errno 2
	// user: <nil>
}
