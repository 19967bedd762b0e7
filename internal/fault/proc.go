package fault

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Proc identifies a process across pid reuse: a pid plus its start time in
// clock ticks since boot (field 22 of /proc/PID/stat).
type Proc struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// String returns "pid:PID@START", the resource name of a process.
func (p Proc) String() string { return fmt.Sprintf("pid:%d@%d", p.PID, p.StartTime) }

// ProcStat is the part of /proc/PID/stat that kinds need.
type ProcStat struct {
	PID       int
	Comm      string
	State     byte // R, S, D, T (stopped), t, Z, …
	PPID      int
	Flags     uint64 // the kernel's PF_* flags
	StartTime uint64
}

// pfKthread is PF_KTHREAD in the flags field of /proc/PID/stat.
const pfKthread = 0x00200000

// KernelThread reports whether the process is a kernel thread.
func (s ProcStat) KernelThread() bool { return s.Flags&pfKthread != 0 }

// ReadProcStat reads /proc/PID/stat under the host's proc root.
func (h *Host) ReadProcStat(pid int) (ProcStat, error) {
	b, err := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return ProcStat{}, err
	}
	return parseProcStat(string(b))
}

func parseProcStat(s string) (ProcStat, error) {
	// comm is in parentheses and may itself contain spaces and parentheses.
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return ProcStat{}, fmt.Errorf("parse stat: no comm")
	}
	st := ProcStat{Comm: s[open+1 : closing]}
	var err error
	if st.PID, err = strconv.Atoi(strings.TrimSpace(s[:open])); err != nil {
		return st, fmt.Errorf("parse stat pid: %w", err)
	}
	f := strings.Fields(s[closing+1:])
	if len(f) < 20 {
		return st, fmt.Errorf("parse stat: %d fields", len(f))
	}
	st.State = f[0][0]
	if st.PPID, err = strconv.Atoi(f[1]); err != nil {
		return st, fmt.Errorf("parse stat ppid: %w", err)
	}
	if st.Flags, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return st, fmt.Errorf("parse stat flags: %w", err)
	}
	if st.StartTime, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return st, fmt.Errorf("parse stat starttime: %w", err)
	}
	return st, nil
}

// Identify returns the Proc for a live pid.
func (h *Host) Identify(pid int) (Proc, ProcStat, error) {
	st, err := h.ReadProcStat(pid)
	if err != nil {
		return Proc{}, st, fmt.Errorf("no process %d: %w", pid, err)
	}
	return Proc{PID: pid, StartTime: st.StartTime}, st, nil
}

// Same reports whether p still names the same process: the pid exists and has
// the recorded start time.
func (h *Host) Same(p Proc) (ProcStat, bool) {
	st, err := h.ReadProcStat(p.PID)
	return st, err == nil && st.StartTime == p.StartTime
}

// CheckTarget refuses the processes that are never targets (DESIGN §6.7):
// pid 1 and kernel threads, bulwark itself and its parent chain, and the names
// on the deny-list. param names the parameter for the error.
func (h *Host) CheckTarget(param string, pid int) (Proc, ProcStat, error) {
	if pid <= 1 {
		return Proc{}, ProcStat{}, &ParamError{param, fmt.Sprintf("pid %d is never a target", pid)}
	}
	p, st, err := h.Identify(pid)
	if err != nil {
		return p, st, &ParamError{param, err.Error()}
	}
	if pid == os.Getpid() || pid == os.Getppid() {
		return p, st, &ParamError{param, fmt.Sprintf("pid %d is bulwark itself", pid)}
	}
	if st.KernelThread() {
		return p, st, &ParamError{param, fmt.Sprintf("pid %d (%s) is a kernel thread", pid, st.Comm)}
	}
	if slices.Contains(h.DenyProcesses, st.Comm) {
		return p, st, &ParamError{param, fmt.Sprintf("pid %d (%s) is on the deny-list of processes that are never targets", pid, st.Comm)}
	}
	return p, st, nil
}
