package server

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark/internal/policy"
)

// PolicyGate adapts internal/policy's Gate to the server's Gate.
type PolicyGate struct{ Gate *policy.Gate }

// Decide implements Gate.
func (g PolicyGate) Decide(ctx context.Context, req GateRequest) (GateDecision, error) {
	preq := policy.Request{Principal: req.Principal, Action: policy.Action(req.Action), Kind: req.Kind,
		Start: req.Start, Duration: req.Duration, Ticket: req.Ticket, DrillSHA256: req.DrillSHA256}
	if len(req.Params) > 0 {
		preq.Params = make(map[string]any, len(req.Params))
		for k, v := range req.Params {
			preq.Params[k] = v
		}
	}
	for _, t := range req.Targets {
		id := t.HostID
		if id == "" {
			id = t.Hostname
		}
		preq.Targets = append(preq.Targets, policy.Target{HostID: id, Environment: t.Environment, System: t.System})
	}
	d := g.Gate.Decide(ctx, preq)
	out := GateDecision{Outcome: string(d.Outcome), Record: d}
	for _, r := range d.Reasons {
		out.Reasons = append(out.Reasons, r.Message)
	}
	for _, a := range d.Approvers {
		who := fmt.Sprintf("%d × %s", a.Count, a.Role)
		if a.Scope.Name != "" {
			who += " of " + string(a.Scope.Kind) + " " + a.Scope.Name
		}
		out.Approvers = append(out.Approvers, who)
	}
	return out, nil
}
