package approval_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

// fakeRoles grants roles by "principal/role/system"; unit tests only (the
// auth package implements RoleChecker for real).
type fakeRoles struct {
	grants map[string]bool
	err    error
}

func (f fakeRoles) HasRole(_ context.Context, id string, role bulwark.Role, res bulwark.Resource) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	return f.grants[id+"/"+string(role)+"/"+res.System], nil
}

var (
	sha     = strings.Repeat("ab", 32)
	t0      = time.Date(2026, 3, 3, 4, 0, 0, 0, time.UTC)
	alice   = bulwark.Principal{ID: "u-alice", Kind: bulwark.PrincipalUser}
	bob     = bulwark.Principal{ID: "u-bob", Kind: bulwark.PrincipalUser}
	carol   = bulwark.Principal{ID: "u-carol", Kind: bulwark.PrincipalUser}
	robot   = bulwark.Principal{ID: "a-ci", Kind: bulwark.PrincipalAccount, OwnerID: "u-bob"}
	trade   = bulwark.System{Name: "trade", OwnerTeam: "equities"}
	quote   = bulwark.System{Name: "quote", OwnerTeam: "market-data"}
	roles   = fakeRoles{grants: map[string]bool{"u-bob/approver/trade": true, "u-bob/approver/quote": true, "u-carol/approver/trade": true, "u-alice/approver/trade": true, "u-alice/approver/quote": true}}
	request = approval.Request{DrillSHA256: sha, Environment: "production", Ticket: "CHG-1", Submitter: alice,
		Systems: []bulwark.System{trade, quote}, Count: 1, At: t0}
)

func appr(by bulwark.Principal, mod func(*approval.Approval)) *approval.Approval {
	a := &approval.Approval{ID: "x", DrillSHA256: sha, Environment: "production", Ticket: "CHG-1",
		ValidFrom: t0.Add(-time.Hour), ValidUntil: t0.Add(time.Hour), Approver: by, Submitter: "u-alice"}
	if mod != nil {
		mod(a)
	}
	return a
}

func TestSatisfied(t *testing.T) {
	r := approval.Rules{Roles: roles}
	for _, tc := range []struct {
		name      string
		req       func(*approval.Request)
		approvals []*approval.Approval
		ok        bool
	}{
		{"bob holds approver on both systems", nil, []*approval.Approval{appr(bob, nil)}, true},
		{"carol holds it on trade only", nil, []*approval.Approval{appr(carol, nil)}, false},
		{"submitter cannot approve", nil, []*approval.Approval{appr(alice, func(a *approval.Approval) { a.Submitter = "u-x" })}, false},
		{"a token-only account is not a person", nil, []*approval.Approval{appr(robot, nil)}, false},
		{"the owner of the submitting account cannot approve", func(r *approval.Request) { r.Submitter = robot },
			[]*approval.Approval{appr(bob, func(a *approval.Approval) { a.Submitter = "a-ci" })}, false},
		{"edited drill file", func(r *approval.Request) { r.DrillSHA256 = strings.Repeat("cd", 32) }, []*approval.Approval{appr(bob, nil)}, false},
		{"other environment", func(r *approval.Request) { r.Environment = "dr" }, []*approval.Approval{appr(bob, nil)}, false},
		{"other ticket", func(r *approval.Request) { r.Ticket = "CHG-2" }, []*approval.Approval{appr(bob, nil)}, false},
		{"not yet valid", func(r *approval.Request) { r.At = t0.Add(-2 * time.Hour) }, []*approval.Approval{appr(bob, nil)}, false},
		{"expired", func(r *approval.Request) { r.At = t0.Add(2 * time.Hour) }, []*approval.Approval{appr(bob, nil)}, false},
		{"valid to the planned end", func(r *approval.Request) { r.Until = t0.Add(time.Hour) }, []*approval.Approval{appr(bob, nil)}, true},
		{"expires before the planned end", func(r *approval.Request) { r.Until = t0.Add(time.Hour + time.Second) }, []*approval.Approval{appr(bob, nil)}, false},
		{"two needed, the same person twice", func(r *approval.Request) { r.Count = 2; r.Systems = []bulwark.System{trade} },
			[]*approval.Approval{appr(bob, nil), appr(bob, nil)}, false},
		{"two needed, two people", func(r *approval.Request) { r.Count = 2; r.Systems = []bulwark.System{trade} },
			[]*approval.Approval{appr(bob, nil), appr(carol, nil)}, true},
		{"no systems is never satisfied", func(r *approval.Request) { r.Systems = nil }, []*approval.Approval{appr(bob, nil)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request
			if tc.req != nil {
				tc.req(&req)
			}
			ok, missing, err := r.Satisfied(context.Background(), req, tc.approvals)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || ok != (len(missing) == 0) && len(req.Systems) > 0 {
				t.Errorf("ok = %v, missing = %v; want ok %v", ok, missing, tc.ok)
			}
		})
	}
}

func TestMissingRequirements(t *testing.T) {
	ok, missing, err := approval.Rules{Roles: roles}.Satisfied(context.Background(), request, []*approval.Approval{appr(carol, nil)})
	if err != nil || ok {
		t.Fatal(ok, err)
	}
	want := []policy.Requirement{
		{Role: bulwark.RoleApprover, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "quote"}, Count: 1},
		{Role: bulwark.RoleApprover, Scope: bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "trade"}, Count: 1},
	}
	if len(missing) != 2 || missing[0] != want[0] || missing[1] != want[1] {
		t.Errorf("missing = %v, want %v", missing, want)
	}
	_, _, err = approval.Rules{Roles: fakeRoles{err: errors.New("ldap down")}}.Satisfied(context.Background(), request, []*approval.Approval{appr(bob, nil)})
	if err == nil || !strings.Contains(err.Error(), "ldap down") {
		t.Errorf("role checker error: %v", err)
	}
}

func TestValidate(t *testing.T) {
	if err := appr(bob, nil).Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*approval.Approval){
		"bad sha":        func(a *approval.Approval) { a.DrillSHA256 = "abc" },
		"upper-case sha": func(a *approval.Approval) { a.DrillSHA256 = strings.ToUpper(sha) },
		"no environment": func(a *approval.Approval) { a.Environment = "" },
		"no submitter":   func(a *approval.Approval) { a.Submitter = "" },
		"token approver": func(a *approval.Approval) { a.Approver = robot },
		"self approval":  func(a *approval.Approval) { a.Submitter = "u-bob" },
		"empty window":   func(a *approval.Approval) { a.ValidUntil = a.ValidFrom },
		"too long":       func(a *approval.Approval) { a.ValidUntil = a.ValidFrom.Add(8 * 24 * time.Hour) },
	} {
		if err := appr(bob, mod).Validate(); bulwark.ErrorCode(err) != bulwark.EINVALID {
			t.Errorf("%s: %v", name, err)
		}
	}
}
