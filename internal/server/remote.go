package server

import (
	"context"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/engine"
)

// remoteExecutor runs a drill's faults on agents through the fleet, for a
// run the server executes. Every step's fault passes the policy gate again
// (action run.step): the calendar and the change ticket are checked before
// each step, not only at the start.
type remoteExecutor struct {
	s      *Server
	run    *pendingRun
	mu     sync.Mutex
	agents map[string]FleetAgent // by hostname
	// all includes disconnected agents (for finishing runs after a
	// restart: their desired sets still change, and their leases recover
	// what they hold).
	all bool
}

// Hosts implements engine.Executor: every known agent, by hostname, with
// its labels (server-owned reserved labels included).
func (e *remoteExecutor) Hosts(ctx context.Context) ([]engine.Host, error) {
	agents, err := e.s.Fleet.Agents(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.agents = map[string]FleetAgent{}
	var out []engine.Host
	for _, a := range agents {
		if !a.Connected() && !e.all {
			continue
		}
		e.agents[a.Hostname] = a
		out = append(out, engine.Host{Name: a.Hostname, Labels: a.Labels})
	}
	return out, nil
}

func (e *remoteExecutor) agent(host engine.Host) (FleetAgent, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, ok := e.agents[host.Name]
	if !ok {
		return FleetAgent{}, bulwark.Errorf(bulwark.ENOTFOUND, "no connected agent on host %s", host.Name)
	}
	return a, nil
}

// Inject implements engine.Executor.
func (e *remoteExecutor) Inject(ctx context.Context, host engine.Host, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	a, err := e.agent(host)
	if err != nil {
		return nil, err
	}
	t, err := e.s.target(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := e.s.blocked(t.System.Name, t.Environment.Name); err != nil {
		return nil, err
	}
	req := GateRequest{Principal: e.run.Submitter, Action: ActionRunStep, Targets: []GateTarget{t}, Kind: spec.Kind,
		Params: spec.Params, Duration: time.Duration(spec.Duration), Ticket: e.run.Ticket, DrillSHA256: e.run.SHA256}
	if err := e.s.decide(ctx, req, "run/"+e.run.ID); err != nil {
		return nil, err
	}
	d := e.s.desired(spec)
	reps, err := e.s.Fleet.AddFaults(ctx, a.ID, []DesiredFault{d})
	if err != nil {
		return nil, err
	}
	if len(reps) != 1 || reps[0].Fault == nil {
		return nil, bulwark.Errorf(bulwark.EINTERNAL, "agent %s reported no fault %s", a.Hostname, d.ID)
	}
	return reps[0].Fault, nil
}

// Recover implements engine.Executor.
func (e *remoteExecutor) Recover(ctx context.Context, host engine.Host, id string) (*bulwark.Fault, error) {
	a, err := e.agent(host)
	if err != nil {
		return nil, err
	}
	reps, err := e.s.Fleet.RemoveFaults(ctx, a.ID, []string{id})
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		if r.ID == id && r.Fault != nil {
			return r.Fault, nil
		}
	}
	now := e.s.Now().UTC()
	return &bulwark.Fault{ID: id, State: bulwark.StateRecovered, EndedAt: &now}, nil
}
