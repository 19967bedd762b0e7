//go:build !linux

package netfault

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// NTPBlock's methods outside Linux: nftables is Linux's.

// Available implements fault.Availability.
func (NTPBlock) Available(context.Context, *fault.Host) error {
	return errors.New("ntp.block needs Linux nftables")
}

// Prepare implements fault.Kind.
func (NTPBlock) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errors.ErrUnsupported
}

// Apply implements fault.Kind.
func (NTPBlock) Apply(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// Verify implements fault.Kind.
func (NTPBlock) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Recover implements fault.Kind.
func (NTPBlock) Recover(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// VerifyRecovered implements fault.Kind.
func (NTPBlock) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Status implements fault.Statuser.
func (NTPBlock) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}
