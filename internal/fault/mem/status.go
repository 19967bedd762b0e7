package mem

import (
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Status is what the helper writes to its status file once a second.
type Status struct {
	Time     time.Time `json:"time"`
	Fault    string    `json:"fault"`
	PID      int       `json:"pid"`
	State    string    `json:"state"` // running, exited
	Reason   string    `json:"reason,omitempty"`
	Target   int64     `json:"target"`   // bytes requested
	Touched  int64     `json:"touched"`  // bytes written so far
	Resident int64     `json:"resident"` // bytes of the region resident (mincore)
	VmRSS    int64     `json:"vmRSS"`    // the whole helper's resident size
	Addr     uint64    `json:"addr"`     // start of the filled mapping
	Size     int64     `json:"size"`     // its length (the target rounded up to a page)
	// Capped is set while the helper holds back because MemAvailable would
	// fall below the reserve.
	Capped    bool      `json:"capped,omitempty"`
	Available int64     `json:"available"`
	Deadline  time.Time `json:"deadline"`
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
