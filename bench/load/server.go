package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pbxServer is the server process.
type pbxServer struct {
	url       string
	cmd       *exec.Cmd
	stateFile string
	log       *serverLog
	done      chan error
}

// buildPBX builds ./web into dir.
func buildPBX(dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pbx")
	build := exec.Command("go", "build", "-o", bin, "./web")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./web: %v\n%s", err, out)
	}
	return bin, nil
}

// repoRoot is the directory of the module's go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := string(bytes.TrimSpace(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run it inside the repository (go env GOMOD names no go.mod)")
	}
	return filepath.Dir(mod), nil
}

// startPBX writes the users file into dir and starts the server bin with
// it, and with its state file and Ping key in dir.
func startPBX(bin, dir string) (*pbxServer, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	usersFile := filepath.Join(dir, "users.json")
	if err := writeUsers(usersFile); err != nil {
		return nil, err
	}
	s := &pbxServer{stateFile: filepath.Join(dir, "state.json"), log: &serverLog{counts: StatusCounts{}}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, "-addr", "127.0.0.1:0", "-users", usersFile, "-ping-key", filepath.Join(dir, "ping.key"), "-state", s.stateFile)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go s.log.read(stderr)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		s.done <- s.cmd.Wait()
	}()
	select {
	case line := <-lines:
		u, ok := strings.CutPrefix(line, "listening on ")
		if !ok {
			s.kill()
			return nil, fmt.Errorf("the server printed %q; its log:\n%s", line, s.log.tail())
		}
		s.url = u
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("the server stopped: %v; its log:\n%s", err, s.log.tail())
	case <-time.After(startDeadline):
		s.kill()
		return nil, fmt.Errorf("the server did not start within %s; its log:\n%s", startDeadline, s.log.tail())
	}
}

// stopAndCount stops the server gracefully and counts the sessions and login
// tokens of the state file it writes.
func (s *pbxServer) stopAndCount() (sessions, tokens int, err error) {
	if err := s.stop(); err != nil {
		return 0, 0, err
	}
	return s.state()
}

// stop stops the server gracefully (it writes its state file).
func (s *pbxServer) stop() error {
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			return fmt.Errorf("the server's graceful stop: %v; its log:\n%s", err, s.log.tail())
		}
		return nil
	case <-time.After(stopDeadline):
		s.kill()
		return fmt.Errorf("the server did not stop within %s", stopDeadline)
	}
}

func (s *pbxServer) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
	}
}

// state counts the sessions and login tokens of the state file.
func (s *pbxServer) state() (sessions, tokens int, err error) {
	data, err := os.ReadFile(s.stateFile)
	if err != nil {
		return 0, 0, fmt.Errorf("the state file: %w", err)
	}
	var st struct {
		Sessions []json.RawMessage `json:"sessions"`
		Tokens   []json.RawMessage `json:"tokens"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, 0, fmt.Errorf("the state file: %w", err)
	}
	return len(st.Sessions), len(st.Tokens), nil
}

// cpu is the CPU time, in seconds, the server process has used so far
// (user and system, from /proc; 0 where there is none).
func (s *pbxServer) cpu() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which is in parentheses and may
	// hold spaces): state is the 3rd field of the line, utime the 14th and
	// stime the 15th.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (utime + stime) / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux.
const clockTicks = 100
