package cpu

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
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

// writeStatus replaces the status file atomically (temp file and rename).
func writeStatus(path string, s *Status) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".status-*")
	if err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", firstErr(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

// ReadStatus reads a helper's status file.
func ReadStatus(path string) (*Status, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode status %s: %w", path, err)
	}
	return &s, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
