package pbxtest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pbxauth/pbxauth/core/auth"
	"github.com/pbxauth/pbxauth/web/fault"
	"github.com/pbxauth/pbxauth/web/pbxtest"
)

// A test makes the PBX fail with a 500 and sees the client's code, then
// switches the fault off and logs in with the same client.
func ExampleWithFaults() {
	s, err := pbxtest.Start(pbxtest.WithFaults())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	ctx := context.Background()
	c := s.Client()

	s.Faults().Set(fault.Status500)
	err = c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	fmt.Println("under a 500:", auth.CodeOf(err))

	s.Faults().Set(fault.Off)
	err = c.Login(ctx, auth.Options{Username: "alice", Password: "wonderland"})
	fmt.Println("after:", err, c.User().Login)
	// Output:
	// under a 500: server
	// after: <nil> alice
}

// Without WithFaults the server has no fault mode: /test/fault is not
// served and Faults panics.
func TestNoFaultsByDefault(t *testing.T) {
	s := pbxtest.NewServer(t)
	resp, err := http.Post(s.URL+fault.Path, "application/json", strings.NewReader(`{"mode": "500"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.PanicsWithValue(t, "pbxtest: Faults: the server has no fault mode; start it with pbxtest.WithFaults()", func() { s.Faults() })
	login(t, s.Client(), "alice", "wonderland")
}

// WithFaults starts off; the switch is served over HTTP too; the files are
// never faulted, so that a page still loads.
func TestWithFaults(t *testing.T) {
	s := pbxtest.NewServer(t, pbxtest.WithFaults())
	assert.Equal(t, fault.Off, s.Faults().Mode())
	c := s.Client()
	login(t, c, "alice", "wonderland")

	resp, err := http.Post(s.URL+fault.Path, "application/json", strings.NewReader(`{"mode": "notjson"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, fault.NotJSON, s.Faults().Mode())
	assert.Equal(t, auth.CodeServer, auth.CodeOf(checkOnly(t, c)))

	resp, err = http.Get(s.URL + "/api/api.d.ts")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the files are served whatever the fault")

	s.Faults().Set(fault.Off)
	assert.NoError(t, checkOnly(t, c), "the login made before the fault is still there")
}

// Close does not wait for the requests waiting out a latency.
func TestCloseEndsALatency(t *testing.T) {
	s, err := pbxtest.Start(pbxtest.WithFaults())
	require.NoError(t, err)
	s.Faults().Set(fault.Latency(time.Hour))
	type result struct {
		status int
		err    error
	}
	results := make(chan result, 1)
	go func() {
		resp, err := http.Post(s.URL+"/rest/auth/", "application/json", strings.NewReader(`{"auth": {"type": "auth"}}`))
		if err != nil {
			results <- result{err: err}
			return
		}
		resp.Body.Close()
		results <- result{status: resp.StatusCode}
	}()
	for deadline := time.Now().Add(time.Minute); s.Faults().Faulted() == 0; time.Sleep(5 * time.Millisecond) {
		require.True(t, time.Now().Before(deadline), "the request never reached the fault")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waits for a request delayed by an hour")
	}
	r := <-results
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusServiceUnavailable, r.status, "the delayed request was answered, not passed on")
}
