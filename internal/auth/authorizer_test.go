package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// fakeBindings and fakeSystems are in-memory stand-ins for unit-testing
// the authorizer's logic; the HTTP tests use the real SQLite store.
type fakeBindings map[string][]*bulwark.RoleBinding

func (f fakeBindings) RoleBindings(_ context.Context, subject string) ([]*bulwark.RoleBinding, error) {
	return f[subject], nil
}

type fakeSystems map[string]bulwark.System

func (f fakeSystems) System(_ context.Context, name string) (bulwark.System, error) {
	s, ok := f[name]
	if !ok {
		return s, bulwark.Errorf(bulwark.ENOTFOUND, "system %s not found", name)
	}
	return s, nil
}

var testSystems = fakeSystems{
	"trade":  {Name: "trade", OwnerTeam: "equities"},
	"settle": {Name: "settle", OwnerTeam: "clearing"},
}

var allRoles = []bulwark.Role{bulwark.RoleViewer, bulwark.RoleOperator, bulwark.RoleApprover, bulwark.RoleAdmin}

// roleMatrix is doc.go's table: holds → needs it satisfies.
var roleMatrix = map[bulwark.Role][]bulwark.Role{
	bulwark.RoleViewer:   {bulwark.RoleViewer},
	bulwark.RoleOperator: {bulwark.RoleViewer, bulwark.RoleOperator},
	bulwark.RoleApprover: {bulwark.RoleViewer, bulwark.RoleApprover},
	bulwark.RoleAdmin:    {bulwark.RoleViewer, bulwark.RoleOperator, bulwark.RoleAdmin},
}

// TestAllowedMatrix checks every held role × scope kind × needed role, on
// a resource inside the binding's scope and on one outside it.
func TestAllowedMatrix(t *testing.T) {
	inside := bulwark.Resource{System: "trade", Environment: "simulation"}
	outside := bulwark.Resource{System: "settle", Environment: "production"}
	scopes := []bulwark.Scope{
		{Kind: bulwark.ScopeGlobal},
		{Kind: bulwark.ScopeSystem, Name: "trade"},
		{Kind: bulwark.ScopeTeam, Name: "equities"},
		{Kind: bulwark.ScopeEnvironment, Name: "simulation"},
	}
	for _, held := range allRoles {
		for _, sc := range scopes {
			for _, need := range allRoles {
				name := fmt.Sprintf("%s@%s/%s", held, sc.Kind, need)
				t.Run(name, func(t *testing.T) {
					a := &auth.Authorizer{Systems: testSystems, Bindings: fakeBindings{
						"u": {{ID: "b", Subject: "u", Role: held, Scope: sc}}}}
					p := bulwark.Principal{ID: "u", Name: "zhang", Kind: bulwark.PrincipalUser}
					wantIn := contains(roleMatrix[held], need)
					checkAllowed(t, a.Allowed(context.Background(), p, need, inside), wantIn, need)
					wantOut := wantIn && sc.Kind == bulwark.ScopeGlobal
					checkAllowed(t, a.Allowed(context.Background(), p, need, outside), wantOut, need)
					ok, err := a.HasRole(context.Background(), "u", need, inside)
					if err != nil || ok != wantIn {
						t.Fatalf("HasRole = %v, %v; want %v", ok, err, wantIn)
					}
				})
			}
		}
	}
}

func checkAllowed(t *testing.T, err error, want bool, need bulwark.Role) {
	t.Helper()
	if want {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	if bulwark.ErrorCode(err) != bulwark.EFORBIDDEN {
		t.Fatalf("got %v, want forbidden", err)
	}
	if msg := bulwark.ErrorMessage(err); !strings.Contains(msg, "role "+string(need)) {
		t.Fatalf("message %q does not name the missing role", msg)
	}
}

func contains(rs []bulwark.Role, r bulwark.Role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// TestAllowedTeamScope: a team binding covers the systems the team owns by
// the inventory, an explicit Team, and nothing else.
func TestAllowedTeamScope(t *testing.T) {
	a := &auth.Authorizer{Systems: testSystems, Bindings: fakeBindings{"u": {{Subject: "u",
		Role: bulwark.RoleOperator, Scope: bulwark.Scope{Kind: bulwark.ScopeTeam, Name: "equities"}}}}}
	p := bulwark.Principal{ID: "u", Kind: bulwark.PrincipalUser}
	ctx := context.Background()
	for _, tc := range []struct {
		res  bulwark.Resource
		want bool
	}{
		{bulwark.Resource{System: "trade"}, true},
		{bulwark.Resource{Team: "equities"}, true},
		{bulwark.Resource{System: "settle"}, false},
		{bulwark.Resource{System: "unknown"}, false},
		{bulwark.Resource{Environment: "simulation"}, false},
		{bulwark.Resource{}, false},
	} {
		err := a.Allowed(ctx, p, bulwark.RoleOperator, tc.res)
		if (err == nil) != tc.want {
			t.Errorf("%+v: %v, want allowed=%v", tc.res, err, tc.want)
		}
	}
	// Through the function adapter the inventory's FindSystem plugs in.
	a.Systems = auth.SystemsFunc(testSystems.System)
	if err := a.Allowed(ctx, p, bulwark.RoleOperator, bulwark.Resource{System: "trade"}); err != nil {
		t.Errorf("through SystemsFunc: %v", err)
	}
	// Without an inventory a team binding still covers an explicit team.
	a.Systems = nil
	if err := a.Allowed(ctx, p, bulwark.RoleOperator, bulwark.Resource{System: "trade"}); err == nil {
		t.Error("team scope covered a system without an inventory to say who owns it")
	}
}

// TestAllowedAccountCappedByOwner: an account acts only within what its
// owner holds now, whatever its own bindings say.
func TestAllowedAccountCappedByOwner(t *testing.T) {
	sys := bulwark.Scope{Kind: bulwark.ScopeSystem, Name: "trade"}
	b := fakeBindings{
		"acct":  {{Subject: "acct", Role: bulwark.RoleOperator, Scope: sys}},
		"owner": {{Subject: "owner", Role: bulwark.RoleViewer, Scope: sys}},
	}
	a := &auth.Authorizer{Bindings: b, Systems: testSystems}
	p := bulwark.Principal{ID: "acct", Name: "ci", Kind: bulwark.PrincipalAccount, OwnerID: "owner"}
	ctx := context.Background()
	res := bulwark.Resource{System: "trade"}
	if err := a.Allowed(ctx, p, bulwark.RoleViewer, res); err != nil {
		t.Fatalf("viewer: %v", err)
	}
	err := a.Allowed(ctx, p, bulwark.RoleOperator, res)
	if bulwark.ErrorCode(err) != bulwark.EFORBIDDEN || !strings.Contains(bulwark.ErrorMessage(err), "owner") {
		t.Fatalf("operator beyond the owner: %v, want forbidden naming the owner", err)
	}
	b["owner"] = []*bulwark.RoleBinding{{Subject: "owner", Role: bulwark.RoleAdmin, Scope: sys}}
	if err := a.Allowed(ctx, p, bulwark.RoleOperator, res); err != nil {
		t.Fatalf("operator with an admin owner: %v", err)
	}
	if err := a.Allowed(ctx, p, bulwark.RoleAdmin, res); bulwark.ErrorCode(err) != bulwark.EFORBIDDEN {
		t.Fatalf("admin beyond the account's own binding: %v", err)
	}
	p.OwnerID = ""
	if err := a.Allowed(ctx, p, bulwark.RoleViewer, res); bulwark.ErrorCode(err) != bulwark.EFORBIDDEN {
		t.Fatalf("account without owner: %v", err)
	}
	if err := a.Allowed(ctx, bulwark.Principal{}, bulwark.RoleViewer, res); bulwark.ErrorCode(err) != bulwark.EUNAUTHORIZED {
		t.Fatalf("empty principal: %v", err)
	}
}
