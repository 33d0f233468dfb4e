package pbxtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// A test serves HTTPS: the Go client trusts the server's CA and runs the
// feed over wss, and a page server on another site, https://localhost,
// serves with the same certificate.
func ExampleWithTLS() {
	s, err := pbxtest.Start(pbxtest.WithTLS())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()

	c := s.Client()
	if err := c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"}); err != nil {
		panic(err)
	}
	fmt.Println(strings.Split(s.URL, ":")[0], strings.Split(c.WSHost(), ":")[0], c.User().Login)

	pages := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "a page of %s", r.Host[:strings.LastIndex(r.Host, ":")])
	}))
	pages.TLS = s.TLSConfig()
	pages.StartTLS()
	defer pages.Close()
	page := "https://localhost:" + pages.URL[strings.LastIndex(pages.URL, ":")+1:]
	resp, err := s.HTTPClient().Get(page) // it trusts the CA of both servers' certificate
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Proto, string(body))
	// Output:
	// https wss alice
	// HTTP/2.0 a page of localhost
}
