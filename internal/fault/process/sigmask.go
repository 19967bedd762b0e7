package process

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// disposition says, from /proc/PID/status, why a process may have survived
// a signal: whether it blocks, ignores or catches it.
func disposition(h *fault.Host, pid, sig int) string {
	f, err := os.Open(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return "its signal masks could not be read"
	}
	defer f.Close()
	masks := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
			masks[k] = n
		}
	}
	bit := uint64(1) << (sig - 1)
	switch {
	case masks["SigBlk"]&bit != 0:
		return "it blocks the signal (SigBlk)"
	case masks["SigIgn"]&bit != 0:
		return "it ignores the signal (SigIgn)"
	case masks["SigCgt"]&bit != 0:
		return "it catches the signal (SigCgt) and kept running"
	}
	return "the signal's default action does not end it, or it is still exiting"
}
