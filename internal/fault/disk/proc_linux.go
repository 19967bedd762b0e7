package disk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	return fault.HelperRef{Exe: exe, Name: name, Fault: id}.IsArgv(argv)
}

// findHelpers returns the fault's live helpers (see fault.Host.Helpers).
func findHelpers(h *fault.Host, journaled *fault.Proc, exe, name, id string) ([]fault.Proc, int, error) {
	return h.Helpers(fault.HelperRef{Exe: exe, Name: name, Fault: id, Started: journaled})
}

// alive reports whether p still names the same, not yet exited process.
func alive(h *fault.Host, p fault.Proc) bool { return h.Alive(p) }

// stopHelper ends a helper: SIGTERM, then SIGKILL, through h.Signal (pid and start
// time checked).
func stopHelper(ctx context.Context, h *fault.Host, p fault.Proc) error {
	return h.StopHelper(ctx, p, termWait, killWait)
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
