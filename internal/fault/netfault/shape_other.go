//go:build !linux

package netfault

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The shaping kinds outside Linux: their qdiscs and nftables are Linux's.

// Available implements fault.Availability.
func (k shapeKind) Available(context.Context, *fault.Host) error {
	return errors.New(k.info.ID + " needs Linux traffic control and nftables")
}

// Prepare implements fault.Kind.
func (shapeKind) Prepare(context.Context, *fault.Host, fault.Request) (*fault.Receipt, error) {
	return nil, errors.ErrUnsupported
}

// Apply implements fault.Kind.
func (shapeKind) Apply(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// Verify implements fault.Kind.
func (shapeKind) Verify(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Recover implements fault.Kind.
func (shapeKind) Recover(context.Context, *fault.Host, *fault.Receipt) error {
	return errors.ErrUnsupported
}

// VerifyRecovered implements fault.Kind.
func (shapeKind) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// Status implements fault.Statuser.
func (shapeKind) Status(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, errors.ErrUnsupported
}

// setClassify has nothing to set where the kinds do not run.
func (d *shapeV1) setClassify() {}
