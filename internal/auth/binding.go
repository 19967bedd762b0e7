package auth

import (
	"context"
	"net/http"

	"github.com/bulwarkhq/bulwark"
)

// handleListBindings lists the bindings (of ?subject= when given) whose
// scope the caller administers; a caller who is admin nowhere gets 403.
func (s *Service) handleListBindings(r *http.Request, p bulwark.Principal) (int, any, error) {
	ctx := r.Context()
	if err := s.adminSomewhere(ctx, p); err != nil {
		return 0, nil, err
	}
	subject := r.URL.Query().Get("subject")
	if subject != "" {
		id, err := s.resolveSubject(ctx, subject)
		if err != nil {
			return 0, nil, err
		}
		subject = id
	}
	bs, err := s.store.RoleBindings(ctx, subject)
	if err != nil {
		return 0, nil, err
	}
	out := []*bulwark.RoleBinding{}
	for _, b := range bs {
		if err := s.authz.Allowed(ctx, p, bulwark.RoleAdmin, ScopeResource(b.Scope)); err == nil {
			out = append(out, b)
		} else if bulwark.ErrorCode(err) != bulwark.EFORBIDDEN {
			return 0, nil, err
		}
	}
	return http.StatusOK, map[string]any{"bindings": out}, nil
}

// adminSomewhere returns EFORBIDDEN unless p is admin on some scope.
func (s *Service) adminSomewhere(ctx context.Context, p bulwark.Principal) error {
	return s.AllowedSomewhere(ctx, p, bulwark.RoleAdmin)
}

// AllowedSomewhere returns EFORBIDDEN unless p holds need (or a role that
// satisfies it) on at least one scope: the coarse check an endpoint makes
// before it does work whose resources it learns only later (a selector
// resolved to hosts), so that a viewer gets 403, not a selection error.
func (s *Service) AllowedSomewhere(ctx context.Context, p bulwark.Principal, need bulwark.Role) error {
	bs, err := s.store.RoleBindings(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if satisfies(b.Role, need) && s.authz.Allowed(ctx, p, need, ScopeResource(b.Scope)) == nil {
			return nil
		}
	}
	return bulwark.Errorf(bulwark.EFORBIDDEN, "%s %q needs role %s on some scope", p.Kind, p.Name, need)
}

// bindingRequest is the body of POST /api/v1/rolebindings. Subject is a
// user id, a user name or an account id.
type bindingRequest struct {
	Subject string        `json:"subject"`
	Role    bulwark.Role  `json:"role"`
	Scope   bulwark.Scope `json:"scope"`
}

func (s *Service) handleCreateBinding(r *http.Request, p bulwark.Principal) (int, any, error) {
	ctx := r.Context()
	var req bindingRequest
	if err := decodeJSON(r, &req); err != nil {
		return 0, nil, err
	}
	if !ValidRole(req.Role) {
		return 0, nil, bulwark.Errorf(bulwark.EINVALID, "role: %q is not one of viewer, operator, approver, admin", req.Role)
	}
	if err := ValidateScope(req.Scope); err != nil {
		return 0, nil, err
	}
	if err := s.authz.Allowed(ctx, p, bulwark.RoleAdmin, ScopeResource(req.Scope)); err != nil {
		return 0, nil, err
	}
	id, err := s.resolveSubject(ctx, req.Subject)
	if err != nil {
		return 0, nil, err
	}
	b := &bulwark.RoleBinding{ID: bulwark.NewID(), Subject: id, Role: req.Role, Scope: req.Scope}
	if err := s.store.CreateRoleBinding(ctx, b); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, b, nil
}

// resolveSubject returns the principal id of a user id, user name or
// account id; anything else is EINVALID.
func (s *Service) resolveSubject(ctx context.Context, subject string) (string, error) {
	if subject == "" {
		return "", bulwark.Errorf(bulwark.EINVALID, "subject: required (a user id, user name or account id)")
	}
	if u, err := s.store.UserByID(ctx, subject); err == nil {
		return u.ID, nil
	} else if bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		return "", err
	}
	if a, err := s.store.AccountByID(ctx, subject); err == nil {
		return a.ID, nil
	} else if bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		return "", err
	}
	u, err := s.store.UserByName(ctx, subject)
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		return "", bulwark.Errorf(bulwark.EINVALID, "subject: no user or account %q", subject)
	} else if err != nil {
		return "", err
	}
	return u.ID, nil
}

// handleDeleteBinding removes a binding; the caller must be admin on its
// scope, and the last global admin binding of a user is never removed.
func (s *Service) handleDeleteBinding(r *http.Request, p bulwark.Principal) (int, any, error) {
	ctx := r.Context()
	b, err := s.store.RoleBindingByID(ctx, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.authz.Allowed(ctx, p, bulwark.RoleAdmin, ScopeResource(b.Scope)); err != nil {
		return 0, nil, err
	}
	if b.Role == bulwark.RoleAdmin && b.Scope.Kind == bulwark.ScopeGlobal {
		if err := s.notLastGlobalAdmin(ctx, b); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusNoContent, nil, s.store.DeleteRoleBinding(ctx, b.ID)
}

func (s *Service) notLastGlobalAdmin(ctx context.Context, gone *bulwark.RoleBinding) error {
	bs, err := s.store.RoleBindings(ctx, "")
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.ID == gone.ID || b.Role != bulwark.RoleAdmin || b.Scope.Kind != bulwark.ScopeGlobal {
			continue
		}
		if _, err := s.store.UserByID(ctx, b.Subject); err == nil {
			return nil
		}
	}
	return bulwark.Errorf(bulwark.ECONFLICT, "this is the last global admin binding of a user: bind another admin first")
}
