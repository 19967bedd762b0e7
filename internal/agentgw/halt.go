package agentgw

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// HaltedAgent is one agent's part in a halt.
type HaltedAgent struct {
	AgentID  string `json:"agent"`
	Hostname string `json:"hostname"`
	// Faults are the faults the agent reported recovered (Recovered), or
	// still live when the wait ended (NotAnswered).
	Faults []*bulwark.Fault `json:"faults"`
	Reason string           `json:"reason,omitempty"`
}

// HaltResult says which agents confirmed the halt and which did not.
type HaltResult struct {
	Recovered   []HaltedAgent `json:"recovered"`
	NotAnswered []HaltedAgent `json:"notAnswered"`
}

// Halt sends every agent in scope an empty desired set with a new epoch
// (which also recovers faults injected locally through agent.sock), then
// waits up to the halt timeout (or ctx) for each to report that nothing is
// live. Agents that are not connected, do not answer in time, or still hold
// live faults are in NotAnswered with the reason; their lease still
// recovers what they hold. Halt acts first and persists after: it does not
// need the store.
func (g *Gateway) Halt(ctx context.Context, scope func(Agent) bool) HaltResult {
	w := g.haltSend(scope)
	ctx, cancel := context.WithTimeout(ctx, g.cfg.HaltTimeout)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-w.done:
	}
	g.mu.Lock()
	delete(g.halts, w)
	g.mu.Unlock()
	return g.haltResult(w.targets)
}

// haltTarget is an agent being halted: the epoch it must report and what
// it held before.
type haltTarget struct {
	epoch  uint64
	before map[string]bool
}

// haltWait is a halt waiting for its agents. The session paths update it
// as each agent's state changes (haltUpdateLocked), so a report costs one
// look-up rather than a pass over every target.
type haltWait struct {
	targets map[string]haltTarget
	// pending are the targets that are connected and have not confirmed;
	// an agent that disconnects leaves it (its lease recovers it), and one
	// that reconnects unconfirmed comes back.
	pending map[string]bool
	done    chan struct{} // closed when pending becomes empty
}

func (g *Gateway) haltSend(scope func(Agent) bool) *haltWait {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := &haltWait{targets: map[string]haltTarget{}, pending: map[string]bool{}, done: make(chan struct{})}
	for id, a := range g.agents {
		if scope != nil && !scope(g.viewLocked(a)) {
			continue
		}
		before := map[string]bool{}
		for fid, f := range a.actual {
			if f.State.Live() {
				before[fid] = true
			}
		}
		g.setLocked(a, nil, true)
		w.targets[id] = haltTarget{epoch: a.rec.Epoch, before: before}
		if a.sess != nil {
			w.pending[id] = true
		}
	}
	if len(w.pending) == 0 {
		close(w.done)
	} else {
		g.halts[w] = struct{}{}
	}
	return w
}

// haltUpdateLocked re-checks agent id in every halt waiting for it, after
// its session, applied epoch or actual state changed. g.mu must be held for
// writing.
func (g *Gateway) haltUpdateLocked(id string, a *agentState) {
	for w := range g.halts {
		t, ok := w.targets[id]
		switch {
		case !ok:
		case a.sess != nil && !haltDoneLocked(a, t):
			w.pending[id] = true
		default:
			delete(w.pending, id)
			if len(w.pending) == 0 {
				close(w.done)
				delete(g.halts, w)
			}
		}
	}
}

// haltDoneLocked reports whether the agent has applied the halt epoch and
// holds nothing live.
func haltDoneLocked(a *agentState, t haltTarget) bool {
	if a.sess == nil || a.applied < t.epoch {
		return false
	}
	for _, f := range a.actual {
		if f.State.Live() {
			return false
		}
	}
	return true
}

func (g *Gateway) haltResult(targets map[string]haltTarget) HaltResult {
	g.mu.RLock()
	defer g.mu.RUnlock()
	res := HaltResult{Recovered: []HaltedAgent{}, NotAnswered: []HaltedAgent{}}
	for _, id := range slices.Sorted(maps.Keys(targets)) {
		a, t := g.agents[id], targets[id]
		h := HaltedAgent{AgentID: id, Hostname: a.rec.Hostname, Faults: []*bulwark.Fault{}}
		if haltDoneLocked(a, t) {
			for _, fid := range slices.Sorted(maps.Keys(t.before)) {
				if f, ok := a.actual[fid]; ok {
					c := *f
					h.Faults = append(h.Faults, &c)
				}
			}
			res.Recovered = append(res.Recovered, h)
			continue
		}
		h.Reason = haltReasonLocked(a, t, g.cfg.Lease)
		for _, f := range a.actual {
			if f.State.Live() {
				c := *f
				h.Faults = append(h.Faults, &c)
			}
		}
		res.NotAnswered = append(res.NotAnswered, h)
	}
	return res
}

func haltReasonLocked(a *agentState, t haltTarget, lease time.Duration) string {
	switch {
	case a.sess == nil:
		return fmt.Sprintf("not connected; its lease (%s) recovers what it holds", lease)
	case a.applied < t.epoch:
		return fmt.Sprintf("did not confirm epoch %d in time", t.epoch)
	}
	return "confirmed, but faults are still live (recovery failing or stuck)"
}
