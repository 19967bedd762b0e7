package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

const (
	stopSignal = unix.SIGSTOP
	contSignal = unix.SIGCONT
)

// Available implements fault.Availability: the kind needs a readable proc
// file system to identify processes.
func (Hang) Available(ctx context.Context, h *fault.Host) error { return procAvailable(h) }

// Available implements fault.Availability: the kind needs a readable proc
// file system to identify processes.
func (Kill) Available(ctx context.Context, h *fault.Host) error { return procAvailable(h) }

// procAvailable checks that the proc file system can be read.
func procAvailable(h *fault.Host) error {
	if _, err := os.Stat(filepath.Join(h.ProcRoot, "self", "stat")); err != nil {
		return fmt.Errorf("read %s: %w", h.ProcRoot, err)
	}
	return nil
}

// signalNum returns the signal called name ("SIGTERM").
func signalNum(name string) (syscall.Signal, bool) {
	s := unix.SignalNum(name)
	return s, s != 0
}

// signalName returns the name of a signal ("SIGTERM"), or "" for an unknown one.
func signalName(s syscall.Signal) string { return unix.SignalName(s) }
