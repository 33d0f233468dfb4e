//go:build !(js && wasm)

package thirdparty_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/core/backend/vodia/thirdparty"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// The integrator mounts the handler on its own site; its page POSTs there,
// gets the temporary id and turns it into a session on the PBX (here the
// local server's Vodia half, as `go run ./web` serves it) within ten
// seconds.
func Example() {
	pbx, err := pbxtest.Start() // its Vodia admin is admin:vodia-demo
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pbx.Close()

	mux := http.NewServeMux()
	mux.Handle("POST /thirdpartylogin", &thirdparty.Handler{
		PBX:      pbx.URL, // "https://pbx.example.com"
		Admin:    "admin",
		Password: "vodia-demo",
		Allow: func(r *http.Request) (thirdparty.Grant, error) {
			// Find the caller with the site's own login (its session
			// cookie, say) and grant only what it may have.
			if r.Header.Get("X-Demo-User") != "alice" {
				return thirdparty.Grant{}, errors.New("log in to this site first")
			}
			return thirdparty.Grant{Domain: "default", Username: "40"}, nil
		},
		Timeout: 10 * time.Second,
	})
	site := httptest.NewServer(mux)
	defer site.Close()

	// What the page does.
	client := &http.Client{Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/thirdpartylogin", nil)
	req.Header.Set("X-Demo-User", "alice")
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var temp string
	_ = json.NewDecoder(resp.Body).Decode(&temp)
	resp.Body.Close()
	fmt.Println("from the site:", resp.StatusCode, resp.Header.Get("Cache-Control"))

	exchange, _ := json.Marshal(map[string]string{"name": "session", "value": temp})
	resp, err = client.Post(pbx.URL+thirdparty.Path, "application/json", strings.NewReader(string(exchange)))
	if err != nil {
		fmt.Println(err)
		return
	}
	var session struct{ Type, Domain, Username, Name string }
	_ = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	fmt.Println("from the PBX:", resp.StatusCode, session.Type, session.Domain, session.Username, session.Name)

	// Another caller is refused by the hook.
	resp, err = client.Post(site.URL+"/thirdpartylogin", "application/json", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	refusal, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print("refused: ", resp.StatusCode, " ", string(refusal))
	// Output:
	// from the site: 200 no-store
	// from the PBX: 200 user default 40 Alice Example
	// refused: 403 {"error":"log in to this site first"}
}
