package guard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// ErrNoSystemd reports that PID 1 is not systemd, so there is no timer
// owned by PID 1 to arm; the guard process is then the only watcher.
var ErrNoSystemd = errors.New("PID 1 is not systemd")

// SystemdBooted reports whether the host runs systemd as PID 1 (the check
// sd_booted(3) makes).
func SystemdBooted() bool {
	st, err := os.Lstat("/run/systemd/system")
	return err == nil && st.IsDir()
}

// ArmTimer asks PID 1 (systemd, over D-Bus) for a transient timer that runs
// `exe fault sweep --state-dir DIR` at the fault's deadline plus a margin.
// The timer and its service are owned by PID 1, so the sweep happens even if
// every bulwark process is killed with SIGKILL. The timer is named after the
// fault and removes itself once elapsed.
//
// It is not exercised on the machines this was written on (PID 1 is not
// systemd there); the properties follow systemd-run --on-active.
func ArmTimer(ctx context.Context, exe, stateDir, faultID string, after time.Duration) error {
	if !SystemdBooted() {
		return ErrNoSystemd
	}
	conn, err := sd.NewSystemConnectionContext(ctx)
	if err != nil {
		return fmt.Errorf("connect to systemd: %w", err)
	}
	defer conn.Close()
	name := "bulwark-sweep-" + strings.ReplaceAll(faultID, "-", "")
	usec := uint64((after + 2*time.Second) / time.Microsecond)
	timer := []sd.Property{
		sd.PropDescription("bulwark: sweep fault " + faultID + " at its expiry"),
		{Name: "TimersMonotonic", Value: dbus.MakeVariant([]monotonicTimer{{"OnActiveUSec", usec}})},
		{Name: "RemainAfterElapse", Value: dbus.MakeVariant(false)},
	}
	service := sd.PropertyCollection{Name: name + ".service", Properties: []sd.Property{
		sd.PropDescription("bulwark: sweep expired faults in " + stateDir),
		sd.PropExecStart([]string{exe, "fault", "sweep", "--state-dir", stateDir}, false),
		sd.PropType("oneshot"),
	}}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitAux(ctx, name+".timer", "replace", timer, []sd.PropertyCollection{service}, done); err != nil {
		return fmt.Errorf("start transient timer %s: %w", name, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return fmt.Errorf("start transient timer %s: %s", name, res)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// monotonicTimer is one (base, usec) pair of the TimersMonotonic property,
// D-Bus signature a(st).
type monotonicTimer struct {
	Base string
	USec uint64
}
