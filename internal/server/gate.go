package server

import (
	"context"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Gate is the one policy gate (DESIGN §6.8). Every path that can change a
// host asks it through (*Server).decide.
type Gate interface {
	Decide(ctx context.Context, req GateRequest) (GateDecision, error)
}

// Gate actions: the paths that can change a host.
const (
	ActionFaultInject = "fault.inject"
	ActionRunStart    = "run.start"
	ActionRunResume   = "run.resume"
	ActionRunStep     = "run.step"
)

// GateRequest is what the gate decides on. Environments and systems come
// from the inventory (server-owned), never from the request.
type GateRequest struct {
	Principal   bulwark.Principal
	Action      string
	Targets     []GateTarget
	Kind        string
	Params      map[string]string
	Start       time.Time
	Duration    time.Duration
	Ticket      string
	DrillSHA256 string
}

// GateTarget is one resolved host.
type GateTarget struct {
	HostID      string // "" for an agent whose host is not in the inventory
	Hostname    string
	Unit        string
	Environment bulwark.Environment
	System      bulwark.System
}

// Outcomes of a decision.
const (
	OutcomeAllow         = "allow"
	OutcomeDeny          = "deny"
	OutcomeNeedsApproval = "needs-approval"
)

// GateDecision is the gate's answer. Record is its stable JSON form for the
// audit log.
type GateDecision struct {
	Outcome   string   `json:"outcome"`
	Reasons   []string `json:"reasons,omitempty"`
	Approvers []string `json:"approvers,omitempty"`
	Record    any      `json:"-"`
}

// decide asks the gate, audits the decision with its reason, and turns a
// deny into EFORBIDDEN and a needs-approval into ECONFLICT naming whom. With
// no gate configured every request is denied: fail closed.
func (s *Server) decide(ctx context.Context, req GateRequest, resource string) error {
	d, err := s.decideRaw(ctx, req, resource)
	if err != nil {
		return err
	}
	switch d.Outcome {
	case OutcomeAllow:
		return nil
	case OutcomeNeedsApproval:
		return bulwark.Errorf(bulwark.ECONFLICT, "needs approval by %s: %s", strings.Join(d.Approvers, ", "), strings.Join(d.Reasons, "; "))
	default:
		return bulwark.Errorf(bulwark.EFORBIDDEN, "policy: %s", strings.Join(d.Reasons, "; "))
	}
}

// decideRaw asks the gate and audits its decision, and returns it as is.
func (s *Server) decideRaw(ctx context.Context, req GateRequest, resource string) (GateDecision, error) {
	if req.Start.IsZero() {
		req.Start = s.Now()
	}
	var d GateDecision
	var err error
	if s.Gate == nil {
		d = GateDecision{Outcome: OutcomeDeny, Reasons: []string{"no policy gate is configured"}}
	} else if d, err = s.Gate.Decide(ctx, req); err != nil {
		d = GateDecision{Outcome: OutcomeDeny, Reasons: []string{"policy gate failed: " + err.Error()}}
	}
	s.metrics.decisions.WithLabelValues(req.Action, d.Outcome).Inc()
	record := d.Record
	if record == nil {
		record = d
	}
	status := "ok"
	if d.Outcome != OutcomeAllow {
		status = "denied"
	}
	s.record(ctx, req.Principal, "policy.decision", resource,
		map[string]any{"action": req.Action, "kind": req.Kind, "params": req.Params, "ticket": req.Ticket, "decision": record},
		status, strings.Join(d.Reasons, "; "))
	return d, nil
}

// gateResume asks the gate whether work may resume in scope, over the
// agents in that scope (their server-owned environments and systems). With
// no agent in scope nothing can change on resume, and the gate is not asked.
func (s *Server) gateResume(ctx context.Context, p bulwark.Principal, scope HaltScope, ticket string) error {
	if s.Fleet == nil {
		return nil
	}
	agents, err := s.Fleet.Agents(ctx)
	if err != nil {
		return err
	}
	req := GateRequest{Principal: p, Action: ActionRunResume, Ticket: ticket}
	for _, a := range agents {
		t, err := s.target(ctx, a)
		if err != nil {
			continue // an agent with no environment is not faultable at all
		}
		if scope.Covers(t.System.Name, t.Environment.Name) {
			req.Targets = append(req.Targets, t)
		}
	}
	if len(req.Targets) == 0 {
		return nil
	}
	d, err := s.decideRaw(ctx, req, "halt/"+scope.String())
	switch {
	case err != nil:
		return err
	case d.Outcome == OutcomeAllow:
		return nil
	case d.Outcome == OutcomeNeedsApproval && s.approverOfAll(ctx, p, req.Targets):
		// A resume has no drill file for an approval to bind; the person
		// resuming must then be an approver of everything in scope.
		return nil
	case d.Outcome == OutcomeNeedsApproval:
		return bulwark.Errorf(bulwark.EFORBIDDEN, "resume: a person holding approver on every system in scope must resume it (%s)", strings.Join(d.Approvers, ", "))
	}
	return bulwark.Errorf(bulwark.EFORBIDDEN, "policy: %s", strings.Join(d.Reasons, "; "))
}

// approverOfAll reports whether p is a person holding approver on every
// target's system and environment.
func (s *Server) approverOfAll(ctx context.Context, p bulwark.Principal, targets []GateTarget) bool {
	if !p.IsPerson() {
		return false
	}
	for _, t := range targets {
		res := bulwark.Resource{System: t.System.Name, Team: t.System.OwnerTeam, Environment: t.Environment.Name}
		if s.Auth.Allowed(ctx, p, bulwark.RoleApprover, res) != nil {
			return false
		}
	}
	return true
}
