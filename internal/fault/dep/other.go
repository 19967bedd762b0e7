//go:build !linux

package dep

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// errUnsupported says why the dep.* kinds do not run here: transparent mode
// needs nftables; explicit mode (`bulwark proxy`) works on every platform.
var errUnsupported = fmt.Errorf("transparent dep.* faults need Linux nftables, not %s; use explicit mode, `bulwark proxy`: %w", runtime.GOOS, errors.ErrUnsupported)

func prepareHost(context.Context, *fault.Host, *receiptV1) error { return errUnsupported }

// Available implements fault.Availability.
func (transparent) Available(context.Context, *fault.Host) error { return errUnsupported }

// Apply implements fault.Kind.
func (transparent) Apply(context.Context, *fault.Host, *fault.Receipt) error { return errUnsupported }

// Verify implements fault.Kind.
func (transparent) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Status implements fault.Statuser.
func (transparent) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errUnsupported
}

// Recover implements fault.Kind. Apply never changes anything here.
func (transparent) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// VerifyRecovered implements fault.Kind.
func (transparent) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("nftables", true, "dep.* faults change nothing on %s", runtime.GOOS)}, nil
}

var (
	_ fault.Availability = Slow{}
	_ fault.Statuser     = Slow{}
)
