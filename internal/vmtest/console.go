package vmtest

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// console follows the VM's serial output: the harness's marker lines and the
// go test verdict lines of the binary inside.
type console struct {
	marker string
	start  time.Time

	boot, end    time.Duration // start → "MARKER init", start → "MARKER exit=N"
	modules      time.Duration // start → "MARKER modules"
	exited       bool
	exitCode     int
	insmodFailed []string
	passed       int // top-level "--- PASS" lines
	failed       int
	skipped      int
	noTests      bool // "testing: warning: no tests to run"
}

func newConsole(marker string, start time.Time) *console {
	return &console{marker: marker, start: start, exitCode: -1}
}

// read consumes r line by line until EOF, passing each cleaned line to logf.
func (c *console) read(r io.Reader, logf func(string)) {
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line = cleanLine(line); line != "" {
			c.see(line)
			logf(line)
		}
		if err != nil {
			return
		}
	}
}

// see updates c from one console line.
func (c *console) see(line string) {
	if i := strings.Index(line, c.marker+" "); i >= 0 {
		c.seeMarker(line[i+len(c.marker)+1:])
		return
	}
	switch {
	case strings.HasPrefix(line, "--- PASS: "):
		c.passed++
	case strings.HasPrefix(line, "--- FAIL: "):
		c.failed++
	case strings.HasPrefix(line, "--- SKIP: "):
		c.skipped++
	case strings.HasPrefix(line, "testing: warning: no tests to run"):
		c.noTests = true
	}
}

func (c *console) seeMarker(rest string) {
	switch {
	case rest == "init":
		c.boot = time.Since(c.start)
	case rest == "modules":
		c.modules = time.Since(c.start)
	case strings.HasPrefix(rest, "exit="):
		if n, err := strconv.Atoi(strings.TrimPrefix(rest, "exit=")); err == nil {
			c.end, c.exited, c.exitCode = time.Since(c.start), true, n
		}
	case strings.HasPrefix(rest, "insmod-failed "):
		c.insmodFailed = append(c.insmodFailed, strings.TrimPrefix(rest, "insmod-failed "))
	}
}

// result is what c measured.
func (c *console) result() Result {
	return Result{ExitCode: c.exitCode, Boot: c.boot, Modules: c.modules, Marker: c.end}
}

// cleanLine drops the line end, carriage returns and terminal escape
// sequences (the firmware clears the screen) from a console line.
func cleanLine(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == 0x1b: // ESC [ params final, or ESC x
			if i+1 < len(s) && s[i+1] == '[' {
				i += 2
				for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
					i++
				}
			} else {
				i++
			}
		case ch == '\t' || ch >= 0x20 && ch != 0x7f:
			b.WriteByte(ch)
		}
	}
	return strings.TrimRight(b.String(), " ")
}
