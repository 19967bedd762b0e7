//go:build !linux

package fault

import (
	"errors"
	"syscall"
)

// ErrGone reports that a process has exited or its pid now names another one.
var ErrGone = errors.New("process is gone")

// Signal is not supported on this platform.
func (h *Host) Signal(p Proc, sig syscall.Signal) error {
	return errors.ErrUnsupported
}
