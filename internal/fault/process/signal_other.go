//go:build !linux

package process

import (
	"context"
	"errors"
	"syscall"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The signal numbers are never sent here: fault.Host.Signal is unsupported
// off Linux and Available refuses first.
const (
	stopSignal = syscall.Signal(19)
	contSignal = syscall.Signal(18)
)

// errNoHang is why process.hang is unavailable off Linux.
var errNoHang = errors.New("process.hang is Linux-only for now: on Windows it needs NtSuspendProcess/NtResumeProcess (a nesting suspend count) with the process creation time checked before each call, which is not built yet")

// Available implements fault.Availability.
func (Hang) Available(ctx context.Context, h *fault.Host) error { return errNoHang }
