//go:build !unix

package feed_test

import "testing"

// raiseFileLimit does nothing where there is no RLIMIT_NOFILE.
func raiseFileLimit(*testing.B, uint64) {}
