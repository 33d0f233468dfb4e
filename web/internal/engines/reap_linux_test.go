package engines

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

// adoptOrphans makes this test process the subreaper of what it starts: a
// browser or driver whose parent dies (a killed harness, a driver that
// left its browser running) is re-parented here instead of to init, so that
// reapOrphans finds it and ends it. Puppeteer starts Firefox in a process
// group of its own, and WebDriver servers start their browsers, so killing
// the harness's group alone would miss them.
func adoptOrphans() error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// children returns the pids and names of this process's children.
func children() map[int]string {
	self := os.Getpid()
	out := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(f[1])
		if err != nil || ppid != self {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		name := ""
		if j := strings.IndexByte(s, '('); j >= 0 && j < i {
			name = s[j+1 : i]
		}
		if f[0] == "Z" {
			name += " (exited)"
		}
		out[pid] = name
	}
	return out
}

// reapOrphans ends the processes adopted from the harness (every child of
// this process but those in keep, which os/exec still waits for): it waits
// up to grace for them to exit by themselves, then kills each by its pid,
// and reaps them. It returns what it had to kill.
func reapOrphans(keep map[int]bool, grace time.Duration) []string {
	var killed []string
	deadline := time.Now().Add(grace)
	for {
		left := 0
		late := time.Now().After(deadline)
		for pid, name := range children() {
			if keep[pid] {
				continue
			}
			var ws syscall.WaitStatus
			if got, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); got == pid {
				continue // it had exited; now reaped
			}
			left++
			if late {
				killed = append(killed, strconv.Itoa(pid)+" "+name)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				_, _ = syscall.Wait4(pid, &ws, 0, nil)
			}
		}
		// A killed process's children come here next: look again until
		// none is left, or give up well after the grace.
		if left == 0 || time.Now().After(deadline.Add(2*grace)) {
			return killed
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inGroup starts cmd in a process group of its own, and its cancellation
// kills the whole group: node, xvfb-run and Xvfb, the WebDriver server and
// what it started there.
func inGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
