package pbxtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// A test logs in as a demo user with the Go client and reads the user's
// properties. In a test function, pbxtest.NewServer(t) does what Start and
// Close do here.
func Example() {
	s, err := pbxtest.Start() // the demo users
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	c := s.Client()
	if err := c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}); err != nil {
		panic(err)
	}
	u := c.User()
	fmt.Println(u.ID, u.Login, u.Name, u.Company, u.Perms["admin"])
	// Output:
	// 101 alice Alice Example default company
}

// A login expires when the test moves the server's clock past its life:
// the session's 24 hours, and the login token's.
func ExampleServer_Advance() {
	s, err := pbxtest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	c := s.Client()
	if err := c.Login(ctx, auth.Options{Username: "bob", Password: "builder"}); err != nil {
		panic(err)
	}
	fmt.Println("check:", c.Login(ctx, auth.Options{CheckOnly: true}))

	s.Advance(25 * time.Hour)
	fmt.Println("check a day later:", auth.CodeOf(c.Login(ctx, auth.Options{CheckOnly: true})))
	// Output:
	// check: <nil>
	// check a day later: login_required
}

// A test mints a Ping JWT for a demo user and logs in with it through the
// Ping backend; the token expires on the server's clock.
func ExampleServer_PingToken() {
	s, err := pbxtest.Start()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	jwt, err := s.PingToken("carol", time.Hour)
	if err != nil {
		panic(err)
	}
	c := s.Client()
	if err := c.SetHostFor(s.URL, "ping"); err != nil {
		panic(err)
	}
	if err := c.Login(ctx, auth.Options{Tokens: []string{jwt}}); err != nil {
		panic(err)
	}
	u := c.User()
	fmt.Println(c.Backend(), u.Login, u.Name, u.Company)

	s.Advance(2 * time.Hour)
	d := s.Client()
	if err := d.SetHostFor(s.URL, "ping"); err != nil {
		panic(err)
	}
	fmt.Println("an hour after it expired:", auth.CodeOf(d.Login(ctx, auth.Options{Tokens: []string{jwt}})))
	// Output:
	// ping 42 Carol Acme acme
	// an hour after it expired: auth_failed
}
