package policy

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
)

// ApprovalChecker says which approval requirements the approvals on record
// do not yet meet for the targets of req in one environment. The approval
// package implements it; the agent leaves it nil.
type ApprovalChecker interface {
	Missing(ctx context.Context, req Request, env bulwark.Environment, need []Requirement) ([]Requirement, error)
}

// Gate is the one policy gate every path that can change a host calls
// (DESIGN §6.8). Its fields are set before use and not changed after.
type Gate struct {
	// Policies in force; nil means the built-in policies only.
	Policies *Set
	// Calendars by name.
	Calendars map[string]*calendar.Calendar
	// DefaultCalendar is used by policies that name none.
	DefaultCalendar string
	// ChangeGate checks tickets; nil means tickets are required where the
	// policy says so but not verified (noted in the decision).
	ChangeGate ChangeGate
	// Approvals checks approvals on record; nil means every required
	// approval is missing (needs-approval).
	Approvals ApprovalChecker
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Local is the agent's defence in depth: it checks kinds, caps and the
	// calendar only, and leaves approvals and change tickets, which only
	// the server can check, to the server. A local decision is allow or
	// deny, never needs-approval.
	Local bool
}

// group is the targets of one environment and its policy.
type group struct {
	env     bulwark.Environment
	policy  *Policy
	targets []Target
}

// Decide answers allow, deny (with reasons) or needs-approval (with whom).
// Production-class comes from the targets' server-owned environments.
// Every check runs, so a deny lists all its reasons; the change gate and
// the approval store are asked only when nothing else denies.
func (g *Gate) Decide(ctx context.Context, req Request) Decision {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	d := Decision{Action: req.Action, Principal: req.Principal.ID, Kind: req.Kind, Ticket: req.Ticket,
		DrillSHA256: req.DrillSHA256, DecidedAt: now().UTC(), Policies: []string{}}
	start := req.Start
	if start.IsZero() {
		start = d.DecidedAt
	}
	d.Start = start.UTC()
	d.Reasons = append(d.Reasons, checkRequest(req)...)
	groups, reasons := g.groups(req.Targets)
	d.Reasons = append(d.Reasons, reasons...)
	var margin time.Duration
	for _, gr := range groups {
		d.Policies = append(d.Policies, gr.policy.Name())
		d.ProductionClass = d.ProductionClass || gr.env.ProductionClass
		margin = max(margin, gr.policy.File.Spec.RecoveryMargin.Std())
	}
	d.End = d.Start.Add(max(req.Duration, 0) + margin)
	var approvalGroups []group
	for _, gr := range groups {
		sp := gr.policy.File.Spec
		end := d.Start.Add(max(req.Duration, 0) + sp.RecoveryMargin.Std())
		d.Reasons = append(d.Reasons, checkKind(gr, req)...)
		d.Reasons = append(d.Reasons, checkCaps(gr, req)...)
		ev, rs := g.checkCalendar(gr, d.Start, end)
		if ev != nil {
			d.Calendars = append(d.Calendars, *ev)
		}
		d.Reasons = append(d.Reasons, rs...)
		if sp.ChangeTicket && !g.Local && strings.TrimSpace(req.Ticket) == "" {
			d.Reasons = append(d.Reasons, newReason("policy.ticket.missing", "ticket", gr.env.Name))
		}
		if len(requirements(gr)) > 0 {
			approvalGroups = append(approvalGroups, gr)
		}
	}
	if len(d.Reasons) == 0 && !g.Local {
		d.Reasons, d.Notes = g.checkTickets(ctx, req, groups, d.Start)
	}
	if len(d.Reasons) > 0 {
		d.Outcome = Deny
		return d
	}
	if g.Local {
		d.Outcome = Allow
		return d
	}
	missing, notes, err := g.missingApprovals(ctx, req, approvalGroups)
	d.Notes = append(d.Notes, notes...)
	switch {
	case err != nil:
		d.Outcome, d.Reasons = Deny, []Reason{newReason("policy.approval.checkFailed", "", err.Error())}
	case len(missing) > 0:
		d.Outcome, d.Approvers = NeedsApproval, missing
		d.Reasons = []Reason{approvalReason(missing)}
	default:
		d.Outcome = Allow
	}
	return d
}

func checkRequest(req Request) []Reason {
	var out []Reason
	switch {
	case !req.Action.known():
		out = append(out, newReason("policy.request.invalid", "action", "unknown action "+strconv.Quote(string(req.Action))))
	case req.Action.needsKind() && req.Kind == "":
		out = append(out, newReason("policy.request.invalid", "kind", "a fault kind is required for "+string(req.Action)))
	}
	if req.Principal.ID == "" {
		out = append(out, newReason("policy.request.invalid", "principal", "the request has no principal"))
	}
	if req.Action.needsKind() && req.Duration <= 0 {
		out = append(out, newReason("policy.duration.missing", "duration"))
	}
	if len(req.Targets) == 0 {
		out = append(out, newReason("policy.target.none", "targets"))
	}
	return out
}

// groups splits the targets by environment, in order of first appearance.
func (g *Gate) groups(targets []Target) ([]group, []Reason) {
	var out []group
	var reasons []Reason
	idx := map[string]int{}
	for _, t := range targets {
		if t.Environment.Name == "" {
			reasons = append(reasons, newReason("policy.target.noEnvironment", "targets", t.HostID))
			continue
		}
		i, ok := idx[t.Environment.Name]
		if !ok {
			i = len(out)
			idx[t.Environment.Name] = i
			out = append(out, group{env: t.Environment, policy: g.Policies.For(t.Environment)})
		}
		// Production-class if any host says so: never let one host's
		// record downgrade another's.
		out[i].env.ProductionClass = out[i].env.ProductionClass || t.Environment.ProductionClass
		out[i].targets = append(out[i].targets, t)
	}
	for i := range out {
		out[i].policy = g.Policies.For(out[i].env)
	}
	return out, reasons
}

func checkKind(gr group, req Request) []Reason {
	if req.Kind == "" {
		return nil
	}
	ok, rule := gr.policy.File.Spec.Kinds.kindAllowed(req.Kind)
	switch {
	case ok:
		return nil
	case rule != "":
		return []Reason{newReason("policy.kind.denied", "kind", gr.env.Name, gr.policy.Name(), req.Kind, rule)}
	default:
		return []Reason{newReason("policy.kind.notAllowed", "kind", gr.env.Name, gr.policy.Name(), req.Kind)}
	}
}

func checkCaps(gr group, req Request) []Reason {
	c := gr.policy.File.Spec.Caps
	var out []Reason
	hosts := distinctHosts(gr.targets)
	if c.MaxHosts > 0 && len(hosts) > c.MaxHosts {
		out = append(out, newReason("policy.hosts.cap", "targets", gr.env.Name, strconv.Itoa(c.MaxHosts), strconv.Itoa(len(hosts))))
	}
	if c.MaxDuration > 0 && req.Duration > c.MaxDuration.Std() {
		out = append(out, newReason("policy.duration.cap", "duration", req.Duration.String(), gr.env.Name, c.MaxDuration.String()))
	}
	if req.Kind == "" {
		return out
	}
	for _, pc := range c.Params {
		if !globMatch(pc.Kind, req.Kind) {
			continue
		}
		v, ok := req.Params[pc.Param]
		if !ok {
			continue
		}
		q, text, err := valueIn(pc.max.unit, v)
		field := "params." + pc.Param
		switch {
		case err != nil:
			out = append(out, newReason("policy.param.unreadable", field, pc.Param, text, err.Error()))
		case q.v > pc.max.v:
			out = append(out, newReason("policy.param.cap", field, pc.Param, text, gr.env.Name, pc.Max))
		}
	}
	return out
}

// requirements returns the approvals a group needs: Count people holding
// the role on each of its systems. Production-class needs at least one.
func requirements(gr group) []Requirement {
	a := gr.policy.File.Spec.Approvals
	count := a.Count
	if gr.env.ProductionClass {
		count = max(count, 1)
	}
	if count == 0 {
		return nil
	}
	role := a.Role
	if role == "" {
		role = bulwark.RoleApprover
	}
	var out []Requirement
	for _, s := range distinctSystems(gr.targets) {
		out = append(out, Requirement{Role: role, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: s}, Count: count})
	}
	return out
}

func (g *Gate) missingApprovals(ctx context.Context, req Request, groups []group) ([]Requirement, []Reason, error) {
	var missing []Requirement
	var notes []Reason
	for _, gr := range groups {
		need := requirements(gr)
		if g.Approvals == nil {
			missing = append(missing, need...)
			continue
		}
		m, err := g.Approvals.Missing(ctx, req, gr.env, need)
		if err != nil {
			return nil, nil, err
		}
		if len(m) == 0 {
			notes = append(notes, newReason("policy.approval.satisfied", "", gr.env.Name))
		}
		missing = append(missing, m...)
	}
	return missing, notes, nil
}

func approvalReason(missing []Requirement) Reason {
	var systems []string
	count, role := 0, bulwark.RoleApprover
	for _, m := range missing {
		systems = append(systems, m.Scope.Name)
		count, role = max(count, m.Count), m.Role
	}
	return newReason("policy.approval.needed", "", strconv.Itoa(count), strings.Join(systems, ", "), string(role))
}

// checkTickets asks the change gate about the ticket for every group whose
// policy requires one. Unreachable means deny.
func (g *Gate) checkTickets(ctx context.Context, req Request, groups []group, start time.Time) (reasons, notes []Reason) {
	for _, gr := range groups {
		sp := gr.policy.File.Spec
		if !sp.ChangeTicket {
			continue
		}
		if g.ChangeGate == nil {
			notes = append(notes, newReason("policy.ticket.unverified", "ticket", req.Ticket))
			continue
		}
		q := TicketQuery{Ticket: req.Ticket, Hosts: distinctHosts(gr.targets), Systems: distinctSystems(gr.targets),
			Environment: gr.env.Name, Start: start, End: start.Add(req.Duration + sp.RecoveryMargin.Std())}
		a, err := g.ChangeGate.Check(ctx, q)
		if err != nil {
			reasons = append(reasons, newReason("policy.ticket.unreachable", "ticket", req.Ticket, err.Error()))
			continue
		}
		reasons = append(reasons, judgeTicket(q, a)...)
	}
	return reasons, notes
}

func distinctHosts(ts []Target) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.HostID) {
			out = append(out, t.HostID)
		}
	}
	return out
}

func distinctSystems(ts []Target) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.System.Name) {
			out = append(out, t.System.Name)
		}
	}
	slices.Sort(out)
	return out
}
