package cpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// How long Recover waits for a helper to go after SIGTERM, then after SIGKILL.
const (
	termWait = 2 * time.Second
	killWait = 3 * time.Second
)

// helpers returns the fault's live helpers: the journaled one and any stray
// found by command line, and how many processes were scanned.
func helpers(h *fault.Host, d receiptV1) ([]fault.Proc, int, error) {
	return h.Helpers(helperRef(d))
}

// helperRef names the fault's helpers.
func helperRef(d receiptV1) fault.HelperRef {
	return fault.HelperRef{Exe: d.Exe, Name: helperName, Fault: d.Fault, Started: d.Helper}
}

// alive reports whether p still names the same, not yet exited process.
func alive(h *fault.Host, p fault.Proc) bool { return h.Alive(p) }

// stop ends a helper: SIGTERM, then SIGKILL, through h.Signal (pid and start
// time checked).
func stop(ctx context.Context, h *fault.Host, p fault.Proc) error {
	return h.StopHelper(ctx, p, termWait, killWait)
}

// procCPU returns the CPU time a process's live threads have used, in ns,
// from /proc/PID/task/*/schedstat, or from utime+stime in /proc/PID/stat
// (clock ticks) where the kernel has no schedstat.
func procCPU(procRoot string, pid int) (time.Duration, error) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	if _, err := os.Stat(filepath.Join(dir, "schedstat")); errors.Is(err, os.ErrNotExist) {
		return statCPU(dir)
	}
	tasks, err := os.ReadDir(filepath.Join(dir, "task"))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of %d: %w", pid, err)
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, "task", t.Name(), "schedstat"))
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse schedstat of %d: %w", pid, err)
		}
		sum += ns
	}
	return time.Duration(sum), nil
}

// statCPU reads utime+stime from /proc/PID/stat.
func statCPU(dir string) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("parse %s/stat: %d fields", dir, len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	k, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse %s/stat utime and stime", dir)
	}
	return time.Duration(u+k) * (time.Second / userHZ), nil
}

// userHZ is USER_HZ, the unit of /proc/PID/stat times; 100 on every Linux
// architecture Bulwark supports.
const userHZ = 100
