//go:build !unix

package feedserver_test

import "testing"

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func raiseFileLimit(*testing.B, uint64) {}
