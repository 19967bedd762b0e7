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

// hungProc is one process a hang fault stops: its identity, its name, and
// the state it was in before (for the evidence).
type hungProc struct {
	fault.Proc
	Comm  string `json:"comm"`
	Prior string `json:"priorState"`
}

// findTargets resolves the parameters to the processes to stop, refusing
// (with a *fault.ParamError) anything that may not or cannot be hung.
func findTargets(h *fault.Host, p *HangParams) ([]hungProc, error) {
	if p.PID != 0 {
		t, err := checkProc(h, "pid", p.PID)
		if err != nil {
			return nil, err
		}
		return []hungProc{t}, nil
	}
	if err := checkDenied(h, p.Name); err != nil {
		return nil, err
	}
	pids, err := pidsNamed(h, p.Name)
	if err != nil {
		return nil, err
	}
	if err := checkCount(p, pids); err != nil {
		return nil, err
	}
	out := make([]hungProc, 0, len(pids))
	for _, pid := range pids {
		t, err := checkProc(h, "name", pid)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// checkCount enforces DESIGN §6.7: a name hits exactly one process unless
// --all-matching, and then no more than --max-matches (refused, not cut).
func checkCount(p *HangParams, pids []int) error {
	switch n := len(pids); {
	case n == 0:
		return &fault.ParamError{Param: "name", Message: fmt.Sprintf("no process is named %q", p.Name)}
	case n > 1 && !p.AllMatching:
		return &fault.ParamError{Param: "name", Message: fmt.Sprintf("%d processes are named %q (pids %s); name one with --pid, or pass --all-matching", n, p.Name, pidList(pids))}
	case n > p.MaxMatches:
		return &fault.ParamError{Param: "max-matches", Message: fmt.Sprintf("%d processes are named %q, more than --max-matches %d (refused, not truncated)", n, p.Name, p.MaxMatches)}
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

// checkProc applies the host's target rules to pid and refuses threads,
// processes that are already stopped (recovery would wrongly resume them)
// and processes that have exited.
func checkProc(h *fault.Host, param string, pid int) (hungProc, error) {
	proc, st, err := h.CheckTarget(param, pid)
	if err != nil {
		return hungProc{}, err
	}
	tgid, err := readTgid(h, pid)
	if err != nil {
		return hungProc{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("read pid %d: %v", pid, err)}
	}
	if tgid != pid {
		return hungProc{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("%d is a thread of process %d; give the process's pid", pid, tgid)}
	}
	switch st.State {
	case 'T', 't':
		return hungProc{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("pid %d (%s) is already stopped (state %c); recovering a hang would resume it", pid, st.Comm, st.State)}
	case 'Z', 'X', 'x':
		return hungProc{}, &fault.ParamError{Param: param, Message: fmt.Sprintf("pid %d (%s) has exited (state %c)", pid, st.Comm, st.State)}
	}
	return hungProc{Proc: proc, Comm: st.Comm, Prior: string(st.State)}, nil
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
// Processes that exit during the scan are skipped.
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
		if err == nil && st.Comm == name {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// resourceOf names what a hang holds: "pid:N@START", or several joined by
// commas when --all-matching stopped more than one process.
func resourceOf(procs []hungProc) string {
	names := make([]string, len(procs))
	for i, p := range procs {
		names[i] = p.Proc.String()
	}
	return strings.Join(names, ",")
}
