package agent

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// leaseTick is how often the lease and the journal's deadlines are checked.
const leaseTick = 100 * time.Millisecond

// leaseLoop recovers the server's faults when the lease lapses and sweeps
// faults whose own deadline has come, reporting after either.
func (a *Agent) leaseLoop(ctx context.Context) {
	t := time.NewTicker(leaseTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if a.leaseLapsed() {
			a.recoverServerFaults(ctx)
		}
		if wait, live := a.m.NextDeadline(); live && wait == 0 {
			if out, err := a.m.Sweep(ctx); err != nil || len(out) > 0 {
				a.wakeReport()
			}
		}
	}
}

// leaseLapsed reports, once per lapse, that no renewal came for the lease.
func (a *Agent) leaseLapsed() bool {
	if a.monoNow()-a.renewed.Load() <= a.leaseNs.Load() {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lapsed {
		return false
	}
	a.lapsed = true
	return true
}

// recoverServerFaults recovers every live fault not injected locally: the
// server asked for them and no longer vouches for them.
func (a *Agent) recoverServerFaults(ctx context.Context) {
	faults, err := a.m.Faults(ctx, bulwark.FaultFilter{Live: true})
	if err != nil {
		a.log.Error("read journal", "err", err)
		return
	}
	var ids []string
	a.mu.Lock()
	for _, f := range faults {
		if !a.local[f.ID] {
			ids = append(ids, f.ID)
		}
	}
	a.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	a.log.Warn("lease lapsed: recovering the server's faults", "faults", ids, "lease", time.Duration(a.leaseNs.Load()))
	if _, err := a.m.Recover(ctx, ids...); err != nil {
		a.log.Error("recover after lease lapse", "err", err)
	}
	a.wakeReport()
}
