package server

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// GatewayFleet adapts the agent gateway to the server's Fleet.
type GatewayFleet struct{ G *agentgw.Gateway }

var _ Fleet = GatewayFleet{}

func fleetAgent(a agentgw.Agent) FleetAgent {
	return FleetAgent{ID: a.ID, Hostname: a.Hostname, Labels: a.Labels, Status: a.Status}
}

// Agents implements Fleet.
func (f GatewayFleet) Agents(context.Context) ([]FleetAgent, error) {
	var out []FleetAgent
	for _, a := range f.G.Agents(agentgw.AgentFilter{}) {
		out = append(out, fleetAgent(a))
	}
	return out, nil
}

// Select implements Fleet.
func (f GatewayFleet) Select(_ context.Context, sel bulwark.Selector) ([]FleetAgent, error) {
	agents, err := f.G.Select(sel)
	if err != nil {
		return nil, err
	}
	out := make([]FleetAgent, 0, len(agents))
	for _, a := range agents {
		out = append(out, fleetAgent(a))
	}
	return out, nil
}

// AddFaults implements Fleet: it adds the faults to the agent's desired set
// and waits until the agent reports them active, or one failed.
func (f GatewayFleet) AddFaults(ctx context.Context, agentID string, faults []DesiredFault) ([]FaultReport, error) {
	dfs := make([]agentstore.DesiredFault, 0, len(faults))
	ids := make([]string, 0, len(faults))
	for _, d := range faults {
		dfs = append(dfs, agentstore.DesiredFault{ID: d.ID, Kind: d.Kind, Params: d.Params, Target: d.Target,
			Duration: bulwark.Duration(d.Duration), ExpiresAt: d.ExpiresAt})
		ids = append(ids, d.ID)
	}
	if _, err := f.G.AddFaults(ctx, agentID, dfs...); err != nil {
		return nil, err
	}
	active, err := f.G.WaitActive(ctx, ids...)
	if err != nil {
		// Whatever did not become active must not linger in the desired
		// set for the agent to retry behind the caller's back.
		_, _ = f.G.RemoveFaults(context.WithoutCancel(ctx), agentID, ids...)
		return nil, err
	}
	out := make([]FaultReport, 0, len(active))
	for _, a := range active {
		out = append(out, FaultReport{ID: a.ID, AgentID: agentID, State: a.State, Fault: a})
	}
	return out, nil
}

// Halt implements Fleet. The gateway's own halt timeout bounds the wait;
// timeout further bounds it through ctx.
func (f GatewayFleet) Halt(ctx context.Context, match func(FleetAgent) bool, timeout time.Duration) (HaltReport, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := f.G.Halt(ctx, func(a agentgw.Agent) bool { return match(fleetAgent(a)) })
	rep := HaltReport{Recovered: []FaultReport{}, NotAnswered: []string{}, Agents: len(res.Recovered) + len(res.NotAnswered)}
	for _, a := range res.Recovered {
		for _, fl := range a.Faults {
			rep.Recovered = append(rep.Recovered, FaultReport{ID: fl.ID, AgentID: a.AgentID, State: fl.State, Fault: fl})
		}
	}
	for _, a := range res.NotAnswered {
		who := a.Hostname + " (" + a.AgentID + ")"
		if a.Reason != "" {
			who += ": " + a.Reason
		}
		rep.NotAnswered = append(rep.NotAnswered, who)
	}
	return rep, nil
}

// RemoveFaults implements Fleet: it drops the faults from the agent's
// desired set and polls the agent's reports until none of them is live.
func (f GatewayFleet) RemoveFaults(ctx context.Context, agentID string, ids []string) ([]FaultReport, error) {
	if _, err := f.G.RemoveFaults(ctx, agentID, ids...); err != nil {
		return nil, err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		a, err := f.G.Agent(agentID)
		if err != nil {
			return nil, err
		}
		out, live := recoveredReports(a, ids)
		if !live {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, bulwark.Errorf(bulwark.EUNAVAILABLE, "agent %s (%s) did not report faults %v recovered: %v; its lease recovers them", a.Hostname, agentID, ids, ctx.Err())
		case <-tick.C:
		}
	}
}

// recoveredReports returns the agent's reports for ids and whether any of
// them is still live.
func recoveredReports(a agentgw.Agent, ids []string) ([]FaultReport, bool) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []FaultReport
	live := false
	for _, fl := range a.Faults {
		if !want[fl.ID] {
			continue
		}
		switch fl.State {
		case bulwark.StateRecovered, bulwark.StateFailed:
			out = append(out, FaultReport{ID: fl.ID, AgentID: a.ID, State: fl.State, Fault: fl})
		default:
			live = true
		}
	}
	return out, live
}
