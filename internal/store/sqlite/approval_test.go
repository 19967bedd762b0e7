package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/approval/approvaltest"
	"github.com/bulwarkhq/bulwark/internal/auth"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestApprovalStore(t *testing.T) {
	approvaltest.Run(t, func(t *testing.T) approval.Store {
		return sqlite.NewApprovalStore(MustOpenDB(t))
	})
}

// TestApprovalGate runs the policy gate with the SQLite approval store and
// the auth package's role checks on SQLite role bindings: a production-class
// run waits for approval, the submitter's own approval does not count, a
// second person's does, and an edit of the drill file invalidates it.
func TestApprovalGate(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	authStore := sqlite.NewAuthStore(db)
	for _, b := range []*bulwark.RoleBinding{
		{ID: bulwark.NewID(), Subject: "u-alice", Role: bulwark.RoleApprover, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "trade"}},
		{ID: bulwark.NewID(), Subject: "u-bob", Role: bulwark.RoleApprover, Scope: bulwark.Scope{Kind: bulwark.ScopeTeam, Name: "equities"}},
	} {
		if err := authStore.CreateRoleBinding(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	store := sqlite.NewApprovalStore(db)
	cal, err := calendar.ParseFile("../../../examples/calendars/cn-a-share.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := &policy.Gate{Calendars: map[string]*calendar.Calendar{"cn-a-share": cal}, DefaultCalendar: "cn-a-share",
		Approvals: &approval.Checker{Store: store, Rules: approval.Rules{Roles: &auth.Authorizer{Bindings: authStore}}}}
	sh := cal.Location()
	start := time.Date(2026, 3, 3, 11, 35, 0, 0, sh) // lunch break
	sha := strings.Repeat("5e", 32)
	alice := bulwark.Principal{ID: "u-alice", Name: "alice", Kind: bulwark.PrincipalUser}
	req := policy.Request{Principal: alice, Action: policy.ActionRunStart, Start: start, Duration: 10 * time.Minute,
		Ticket: "CHG-7", DrillSHA256: sha,
		Targets: []policy.Target{{HostID: "h1", Environment: bulwark.Environment{Name: "production", ProductionClass: true},
			System: bulwark.System{Name: "trade", OwnerTeam: "equities", Tier: 1}}}}

	if d := g.Decide(ctx, req); d.Outcome != policy.NeedsApproval {
		t.Fatalf("before any approval: %s", d.JSON())
	}
	// Alice cannot approve her own run, even holding approver on trade:
	// the store refuses it outright, and an approval recorded for another
	// submitter does not count for her run either.
	self := &approval.Approval{DrillSHA256: sha, Environment: "production", Ticket: "CHG-7", ValidFrom: start.Add(-time.Hour),
		ValidUntil: start.Add(time.Hour), Approver: alice, Submitter: "u-alice"}
	if err := store.CreateApproval(ctx, self); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("self approval stored: %v", err)
	}
	self.Submitter = "u-zed"
	if err := store.CreateApproval(ctx, self); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(ctx, req); d.Outcome != policy.NeedsApproval {
		t.Fatalf("after the submitter's own approval: %s", d.JSON())
	}
	// Bob holds approver through his team's binding.
	bob := bulwark.Principal{ID: "u-bob", Name: "bob", Kind: bulwark.PrincipalUser}
	if err := store.CreateApproval(ctx, &approval.Approval{DrillSHA256: sha, Environment: "production", Ticket: "CHG-7",
		ValidFrom: start.Add(-time.Hour), ValidUntil: start.Add(time.Hour), Approver: bob, Submitter: "u-alice"}); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(ctx, req); d.Outcome != policy.Allow {
		t.Fatalf("after bob's approval: %s", d.JSON())
	}
	// Any edit of the drill file invalidates the approval.
	edited := req
	edited.DrillSHA256 = strings.Repeat("6f", 32)
	if d := g.Decide(ctx, edited); d.Outcome != policy.NeedsApproval {
		t.Fatalf("edited drill: %s", d.JSON())
	}
	// So does a start outside the validity window (Monday lunch).
	late := req
	late.Start = time.Date(2026, 3, 9, 11, 35, 0, 0, sh)
	if d := g.Decide(ctx, late); d.Outcome != policy.NeedsApproval {
		t.Fatalf("outside validity: %s", d.JSON())
	}
	// A second system bob has no approver role on needs someone else.
	two := req
	two.Action = policy.ActionRunStart
	two.Targets = append([]policy.Target{}, req.Targets...)
	two.Targets[0].System = bulwark.System{Name: "quote", OwnerTeam: "market-data"}
	d := g.Decide(ctx, two)
	if d.Outcome != policy.NeedsApproval || len(d.Approvers) != 1 || d.Approvers[0].Scope.Name != "quote" {
		t.Fatalf("other system: %s", d.JSON())
	}
}
