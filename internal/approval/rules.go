package approval

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

// Request is what approvals are checked against: the run's binding, who
// submitted it, the systems it selects and how many approvers it needs.
type Request struct {
	DrillSHA256 string
	Environment string
	Ticket      string
	Submitter   bulwark.Principal
	Systems     []bulwark.System
	Count       int          // distinct approvers needed; at least 1
	Role        bulwark.Role // default approver
	At          time.Time    // the run's start
	// Until is the run's planned end; an approval must be valid over the
	// whole of [At, Until]. Zero means At alone.
	Until time.Time
}

// Rules decide whether approvals satisfy a request.
type Rules struct {
	Roles RoleChecker
}

// Satisfied reports whether enough distinct people approved req, and if
// not, the requirements still open (one per system, with the count still
// needed). An error from the role checker is returned as is; callers treat
// it as not satisfied.
func (r Rules) Satisfied(ctx context.Context, req Request, approvals []*Approval) (bool, []policy.Requirement, error) {
	role := req.Role
	if role == "" {
		role = bulwark.RoleApprover
	}
	count := max(req.Count, 1)
	var ok []string
	for _, a := range approvals {
		if slices.Contains(ok, a.Approver.ID) || !binds(a, req) {
			continue
		}
		holds, err := r.holdsEverywhere(ctx, a.Approver.ID, role, req)
		if err != nil {
			return false, nil, err
		}
		if holds {
			ok = append(ok, a.Approver.ID)
		}
	}
	if len(ok) >= count {
		return true, nil, nil
	}
	var missing []policy.Requirement
	for _, s := range sortedSystems(req.Systems) {
		missing = append(missing, policy.Requirement{Role: role, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: s.Name}, Count: count - len(ok)})
	}
	return false, missing, nil
}

// binds reports whether a is an approval by a person other than the
// submitter, of exactly this drill, environment and ticket, valid from At
// to Until.
func binds(a *Approval, req Request) bool {
	switch {
	case a.DrillSHA256 == "" || a.DrillSHA256 != req.DrillSHA256, a.Environment != req.Environment, a.Ticket != req.Ticket:
		return false
	case !a.Approver.IsPerson():
		return false
	case a.Approver.ID == a.Submitter, a.Approver.ID == req.Submitter.ID,
		req.Submitter.OwnerID != "" && a.Approver.ID == req.Submitter.OwnerID:
		return false
	case req.At.Before(a.ValidFrom), req.At.After(a.ValidUntil), req.Until.After(a.ValidUntil):
		return false
	}
	return true
}

func (r Rules) holdsEverywhere(ctx context.Context, id string, role bulwark.Role, req Request) (bool, error) {
	if r.Roles == nil {
		return false, fmt.Errorf("approval: no role checker configured")
	}
	if len(req.Systems) == 0 {
		return false, nil // nothing to approve on: never vacuously true
	}
	for _, s := range req.Systems {
		res := bulwark.Resource{System: s.Name, Team: s.OwnerTeam, Environment: req.Environment}
		has, err := r.Roles.HasRole(ctx, id, role, res)
		if err != nil {
			return false, fmt.Errorf("approval: role check of %s on %s: %w", id, s.Name, err)
		}
		if !has {
			return false, nil
		}
	}
	return true, nil
}

func sortedSystems(ss []bulwark.System) []bulwark.System {
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b bulwark.System) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b bulwark.System) bool { return a.Name == b.Name })
}

// Checker is the policy gate's view of approvals (policy.ApprovalChecker):
// it looks the binding up in Store and applies Rules.
type Checker struct {
	Store Store
	Rules Rules
	Now   func() time.Time // nil means time.Now; used when the request has no start
}

var _ policy.ApprovalChecker = (*Checker)(nil)

// Missing implements policy.ApprovalChecker for the targets of req in env.
func (c *Checker) Missing(ctx context.Context, req policy.Request, env bulwark.Environment, need []policy.Requirement) ([]policy.Requirement, error) {
	if len(need) == 0 {
		return nil, nil
	}
	at := req.Start
	if at.IsZero() {
		at = time.Now()
		if c.Now != nil {
			at = c.Now()
		}
	}
	ar := Request{DrillSHA256: req.DrillSHA256, Environment: env.Name, Ticket: req.Ticket, Submitter: req.Principal,
		Role: need[0].Role, At: at, Until: at.Add(req.Duration)}
	for _, n := range need {
		ar.Count = max(ar.Count, n.Count)
	}
	for _, t := range req.Targets {
		if t.Environment.Name == env.Name {
			ar.Systems = append(ar.Systems, t.System)
		}
	}
	if ar.DrillSHA256 == "" {
		return need, nil // nothing an approval could be bound to
	}
	list, err := c.Store.FindApprovals(ctx, Filter{DrillSHA256: ar.DrillSHA256, Environment: ar.Environment, Ticket: ar.Ticket, Limit: 1000})
	if err != nil {
		return nil, err
	}
	ok, missing, err := c.Rules.Satisfied(ctx, ar, list)
	if err != nil || ok {
		return nil, err
	}
	return missing, nil
}
