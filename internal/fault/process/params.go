package process

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// commMax is the longest name the kernel keeps in /proc/PID/stat (the comm
// field is TASK_COMM_LEN 16 bytes including the terminating NUL).
const commMax = 15

// HangParams are the parameters of process.hang. Exactly one of PID and Name
// names the target.
type HangParams struct {
	PID         int    `param:"pid,target" help:"the process to stop (its pid); or give --name"`
	Name        string `param:"name,target" help:"the exact process name (comm, at most 15 characters); it must match one process unless --all-matching"`
	AllMatching bool   `param:"all-matching" help:"with --name, stop every process of that name (at most --max-matches)"`
	MaxMatches  int    `param:"max-matches" default:"10" min:"1" max:"100" help:"with --all-matching, refuse when more processes than this match"`
}

// Validate checks the parameters that depend on each other.
func (p *HangParams) Validate() error {
	switch {
	case p.PID < 0:
		return &fault.ParamError{Param: "pid", Message: fmt.Sprintf("%d is not a pid", p.PID)}
	case p.PID != 0 && p.Name != "":
		return &fault.ParamError{Param: "name", Message: "give --pid or --name, not both"}
	case p.PID == 0 && p.Name == "":
		return &fault.ParamError{Param: "pid", Message: "is required (or give --name)"}
	case p.AllMatching && p.Name == "":
		return &fault.ParamError{Param: "all-matching", Message: "only goes with --name"}
	}
	if p.Name == "" {
		return nil
	}
	if len(p.Name) > commMax {
		return &fault.ParamError{Param: "name", Message: fmt.Sprintf("%q is longer than %d characters, so it can never equal a process name (comm)", p.Name, commMax)}
	}
	if strings.ContainsAny(p.Name, "\x00\n") {
		return &fault.ParamError{Param: "name", Message: fmt.Sprintf("%q is not a process name", p.Name)}
	}
	return nil
}

// checkDenied refuses a name on the host's deny-list before /proc is read.
func checkDenied(h *fault.Host, name string) error {
	if slices.Contains(h.DenyProcesses, name) {
		return &fault.ParamError{Param: "name", Message: fmt.Sprintf("%q is on the deny-list of processes that are never targets", name)}
	}
	return nil
}
