package cpu

import (
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Status is what the helper writes to its status file once a second: the
// level it achieved over the last second.
type Status struct {
	Time     time.Time `json:"time"`
	Fault    string    `json:"fault"`
	PID      int       `json:"pid"`
	State    string    `json:"state"` // "running" or "exited"
	Reason   string    `json:"reason,omitempty"`
	Mode     string    `json:"mode"`
	Target   float64   `json:"target"`
	Deadline time.Time `json:"deadline"`
	CPUs     []int     `json:"cpus"`
	// Achieved is, per core, the percentage the mode aims at over the last
	// second: the helper's own burn (add) or the core's total usage from
	// /proc/stat (hold). Total is their mean. Achieved, Burn and Usage are
	// empty in the first status, written before anything was measured.
	Achieved []float64 `json:"achieved"`
	Total    float64   `json:"total"`
	// Burn is the helper's own CPU per core over the last second, from its
	// threads' CPU clocks; BurnTarget is what each burner is asked for now
	// (hold: the target minus the other load).
	Burn       []float64 `json:"burn"`
	BurnTarget []float64 `json:"burnTarget"`
	// Usage is each core's total usage over the last second from /proc/stat.
	Usage []float64 `json:"usage,omitempty"`
}

// States of the helper in its status file.
const (
	stateRunning = "running"
	stateExited  = "exited"
)

// ReadStatus reads a helper's status file.
func ReadStatus(path string) (*Status, error) {
	var s Status
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
