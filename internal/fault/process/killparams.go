package process

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// maxKillWait bounds --wait: Verify runs before the fault is active.
const maxKillWait = time.Minute

// KillParams are the parameters of process.kill. Exactly one of PID, Name
// and Port names the target.
type KillParams struct {
	PID         int              `param:"pid,target" help:"the process to signal (its pid); or give --name or --port"`
	Name        string           `param:"name,target" help:"the exact process name (comm, at most 15 characters); it must match one process unless --all-matching"`
	Port        int              `param:"port,target" min:"1" max:"65535" help:"signal the process listening on this local TCP port or bound to this UDP port (in bulwark's network namespace)"`
	Protocol    string           `param:"protocol" default:"any" enum:"tcp,udp,any" help:"with --port, which sockets to look at"`
	Signal      string           `param:"signal" default:"KILL" help:"the signal: a name (KILL, TERM, SIGTERM, HUP…) or a number; SIGSTOP and SIGCONT are process.hang"`
	AllMatching bool             `param:"all-matching" help:"with --name or --port, signal every matching process (at most --max-matches)"`
	MaxMatches  int              `param:"max-matches" default:"10" min:"1" max:"100" help:"with --all-matching, refuse when more processes than this match"`
	Wait        bulwark.Duration `param:"wait" default:"5s" help:"how long verification waits for the target to exit (at most 1m); a process that survives a signal other than KILL is reported, not failed"`

	sig syscall.Signal // the parsed Signal, set by Validate
}

// Validate checks the parameters that depend on each other and parses the
// signal.
func (p *KillParams) Validate() error {
	given := 0
	for _, set := range []bool{p.PID != 0, p.Name != "", p.Port != 0} {
		if set {
			given++
		}
	}
	switch {
	case p.PID < 0:
		return &fault.ParamError{Param: "pid", Message: fmt.Sprintf("%d is not a pid", p.PID)}
	case given > 1:
		return &fault.ParamError{Param: "pid", Message: "give one of --pid, --name and --port"}
	case given == 0:
		return &fault.ParamError{Param: "pid", Message: "is required (or give --name or --port)"}
	case p.AllMatching && p.PID != 0:
		return &fault.ParamError{Param: "all-matching", Message: "only goes with --name or --port"}
	case p.Wait < 0 || time.Duration(p.Wait) > maxKillWait:
		return &fault.ParamError{Param: "wait", Message: fmt.Sprintf("%s is out of range (0 to %s)", time.Duration(p.Wait), maxKillWait)}
	}
	if p.Name != "" {
		hp := HangParams{Name: p.Name}
		if err := hp.Validate(); err != nil {
			return err
		}
	}
	sig, err := parseSignal(p.Signal)
	if err != nil {
		return err
	}
	p.sig = sig
	return nil
}

// selector returns the target selection of process.kill.
func (p *KillParams) selector() selector {
	return selector{PID: p.PID, Name: p.Name, Port: p.Port, Protocol: p.Protocol, AllMatching: p.AllMatching, MaxMatches: p.MaxMatches}
}

// parseSignal accepts "KILL", "SIGKILL", "kill" and "9". It refuses signal 0
// (which sends nothing), the real-time range, and the signals that stop or
// continue a process: those are process.hang, which undoes them.
func parseSignal(s string) (syscall.Signal, error) {
	bad := func(msg string) error { return &fault.ParamError{Param: "signal", Message: msg} }
	var sig syscall.Signal
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 31 || signalName(syscall.Signal(n)) == "" {
			return 0, bad(fmt.Sprintf("%d is not a signal this kind sends (1 to 31)", n))
		}
		sig = syscall.Signal(n)
	} else {
		name := strings.ToUpper(strings.TrimSpace(s))
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		n, ok := signalNum(name)
		if !ok || n > 31 {
			return 0, bad(fmt.Sprintf("%q is not a signal name (KILL, TERM, HUP, INT, QUIT, USR1, …)", s))
		}
		sig = n
	}
	switch signalName(sig) {
	case "SIGSTOP", "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU":
		return 0, bad(fmt.Sprintf("%s stops or resumes a process rather than ending it: use process.hang, which resumes it on recovery", signalName(sig)))
	}
	return sig, nil
}

var _ fault.Validator = (*KillParams)(nil)
