//go:build !linux

package process

import (
	"context"
	"errors"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// errNoService is why service.stop is unavailable off Linux.
var errNoService = errors.New("service.stop is Linux-only for now: on Windows it needs the service control manager (golang.org/x/sys/windows/svc/mgr: Control(svc.Stop), then Start on recovery, with the deny-list of csrss, lsass, wininit, smss and services), which is not built yet")

// Available implements fault.Availability.
func (Service) Available(ctx context.Context, h *fault.Host) error { return errNoService }

func connectUnits(ctx context.Context) (unitManager, error) { return nil, errNoService }
