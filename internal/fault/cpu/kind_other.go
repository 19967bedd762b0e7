//go:build !linux

package cpu

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// errUnsupported says why cpu.load does not run here yet: the helper needs a
// process identity that survives pid reuse and a checked signal (fault.Proc,
// Host.Signal), a way to find strays by command line, and a thread CPU clock
// and affinity, none of which exist for this platform yet.
var errUnsupported = fmt.Errorf("cpu.load is not implemented on %s yet (the helper needs start-time-checked process signalling and stray detection, which Bulwark has only on linux): %w", runtime.GOOS, errors.ErrUnsupported)

// Available implements fault.Availability.
func (Kind) Available(context.Context, *fault.Host) error { return errUnsupported }

// Apply implements fault.Kind.
func (Kind) Apply(context.Context, *fault.Host, *fault.Receipt) error { return errUnsupported }

// Verify implements fault.Kind.
func (Kind) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Status implements fault.Statuser.
func (Kind) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Recover implements fault.Kind. Apply never starts anything here, so there
// is nothing to undo.
func (Kind) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// VerifyRecovered implements fault.Kind.
func (Kind) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("helper gone", true, "cpu.load never starts a helper on %s", runtime.GOOS)}, nil
}

// usableCPUs is how many CPUs this host has.
func usableCPUs() (int, error) { return runtime.NumCPU(), nil }
