//go:build !linux

package mem

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// errUnsupported says why the memory kinds do not run here.
var errUnsupported = fmt.Errorf("memory kinds are not implemented on %s (they need /proc, mmap and start-time-checked signals): %w", runtime.GOOS, errors.ErrUnsupported)

// Available implements fault.Availability.
func (FillKind) Available(context.Context, *fault.Host) error { return errUnsupported }

// Prepare implements fault.Kind.
func (FillKind) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errUnsupported
}

// Apply implements fault.Kind.
func (FillKind) Apply(context.Context, *fault.Host, *fault.Receipt) error { return errUnsupported }

// Verify implements fault.Kind.
func (FillKind) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Recover implements fault.Kind; nothing was started here.
func (FillKind) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// VerifyRecovered implements fault.Kind.
func (FillKind) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("helper gone", true, "memory kinds never start a helper on %s", runtime.GOOS)}, nil
}

var (
	_ fault.Kind         = FillKind{}
	_ fault.Availability = FillKind{}
)

// Available implements fault.Availability.
func (PressureKind) Available(context.Context, *fault.Host) error { return errUnsupported }

// Prepare implements fault.Kind.
func (PressureKind) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errUnsupported
}

// Apply implements fault.Kind.
func (PressureKind) Apply(context.Context, *fault.Host, *fault.Receipt) error { return errUnsupported }

// Verify implements fault.Kind.
func (PressureKind) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Recover implements fault.Kind; nothing was started here.
func (PressureKind) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// VerifyRecovered implements fault.Kind.
func (PressureKind) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("helper gone", true, "memory kinds never start a helper on %s", runtime.GOOS)}, nil
}
