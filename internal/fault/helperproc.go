package fault

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// HelperRef names the helper processes of one fault: every process whose
// command line starts `<Exe> helper <Name> --fault <Fault>`. Kinds that hold
// their effect in a helper (cpu.load, mem.fill, dep.*) record the one they
// started in their receipt and find strays with it, such as a helper whose
// pid was never journaled because bulwark died right after starting it.
type HelperRef struct {
	Exe, Name, Fault string
	// Started is the helper the receipt recorded, if any.
	Started *Proc
}

// IsArgv reports whether argv is the command line of one of r's helpers.
func (r HelperRef) IsArgv(argv []string) bool {
	return len(argv) >= 5 && argv[0] == r.Exe && argv[1] == "helper" && argv[2] == r.Name &&
		argv[3] == "--fault" && argv[4] == r.Fault
}

// Alive reports whether p still names the same, not yet exited process.
func (h *Host) Alive(p Proc) bool {
	st, ok := h.Same(p)
	return ok && st.State != 'Z' && st.State != 'X'
}

// Helpers returns r's live helpers: the recorded one if it still runs, then
// any other found by command line under the host's proc root. It also says
// how many processes it looked at, for evidence.
func (h *Host) Helpers(r HelperRef) ([]Proc, int, error) {
	var out []Proc
	if r.Started != nil && h.Alive(*r.Started) {
		out = append(out, *r.Started)
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
		if err != nil || len(b) == 0 || !r.IsArgv(strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")) {
			continue
		}
		p, st, err := h.Identify(pid)
		if err != nil || st.State == 'Z' || r.Started != nil && p == *r.Started {
			continue
		}
		out = append(out, p)
	}
	return out, scanned, nil
}
