//go:build !linux

package netfault

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Partition's methods outside Linux: nftables is Linux's, and the Windows
// firewall version belongs to the network engine (issue 3).

// Available implements fault.Availability.
func (Partition) Available(context.Context, *fault.Host) error {
	return errors.New("net.partition needs Linux nftables")
}

// Prepare implements fault.Kind.
func (Partition) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errors.ErrUnsupported
}

// Apply implements fault.Kind.
func (Partition) Apply(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// Verify implements fault.Kind.
func (Partition) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Recover implements fault.Kind.
func (Partition) Recover(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// VerifyRecovered implements fault.Kind.
func (Partition) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Status implements fault.Statuser.
func (Partition) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}
