package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

// Systems looks systems up by name, to find the team that owns one. The
// inventory implements it. A missing system is ENOTFOUND.
type Systems interface {
	System(ctx context.Context, name string) (bulwark.System, error)
}

// SystemsFunc adapts a lookup function to Systems, e.g.
// auth.SystemsFunc(inventory.FindSystem).
type SystemsFunc func(ctx context.Context, name string) (bulwark.System, error)

// System implements Systems.
func (f SystemsFunc) System(ctx context.Context, name string) (bulwark.System, error) {
	return f(ctx, name)
}

// Bindings lists a subject's role bindings; Store implements it.
type Bindings interface {
	RoleBindings(ctx context.Context, subject string) ([]*bulwark.RoleBinding, error)
}

// Authorizer decides whether a principal holds a role on a resource.
type Authorizer struct {
	Bindings Bindings
	Systems  Systems // may be nil: team scopes then cover only Resource.Team
}

// satisfies reports whether holding role have meets the need (doc.go).
func satisfies(have, need bulwark.Role) bool {
	if need == bulwark.RoleApprover || have == bulwark.RoleApprover {
		return have == need || (have == bulwark.RoleApprover && need == bulwark.RoleViewer)
	}
	return rank(have) >= rank(need) && rank(need) > 0
}

func rank(r bulwark.Role) int {
	switch r {
	case bulwark.RoleViewer:
		return 1
	case bulwark.RoleOperator:
		return 2
	case bulwark.RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether r is one of the four roles.
func ValidRole(r bulwark.Role) bool { return rank(r) > 0 || r == bulwark.RoleApprover }

// ValidateScope checks a scope's kind and name.
func ValidateScope(s bulwark.Scope) error {
	switch s.Kind {
	case bulwark.ScopeGlobal:
		if s.Name != "" {
			return bulwark.Errorf(bulwark.EINVALID, "scope: a global scope has no name (got %q)", s.Name)
		}
	case bulwark.ScopeSystem, bulwark.ScopeTeam, bulwark.ScopeEnvironment:
		if strings.TrimSpace(s.Name) == "" {
			return bulwark.Errorf(bulwark.EINVALID, "scope: a %s scope needs a name", s.Kind)
		}
	default:
		return bulwark.Errorf(bulwark.EINVALID, "scope: kind %q is not one of global, system, team, environment", s.Kind)
	}
	return nil
}

// ScopeResource returns the resource a scope names, for checks on the scope
// itself (who may bind in it): a global scope is the empty resource, which
// only global bindings cover.
func ScopeResource(s bulwark.Scope) bulwark.Resource {
	switch s.Kind {
	case bulwark.ScopeSystem:
		return bulwark.Resource{System: s.Name}
	case bulwark.ScopeTeam:
		return bulwark.Resource{Team: s.Name}
	case bulwark.ScopeEnvironment:
		return bulwark.Resource{Environment: s.Name}
	}
	return bulwark.Resource{}
}

// Allowed returns nil when p holds need on res, and otherwise an
// *bulwark.Error: EFORBIDDEN naming the missing role and the resource, or
// EUNAUTHORIZED for a principal without an id.
func (a *Authorizer) Allowed(ctx context.Context, p bulwark.Principal, need bulwark.Role, res bulwark.Resource) error {
	if p.ID == "" {
		return bulwark.Errorf(bulwark.EUNAUTHORIZED, "no credential")
	}
	if !ValidRole(need) {
		return fmt.Errorf("authorize: unknown role %q", need)
	}
	res, err := a.resolve(ctx, res)
	if err != nil {
		return err
	}
	ok, err := a.holds(ctx, p.ID, need, res)
	if err != nil {
		return err
	}
	if ok && p.Kind == bulwark.PrincipalAccount {
		if p.OwnerID == "" {
			return bulwark.Errorf(bulwark.EFORBIDDEN, "account %s has no owner", p.Name)
		}
		if ok, err = a.holds(ctx, p.OwnerID, need, res); err != nil {
			return err
		}
		if !ok {
			return bulwark.Errorf(bulwark.EFORBIDDEN, "%s %q needs role %s on %s, which its owner no longer holds",
				p.Kind, p.Name, need, describe(res))
		}
	}
	if !ok {
		return bulwark.Errorf(bulwark.EFORBIDDEN, "%s %q needs role %s on %s", p.Kind, p.Name, need, describe(res))
	}
	return nil
}

// HasRole reports whether the principal with the id holds role on res by
// its own bindings (the approvals code asks it for every selected system).
func (a *Authorizer) HasRole(ctx context.Context, principalID string, role bulwark.Role, res bulwark.Resource) (bool, error) {
	res, err := a.resolve(ctx, res)
	if err != nil {
		return false, err
	}
	return a.holds(ctx, principalID, role, res)
}

// resolve fills res.Team from the inventory when a system is named.
func (a *Authorizer) resolve(ctx context.Context, res bulwark.Resource) (bulwark.Resource, error) {
	if res.System == "" || res.Team != "" || a.Systems == nil {
		return res, nil
	}
	sys, err := a.Systems.System(ctx, res.System)
	switch {
	case bulwark.ErrorCode(err) == bulwark.ENOTFOUND:
		return res, nil // an unknown system is covered by system and global bindings only
	case err != nil:
		return res, fmt.Errorf("authorize: look up system %s: %w", res.System, err)
	}
	res.Team = sys.OwnerTeam
	return res, nil
}

func (a *Authorizer) holds(ctx context.Context, subject string, need bulwark.Role, res bulwark.Resource) (bool, error) {
	bs, err := a.Bindings.RoleBindings(ctx, subject)
	if err != nil {
		return false, fmt.Errorf("authorize: role bindings of %s: %w", subject, err)
	}
	for _, b := range bs {
		if satisfies(b.Role, need) && covers(b.Scope, res) {
			return true, nil
		}
	}
	return false, nil
}

// covers reports whether a binding scope covers a resolved resource.
func covers(s bulwark.Scope, res bulwark.Resource) bool {
	switch s.Kind {
	case bulwark.ScopeGlobal:
		return true
	case bulwark.ScopeSystem:
		return s.Name != "" && s.Name == res.System
	case bulwark.ScopeTeam:
		return s.Name != "" && s.Name == res.Team
	case bulwark.ScopeEnvironment:
		return s.Name != "" && s.Name == res.Environment
	}
	return false
}

// describe names a resource in an error message.
func describe(res bulwark.Resource) string {
	var parts []string
	if res.System != "" {
		parts = append(parts, "system "+res.System)
	}
	if res.Team != "" {
		parts = append(parts, "team "+res.Team)
	}
	if res.Environment != "" {
		parts = append(parts, "environment "+res.Environment)
	}
	if len(parts) == 0 {
		return "the global scope"
	}
	return strings.Join(parts, ", ")
}
