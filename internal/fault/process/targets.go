package process

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// procTarget is one process a fault acts on: its identity, its name, and
// the state it was in before (for the evidence).
type procTarget struct {
	fault.Proc
	Comm  string `json:"comm"`
	Prior string `json:"priorState"`
}

// selector says which processes a fault targets: exactly one of PID, Name
// and Port is set.
type selector struct {
	PID         int
	Name        string
	Port        int
	Protocol    string // for Port: "tcp", "udp" or "any"
	AllMatching bool
	MaxMatches  int
}

// selector returns the target selection of process.hang.
func (p *HangParams) selector() selector {
	return selector{PID: p.PID, Name: p.Name, AllMatching: p.AllMatching, MaxMatches: p.MaxMatches}
}

// findTargets resolves a selection to the processes to act on, refusing
// (with a *fault.ParamError) anything that may not or cannot be a target:
// the host's rules (fault.Host.CheckTarget), threads, and exited processes.
func findTargets(h *fault.Host, s selector) ([]procTarget, error) {
	if s.PID != 0 {
		t, err := checkProc(h, "pid", s.PID)
		if err != nil {
			return nil, err
		}
		return []procTarget{t}, nil
	}
	param, what := "name", fmt.Sprintf("named %q", s.Name)
	var pids []int
	var err error
	if s.Port != 0 {
		param, what = "port", fmt.Sprintf("holding %s port %d", protoText(s.Protocol), s.Port)
		pids, err = pidsOnPort(h, s.Protocol, s.Port)
	} else {
		if err := checkDenied(h, s.Name); err != nil {
			return nil, err
		}
		pids, err = pidsNamed(h, s.Name)
	}
	if err != nil {
		return nil, err
	}
	if err := checkCount(s, param, what, pids); err != nil {
		return nil, err
	}
	out := make([]procTarget, 0, len(pids))
	for _, pid := range pids {
		t, err := checkProc(h, param, pid)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// checkCount enforces DESIGN §6.7: a name (or port) hits exactly one process
// unless --all-matching, and then no more than --max-matches (refused, not
// cut).
func checkCount(s selector, param, what string, pids []int) error {
	switch n := len(pids); {
	case n == 0:
		return &fault.ParamError{Param: param, Message: fmt.Sprintf("no process is %s", what)}
	case n > 1 && !s.AllMatching:
		return &fault.ParamError{Param: param, Message: fmt.Sprintf("%d processes are %s (pids %s); name one with --pid, or pass --all-matching", n, what, pidList(pids))}
	case n > s.MaxMatches:
		return &fault.ParamError{Param: "max-matches", Message: fmt.Sprintf("%d processes are %s, more than --max-matches %d (refused, not truncated)", n, what, s.MaxMatches)}
	}
	return nil
}

func pidList(pids []int) string {
	const show = 8
	var s []string
	for i, pid := range pids {
		if i == show {
			s = append(s, "…")
			break
		}
		s = append(s, strconv.Itoa(pid))
	}
	return strings.Join(s, ", ")
}

// checkProc applies the host's target rules to pid and refuses threads and
// processes that have exited.
func checkProc(h *fault.Host, param string, pid int) (procTarget, error) {
	proc, st, err := h.CheckTarget(param, pid)
	if err != nil {
		return procTarget{}, err
	}
	tgid, err := readTgid(h, pid)
	if err != nil {
		return procTarget{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("read pid %d: %v", pid, err)}
	}
	if tgid != pid {
		return procTarget{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("%d is a thread of process %d; give the process's pid", pid, tgid)}
	}
	switch st.State {
	case 'Z', 'X', 'x':
		return procTarget{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("pid %d (%s) has exited (state %c)", pid, st.Comm, st.State)}
	}
	return procTarget{Proc: proc, Comm: st.Comm, Prior: string(st.State)}, nil
}

// refuseStopped refuses targets that are already stopped: recovering a hang
// would wrongly resume them.
func refuseStopped(param string, procs []procTarget) error {
	for _, p := range procs {
		if p.Prior == "T" || p.Prior == "t" {
			return &fault.ParamError{Param: param, Message: fmt.Sprintf("pid %d (%s) is already stopped (state %s); recovering a hang would resume it", p.PID, p.Comm, p.Prior)}
		}
	}
	return nil
}

// readTgid returns the thread group (process) id of a task from
// /proc/PID/status; /proc/TID exists for threads too, but a signal to a
// thread id would stop its whole process.
func readTgid(h *fault.Host, pid int) (int, error) {
	f, err := os.Open(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Tgid:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no Tgid in status")
}

// pidsNamed lists, in ascending order, the processes whose comm is name.
// Processes that have exited (zombies waiting for their parent) or that exit
// during the scan are skipped.
func pidsNamed(h *fault.Host, name string) ([]int, error) {
	ents, err := os.ReadDir(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		st, err := h.ReadProcStat(pid)
		if err == nil && st.Comm == name && !exited(st.State) {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// resourceOf names the processes a fault acts on: "pid:N@START", or several joined by
// commas when --all-matching selected more than one process.
func resourceOf(procs []procTarget) string {
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.Proc.String()
	}
	return strings.Join(names, ",")
}
