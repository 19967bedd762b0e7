package agent

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
)

// reconcileLoop applies desired states one at a time, for the agent's whole
// life (a session ending does not interrupt an inject in progress).
func (a *Agent) reconcileLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-a.desired:
			a.Reconcile(ctx, m.d, m.fresh)
		}
	}
}

// Reconcile makes the host hold exactly the desired set: it injects the
// desired faults that the journal has never seen and recovers live faults
// the server asked for that are no longer desired (with Halt, also the
// faults injected locally). A stale epoch is ignored unless fresh (the first
// of a session). It reports afterwards. It returns false when it ignored d.
func (a *Agent) Reconcile(ctx context.Context, d *agentpb.DesiredState, fresh bool) bool {
	a.mu.Lock()
	if d.GetEpoch() < a.epoch && !fresh {
		a.mu.Unlock()
		a.log.Warn("stale desired state ignored", "epoch", d.GetEpoch(), "applied", a.epoch)
		return false
	}
	a.epoch = d.GetEpoch()
	a.env = GateEnv{Name: d.GetEnvironment(), ProductionClass: d.GetProductionClass(), Policy: d.GetPolicy(), Calendar: d.GetCalendar()}
	a.mu.Unlock()
	defer a.wakeReport()

	journal, err := a.m.Faults(ctx, bulwark.FaultFilter{})
	if err != nil {
		a.log.Error("read journal", "err", err)
		return true
	}
	byID := map[string]*bulwark.Fault{}
	for _, f := range journal {
		byID[f.ID] = f
	}
	want := map[string]bool{}
	for _, p := range d.GetFaults() {
		df := agentpb.DesiredFromPB(p)
		want[df.ID] = true
		if _, seen := byID[df.ID]; !seen {
			a.injectDesired(ctx, df)
		}
	}
	a.recoverExtra(ctx, journal, want, d.GetHalt())
	return true
}

// injectDesired injects one desired fault with the server's id, unless it
// expired before it could start or the local gate refuses it.
func (a *Agent) injectDesired(ctx context.Context, d agentstore.DesiredFault) {
	a.mu.Lock()
	if _, done := a.refused[d.ID]; done {
		a.mu.Unlock()
		return
	}
	a.serverIDs[d.ID] = true
	env := a.env
	a.mu.Unlock()
	dur := d.Duration.Std()
	if !d.ExpiresAt.IsZero() {
		dur = min(dur, time.Until(d.ExpiresAt))
	}
	spec := bulwark.FaultSpec{ID: d.ID, Kind: d.Kind, Params: d.Params, Target: d.Target, Duration: bulwark.Duration(dur)}
	if dur <= 0 {
		a.refuse(d, spec, errors.New("expired before it could start"))
		return
	}
	if a.cfg.Gate != nil {
		if err := a.cfg.Gate.Check(ctx, env, spec, time.Now(), time.Now().Add(dur)); err != nil {
			a.refuse(d, spec, err)
			return
		}
	}
	f, err := a.m.Inject(ctx, spec)
	switch {
	case err == nil:
		a.log.Info("fault injected", "id", f.ID, "kind", f.Kind)
	case f == nil: // refused before the journal: remember it so it is reported
		a.refuse(d, spec, err)
	default:
		a.log.Warn("inject failed", "id", d.ID, "kind", d.Kind, "err", err)
	}
}

// refuse records a desired fault that never reached the journal as failed,
// so the server learns why.
func (a *Agent) refuse(d agentstore.DesiredFault, spec bulwark.FaultSpec, cause error) {
	now := time.Now().UTC()
	a.log.Warn("desired fault refused", "id", d.ID, "kind", d.Kind, "err", cause)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refused[d.ID] = &bulwark.Fault{
		ID: d.ID, Kind: d.Kind, Params: d.Params, Target: d.Target, State: bulwark.StateFailed,
		Duration: spec.Duration, CreatedAt: now, EndedAt: &now, EndReason: "refused by agent", Error: cause.Error(),
	}
}

// recoverExtra recovers live faults that are not desired: those the server
// asked for (or any not injected locally), and with halt all of them.
func (a *Agent) recoverExtra(ctx context.Context, journal []*bulwark.Fault, want map[string]bool, halt bool) {
	var ids []string
	a.mu.Lock()
	for _, f := range journal {
		if f.State.Live() && !want[f.ID] && (halt || !a.local[f.ID]) {
			ids = append(ids, f.ID)
		}
	}
	a.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	reason := "no longer desired"
	if halt {
		reason = "halt"
	}
	a.log.Info("recovering", "faults", ids, "reason", reason)
	if _, err := a.m.Recover(ctx, ids...); err != nil {
		a.log.Error("recover", "faults", ids, "err", err)
	}
}

// recentlyEnded is how long an ended fault stays in reports.
const recentlyEnded = 10 * time.Minute

// actual is the state the agent reports: every live fault, faults ended in
// the last ten minutes, and desired faults it refused.
func (a *Agent) actual(ctx context.Context) []*agentpb.FaultStatus {
	faults, err := a.m.Faults(ctx, bulwark.FaultFilter{})
	if err != nil {
		a.log.Error("read journal", "err", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	out := []*agentpb.FaultStatus{}
	seen := map[string]bool{}
	for _, f := range faults {
		if !f.State.Live() && (f.EndedAt == nil || time.Since(*f.EndedAt) > recentlyEnded) {
			continue
		}
		seen[f.ID] = true
		out = append(out, agentpb.FaultToPB(f, a.local[f.ID]))
	}
	for _, id := range sortedKeys(a.refused) {
		if time.Since(*a.refused[id].EndedAt) > recentlyEnded {
			delete(a.refused, id) // its expiresAt has passed: a resend cannot start it
			continue
		}
		if !seen[id] {
			out = append(out, agentpb.FaultToPB(a.refused[id], false))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
