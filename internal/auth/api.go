package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Routes mounts the sign-in endpoints (no credential needed) and the
// /api/v1 endpoints of this package (behind Authenticate) on mux.
func (s *Service) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/login", s.handleLogin)
	mux.HandleFunc("POST /auth/logout", s.handleLogout)
	mux.HandleFunc("GET /auth/oidc/login", s.handleOIDCLogin)
	mux.HandleFunc("GET /auth/oidc/callback", s.handleOIDCCallback)

	api := func(pattern string, h func(r *http.Request, p bulwark.Principal) (int, any, error)) {
		mux.Handle(pattern, s.Authenticate(s.wrap(h)))
	}
	api("GET /api/v1/me", s.handleMe)
	api("GET /api/v1/tokens", s.handleListTokens)
	api("POST /api/v1/tokens", s.handleCreateToken)
	api("DELETE /api/v1/tokens/{id}", s.handleRevokeToken)
	api("GET /api/v1/rolebindings", s.handleListBindings)
	api("POST /api/v1/rolebindings", s.handleCreateBinding)
	api("DELETE /api/v1/rolebindings/{id}", s.handleDeleteBinding)
	api("GET /api/v1/users", s.handleListUsers)
	api("POST /api/v1/users", s.handleCreateUser)
}

// wrap adapts a handler that returns (status, body, error) and audits it.
func (s *Service) wrap(h func(r *http.Request, p bulwark.Principal) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := FromContext(r.Context())
		status, body, err := h(r, p)
		if r.Method != http.MethodGet {
			s.audit(r.Context(), p, r.Method+" "+r.URL.Path, err)
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	})
}

// AuditEvent is one authentication or authorisation change, for the audit
// log the server wires in through Config.Audit.
type AuditEvent struct {
	Time      time.Time
	Principal bulwark.Principal
	Action    string // e.g. "POST /api/v1/tokens", "login"
	Result    string // "ok" or the error code
	Message   string // the error message, when not ok
}

func (s *Service) audit(ctx context.Context, p bulwark.Principal, action string, err error) {
	if s.cfg.Audit == nil {
		return
	}
	e := AuditEvent{Time: s.now(), Principal: p, Action: action, Result: "ok"}
	if err != nil {
		e.Result, e.Message = bulwark.ErrorCode(err), bulwark.ErrorMessage(err)
	}
	s.cfg.Audit(ctx, e)
}

// me is the answer of GET /api/v1/me.
type me struct {
	Principal bulwark.Principal      `json:"principal"`
	User      *User                  `json:"user,omitempty"`
	Bindings  []*bulwark.RoleBinding `json:"bindings"`
}

func (s *Service) handleMe(r *http.Request, p bulwark.Principal) (int, any, error) {
	out := me{Principal: p, Bindings: []*bulwark.RoleBinding{}}
	if p.Kind == bulwark.PrincipalUser {
		u, err := s.store.UserByID(r.Context(), p.ID)
		if err != nil {
			return 0, nil, err
		}
		out.User = u
	}
	bs, err := s.store.RoleBindings(r.Context(), p.ID)
	if err != nil {
		return 0, nil, err
	}
	out.Bindings = append(out.Bindings, bs...)
	return http.StatusOK, out, nil
}

// tokenView is a token as listed: never its secret or hash.
type tokenView struct {
	*Token
	Bindings []*bulwark.RoleBinding `json:"bindings,omitempty"` // an account's
}

func (s *Service) handleListTokens(r *http.Request, p bulwark.Principal) (int, any, error) {
	owner := p.ID
	if p.Kind == bulwark.PrincipalAccount {
		owner = p.OwnerID
	}
	ts, err := s.store.TokensByOwner(r.Context(), owner)
	if err != nil {
		return 0, nil, err
	}
	out := []tokenView{}
	for _, t := range ts {
		if p.Kind == bulwark.PrincipalAccount && t.SubjectID != p.ID {
			continue // an account sees only its own tokens
		}
		v := tokenView{Token: t}
		if t.SubjectKind == bulwark.PrincipalAccount {
			if v.Bindings, err = s.store.RoleBindings(r.Context(), t.SubjectID); err != nil {
				return 0, nil, err
			}
		}
		out = append(out, v)
	}
	return http.StatusOK, map[string]any{"tokens": out}, nil
}

// createTokenRequest is the body of POST /api/v1/tokens. With a role it
// creates an automation account owned by the caller; without one it issues
// a token to the caller, inheriting the caller's bindings.
type createTokenRequest struct {
	Name      string            `json:"name"`
	Role      bulwark.Role      `json:"role"`
	Scope     *bulwark.Scope    `json:"scope"`
	ExpiresIn *bulwark.Duration `json:"expiresIn"`
}

func (s *Service) handleCreateToken(r *http.Request, p bulwark.Principal) (int, any, error) {
	var req createTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return 0, nil, err
	}
	var ttl time.Duration
	if req.ExpiresIn != nil {
		if ttl = req.ExpiresIn.Std(); ttl == 0 {
			return 0, nil, bulwark.Errorf(bulwark.EINVALID, "expiresIn: must be positive (omit it for the default)")
		}
	}
	if req.Role == "" {
		if !p.IsPerson() {
			return 0, nil, bulwark.Errorf(bulwark.EFORBIDDEN, "only a user can issue a token to themselves")
		}
		if req.Scope != nil {
			return 0, nil, bulwark.Errorf(bulwark.EINVALID, "scope: only with a role (an account token)")
		}
		is, err := s.IssueUserToken(r.Context(), p.ID, req.Name, ttl)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, map[string]any{"token": is.Secret, "id": is.Token.ID, "expiresAt": is.Token.ExpiresAt}, nil
	}
	scope := bulwark.Scope{Kind: bulwark.ScopeGlobal}
	if req.Scope != nil {
		scope = *req.Scope
	}
	is, err := s.IssueAccountToken(r.Context(), p, AccountRequest{Name: req.Name, Role: req.Role, Scope: scope, TTL: ttl})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"token": is.Secret, "id": is.Token.ID, "role": req.Role,
		"scope": scope, "account": is.Account, "expiresAt": is.Token.ExpiresAt}, nil
}

func (s *Service) handleRevokeToken(r *http.Request, p bulwark.Principal) (int, any, error) {
	return http.StatusNoContent, nil, s.RevokeToken(r.Context(), p, r.PathValue("id"))
}

// handleListUsers lists users for admins (of any scope), who need the ids
// for bindings; users see themselves in /api/v1/me.
func (s *Service) handleListUsers(r *http.Request, p bulwark.Principal) (int, any, error) {
	if err := s.adminSomewhere(r.Context(), p); err != nil {
		return 0, nil, err
	}
	us, err := s.store.Users(r.Context())
	if err != nil {
		return 0, nil, err
	}
	if us == nil {
		us = []*User{}
	}
	return http.StatusOK, map[string]any{"users": us}, nil
}

// handleCreateUser creates a local user (global admin only) and answers its
// TOTP enrolment, once.
func (s *Service) handleCreateUser(r *http.Request, p bulwark.Principal) (int, any, error) {
	if err := s.authz.Allowed(r.Context(), p, bulwark.RoleAdmin, bulwark.Resource{}); err != nil {
		return 0, nil, err
	}
	var nu NewLocalUser
	if err := decodeJSON(r, &nu); err != nil {
		return 0, nil, err
	}
	u, enr, err := s.CreateLocalUser(r.Context(), nu)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"user": u, "totp": enr}, nil
}
