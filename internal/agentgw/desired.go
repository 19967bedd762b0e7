package agentgw

import (
	"context"
	"slices"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// SetDesired replaces the agent's desired fault set and sends it with a new
// epoch. It returns the epoch. A desired fault without ExpiresAt gets now +
// duration + one minute, so an old set can never start a fault late.
func (g *Gateway) SetDesired(_ context.Context, agentID string, faults []agentstore.DesiredFault) (uint64, error) {
	return g.update(agentID, false, func([]agentstore.DesiredFault) ([]agentstore.DesiredFault, error) {
		return slices.Clone(faults), nil
	})
}

// AddFaults adds faults to the agent's desired set (new epoch). An id
// already in the set is ECONFLICT.
func (g *Gateway) AddFaults(_ context.Context, agentID string, faults ...agentstore.DesiredFault) (uint64, error) {
	return g.update(agentID, false, func(cur []agentstore.DesiredFault) ([]agentstore.DesiredFault, error) {
		return append(cur, faults...), nil
	})
}

// RemoveFaults removes faults from the agent's desired set (new epoch), so
// the agent recovers them. Ids not in the set are ignored.
func (g *Gateway) RemoveFaults(_ context.Context, agentID string, ids ...string) (uint64, error) {
	return g.update(agentID, false, func(cur []agentstore.DesiredFault) ([]agentstore.DesiredFault, error) {
		return slices.DeleteFunc(cur, func(d agentstore.DesiredFault) bool { return slices.Contains(ids, d.ID) }), nil
	})
}

func (g *Gateway) update(agentID string, halt bool, fn func([]agentstore.DesiredFault) ([]agentstore.DesiredFault, error)) (uint64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a, ok := g.agents[agentID]
	if !ok {
		return 0, bulwark.Errorf(bulwark.ENOTFOUND, "no agent %s", agentID)
	}
	next, err := fn(slices.Clone(a.rec.Desired))
	if err != nil {
		return 0, err
	}
	if err := g.checkDesired(next); err != nil {
		return 0, err
	}
	g.setLocked(a, next, halt)
	return a.rec.Epoch, nil
}

// setLocked installs a desired set with a new epoch and wakes the session.
func (g *Gateway) setLocked(a *agentState, next []agentstore.DesiredFault, halt bool) {
	a.rec.Desired, a.halt = next, halt
	a.rec.Epoch++
	g.markDirtyLocked(a.rec.ID)
	if a.sess != nil {
		poke(a.sess.wakeDesired)
	}
}

func (g *Gateway) checkDesired(set []agentstore.DesiredFault) error {
	seen := map[string]bool{}
	now := g.cfg.Now().UTC()
	for i := range set {
		d := &set[i]
		switch {
		case !bulwark.ValidID(d.ID):
			return bulwark.Errorf(bulwark.EINVALID, "desired fault %d: id %q is not a bulwark id", i, d.ID)
		case seen[d.ID]:
			return bulwark.Errorf(bulwark.ECONFLICT, "desired fault %s is already in the set", d.ID)
		case d.Kind == "":
			return bulwark.Errorf(bulwark.EINVALID, "desired fault %s: no kind", d.ID)
		case d.Duration <= 0:
			return bulwark.Errorf(bulwark.EINVALID, "desired fault %s: every fault needs a duration above zero", d.ID)
		}
		seen[d.ID] = true
		if d.ExpiresAt.IsZero() {
			d.ExpiresAt = now.Add(d.Duration.Std() + injectSlack)
		}
	}
	return nil
}

// WaitActive waits until every named fault is reported active (or has
// already run its course), and returns them. A fault that failed to inject
// ends the wait with an error naming it and its agent's message; ctx bounds
// the wait.
func (g *Gateway) WaitActive(ctx context.Context, faultIDs ...string) ([]*bulwark.Fault, error) {
	for {
		changed := g.waitChange()
		out, err, done := g.activeNow(faultIDs)
		if done {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, bulwark.Errorf(bulwark.EUNAVAILABLE, "waiting for faults to be active: %v (%d of %d active)", ctx.Err(), len(out), len(faultIDs))
		case <-changed:
		}
	}
}

func (g *Gateway) activeNow(ids []string) ([]*bulwark.Fault, error, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	index := g.faultIndexLocked(ids)
	var out []*bulwark.Fault
	for _, id := range ids {
		f, ok := index[id]
		switch {
		case !ok:
			continue
		case f.State == bulwark.StateFailed || f.State == bulwark.StateStuck:
			return out, bulwark.Errorf(bulwark.ECONFLICT, "fault %s (%s) %s: %s", f.ID, f.Kind, f.State, f.Error), true
		case f.State == bulwark.StateActive || f.State == bulwark.StateRecovered || f.State == bulwark.StateRecovering:
			c := *f
			out = append(out, &c)
		}
	}
	return out, nil, len(out) == len(ids)
}

// faultIndexLocked finds the reported state of each id. It walks the agents
// once, so a wait over many faults costs one pass per change.
func (g *Gateway) faultIndexLocked(ids []string) map[string]*bulwark.Fault {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make(map[string]*bulwark.Fault, len(ids))
	for _, a := range g.agents {
		for id, f := range a.actual {
			if want[id] {
				out[id] = f
			}
		}
	}
	return out
}
