package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// How long stopHelper waits for a helper to go after SIGTERM, then after
// SIGKILL.
const (
	termWait = 2 * time.Second
	killWait = 3 * time.Second
)

// isHelperArgv reports whether argv is `<exe> helper NAME --fault ID …`.
func isHelperArgv(argv []string, exe, name, id string) bool {
	return len(argv) >= 5 && argv[0] == exe && argv[1] == "helper" && argv[2] == name &&
		argv[3] == "--fault" && argv[4] == id
}

// findHelpers returns the journaled helper if it still runs, and every
// other live process whose command line is that of the fault's helper (a
// crash between start and journal leaves such strays). It also returns how
// many processes it looked at.
func findHelpers(h *fault.Host, journaled *fault.Proc, exe, name, id string) ([]fault.Proc, int, error) {
	var out []fault.Proc
	if journaled != nil && alive(h, *journaled) {
		out = append(out, *journaled)
	}
	ents, err := os.ReadDir(h.ProcRoot)
	if err != nil {
		return out, 0, fmt.Errorf("scan processes: %w", err)
	}
	scanned := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		scanned++
		b, err := os.ReadFile(filepath.Join(h.ProcRoot, e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		if !isHelperArgv(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), exe, name, id) {
			continue
		}
		p, st, err := h.Identify(pid)
		if err == nil && st.State != 'Z' && (journaled == nil || p != *journaled) {
			out = append(out, p)
		}
	}
	return out, scanned, nil
}

// alive reports whether p still names the same, not yet exited process.
func alive(h *fault.Host, p fault.Proc) bool {
	st, ok := h.Same(p)
	return ok && st.State != 'Z' && st.State != 'X'
}

// stopHelper ends a helper: SIGTERM, then SIGKILL if it has not gone in
// time, both through h.Signal, which checks the pid's start time first.
func stopHelper(ctx context.Context, h *fault.Host, p fault.Proc) error {
	for _, s := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGTERM, termWait}, {syscall.SIGKILL, killWait}} {
		if err := h.Signal(p, s.sig); errors.Is(err, fault.ErrGone) {
			return nil
		} else if err != nil {
			return fmt.Errorf("stop helper %s: %w", p, err)
		}
		if waitGone(ctx, h, p, s.wait) {
			return nil
		}
	}
	return fmt.Errorf("stop helper %s: still running after SIGKILL", p)
}

// waitGone polls until p has exited or the wait is over. A zombie counts as
// gone, except one that is this process's own child: the goroutine that
// started it reaps it in a moment.
func waitGone(ctx context.Context, h *fault.Host, p fault.Proc, wait time.Duration) bool {
	end := time.Now().Add(wait)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 2*time.Millisecond) {
		st, same := h.Same(p)
		if !same || st.State == 'Z' && (st.PPID != os.Getpid() || time.Now().After(end)) {
			return true
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
	}
}

// procIO returns a process's rchar and wchar from ProcRoot/PID/io: bytes it
// read and wrote through system calls.
func procIO(h *fault.Host, pid int) (rchar, wchar int64, err error) {
	b, err := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "io"))
	if err != nil {
		return 0, 0, fmt.Errorf("read i/o counters of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "rchar":
			rchar = n
		case "wchar":
			wchar = n
		}
	}
	return rchar, wchar, nil
}

// logTail returns the end of a helper's log, for error messages.
func logTail(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "helper.log"))
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = "…" + s[len(s)-500:]
	}
	if s == "" {
		return "no output"
	}
	return s
}
