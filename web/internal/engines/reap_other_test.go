//go:build !linux

package engines

import (
	"os/exec"
	"time"
)

// adoptOrphans does nothing outside Linux, where the engines' packages are
// Debian's.
func adoptOrphans() error { return nil }

// reapOrphans does nothing outside Linux.
func reapOrphans(keep map[int]bool, grace time.Duration) []string { return nil }

// inGroup leaves cmd as it is outside Linux.
func inGroup(cmd *exec.Cmd) {}
