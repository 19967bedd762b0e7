//go:build !linux

package netfault

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Loss's methods outside Linux: nftables is Linux's, and a Windows version
// belongs to the network engine (issue 3).

// Available implements fault.Availability.
func (Loss) Available(context.Context, *fault.Host) error {
	return errors.New("net.loss needs Linux nftables")
}

// Prepare implements fault.Kind.
func (Loss) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errors.ErrUnsupported
}

// Apply implements fault.Kind.
func (Loss) Apply(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// Verify implements fault.Kind.
func (Loss) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Recover implements fault.Kind.
func (Loss) Recover(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// VerifyRecovered implements fault.Kind.
func (Loss) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Status implements fault.Statuser.
func (Loss) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}
