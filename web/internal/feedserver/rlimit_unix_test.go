//go:build unix

package feedserver_test

import (
	"syscall"
	"testing"
)

// raiseFileLimit raises the soft RLIMIT_NOFILE to need, or to the hard limit
// if that is lower, when it is below need: each feed of the benchmark is two
// open files in this process, its client end and its server end. (Go already
// raises the soft limit to the hard one at startup on Linux, so this matters
// only where that did not happen or the hard limit itself is low.)
func raiseFileLimit(b *testing.B, need uint64) {
	b.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Logf("RLIMIT_NOFILE: %v", err)
		return
	}
	if lim.Cur >= need {
		return
	}
	lim.Cur = min(need, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Logf("raising RLIMIT_NOFILE to %d: %v", lim.Cur, err)
	}
	if lim.Cur < need {
		b.Logf("RLIMIT_NOFILE is %d, under the %d files wanted; opening feeds may fail", lim.Cur, need)
	}
}
