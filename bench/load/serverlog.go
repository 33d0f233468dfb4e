package main

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"
)

// serverLog counts the server's request lines, "date time METHOD PATH
// STATUS DURATION" or, for a request whose client left before its reply,
// "date time METHOD PATH lost DURATION (REASON)", by "METHOD PATH STATUS"
// (STATUS "lost" for the latter).
type serverLog struct {
	mu        sync.Mutex
	counts    StatusCounts
	lastLogin time.Time
	lines     []string // the last few, for errors
}

var requestLine = regexp.MustCompile(`^\S+ \S+ ([A-Z]+) (/\S*) (\d{3}|lost) \S+`)

func (l *serverLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		if m := requestLine.FindStringSubmatch(line); m != nil {
			l.counts[m[1]+" "+m[2]+" "+m[3]]++
			if m[1] == "POST" && m[2] == authPath {
				l.lastLogin = time.Now()
			}
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > 40 {
			l.lines = l.lines[len(l.lines)-20:]
		}
		l.mu.Unlock()
	}
}

func (l *serverLog) snapshot() StatusCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(StatusCounts, len(l.counts))
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

// loginRepliesSince counts the POST authPath lines logged since before, by
// status.
func (l *serverLog) loginRepliesSince(before StatusCounts) StatusCounts {
	out := StatusCounts{}
	for k, v := range l.snapshot() {
		if status, ok := strings.CutPrefix(k, "POST "+authPath+" "); ok {
			if d := v - before[k]; d > 0 {
				out[status] = d
			}
		}
	}
	return out
}

// loginsSince counts the POST authPath lines logged since before.
func (l *serverLog) loginsSince(before StatusCounts) int {
	n := 0
	for _, d := range l.loginRepliesSince(before) {
		n += d
	}
	return n
}

func (l *serverLog) lastLoginAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastLogin
}

func (l *serverLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
