//go:build !linux

package netfault

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// PortOccupy's methods outside Linux: not built yet.

// Available implements fault.Availability.
func (PortOccupy) Available(context.Context, *fault.Host) error {
	return errors.New("net.port-occupy is built for Linux only so far")
}

// Prepare implements fault.Kind.
func (PortOccupy) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errors.ErrUnsupported
}

// Apply implements fault.Kind.
func (PortOccupy) Apply(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// Verify implements fault.Kind.
func (PortOccupy) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Recover implements fault.Kind.
func (PortOccupy) Recover(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// VerifyRecovered implements fault.Kind.
func (PortOccupy) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Status implements fault.Statuser.
func (PortOccupy) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}
