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
	targets := g.haltSend(scope)
	ctx, cancel := context.WithTimeout(ctx, g.cfg.HaltTimeout)
	defer cancel()
	for {
		changed := g.waitChange()
		pending := g.haltPending(targets)
		if pending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return g.haltResult(targets)
		case <-changed:
		}
	}
	return g.haltResult(targets)
}

// haltTarget is an agent being halted: the epoch it must report and what
// it held before.
type haltTarget struct {
	epoch  uint64
	before map[string]bool
}

func (g *Gateway) haltSend(scope func(Agent) bool) map[string]haltTarget {
	g.mu.Lock()
	defer g.mu.Unlock()
	targets := map[string]haltTarget{}
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
		targets[id] = haltTarget{epoch: a.rec.Epoch, before: before}
	}
	return targets
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

func (g *Gateway) haltPending(targets map[string]haltTarget) int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := 0
	for id, t := range targets {
		if a := g.agents[id]; a.sess != nil && !haltDoneLocked(a, t) {
			n++
		}
	}
	return n
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
