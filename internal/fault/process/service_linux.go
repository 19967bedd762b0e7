package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// systemdRunDir exists when systemd is PID 1 (the check sd_booted(3) makes).
const systemdRunDir = "/run/systemd/system"

// Available implements fault.Availability: service.stop needs systemd as
// PID 1, reached over the system bus.
func (Service) Available(ctx context.Context, h *fault.Host) error {
	comm, err := os.ReadFile(filepath.Join(h.ProcRoot, "1", "comm"))
	if err != nil {
		return fmt.Errorf("service.stop needs systemd as PID 1: read PID 1's name: %w", err)
	}
	name := strings.TrimSpace(string(comm))
	if st, err := os.Stat(systemdRunDir); name != "systemd" || err != nil || !st.IsDir() {
		return fmt.Errorf("service.stop needs systemd as PID 1, and PID 1 here is %q (no %s)", name, systemdRunDir)
	}
	return nil
}

// dbusUnits is unitManager over systemd's D-Bus API.
//
// It has not been run on the machines this was written on (PID 1 is not
// systemd there); the logic above it is tested against a fake.
type dbusUnits struct{ c *sd.Conn }

func connectUnits(ctx context.Context) (unitManager, error) {
	c, err := sd.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over d-bus: %w", err)
	}
	return dbusUnits{c}, nil
}

func (d dbusUnits) Close() { d.c.Close() }

// State reads the unit's and the service's properties.
func (d dbusUnits) State(ctx context.Context, unit string) (unitState, error) {
	u, err := d.c.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		return unitState{}, err
	}
	st := unitState{
		LoadState:         str(u["LoadState"]),
		ActiveState:       str(u["ActiveState"]),
		SubState:          str(u["SubState"]),
		CanStart:          boolean(u["CanStart"]),
		CanStop:           boolean(u["CanStop"]),
		RefuseManualStart: boolean(u["RefuseManualStart"]),
		RefuseManualStop:  boolean(u["RefuseManualStop"]),
	}
	if cg, err := d.c.GetServicePropertyContext(ctx, unit, "ControlGroup"); err == nil {
		st.ControlGroup, _ = cg.Value.Value().(string)
	}
	return st, nil
}

// Stop runs a stop job and waits for its result.
func (d dbusUnits) Stop(ctx context.Context, unit string) (string, error) {
	return runJob(ctx, func(ch chan<- string) (int, error) { return d.c.StopUnitContext(ctx, unit, "replace", ch) })
}

// Start runs a start job and waits for its result.
func (d dbusUnits) Start(ctx context.Context, unit string) (string, error) {
	return runJob(ctx, func(ch chan<- string) (int, error) { return d.c.StartUnitContext(ctx, unit, "replace", ch) })
}

func runJob(ctx context.Context, start func(chan<- string) (int, error)) (string, error) {
	ch := make(chan string, 1)
	if _, err := start(ch); err != nil {
		return "", err
	}
	select {
	case res := <-ch:
		return res, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func str(v any) string { s, _ := v.(string); return s }

func boolean(v any) bool { b, _ := v.(bool); return b }
