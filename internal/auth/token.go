package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Issued is a token as handed out: its secret, shown once, and its record.
type Issued struct {
	Secret  string   `json:"token"`
	Token   *Token   `json:"-"`
	Account *Account `json:"account,omitempty"`
}

// IssueUserToken issues a token to the user; it inherits the user's
// bindings. ttl 0 is the default TTL; beyond MaxTokenTTL is EINVALID.
func (s *Service) IssueUserToken(ctx context.Context, userID, name string, ttl time.Duration) (*Issued, error) {
	exp, err := s.expiry(ttl)
	if err != nil {
		return nil, err
	}
	secret := NewToken()
	t := &Token{ID: bulwark.NewID(), Hash: HashSecret(secret), Name: name, SubjectID: userID,
		SubjectKind: bulwark.PrincipalUser, OwnerID: userID, ExpiresAt: exp}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	return &Issued{Secret: secret, Token: t}, nil
}

// AccountRequest asks for an automation account with one role binding and a
// token for it.
type AccountRequest struct {
	Name  string
	Role  bulwark.Role
	Scope bulwark.Scope
	TTL   time.Duration // 0: the default
}

// IssueAccountToken creates an automation account owned by the user owner,
// binds it req.Role on req.Scope and issues its token. The owner must be a
// person holding req.Role on req.Scope (EFORBIDDEN otherwise): an account
// never gets more than its owner holds.
func (s *Service) IssueAccountToken(ctx context.Context, owner bulwark.Principal, req AccountRequest) (*Issued, error) {
	if !owner.IsPerson() {
		return nil, bulwark.Errorf(bulwark.EFORBIDDEN, "only a user can create an automation account, not a %s", owner.Kind)
	}
	if strings.TrimSpace(req.Name) == "" {
		return nil, bulwark.Errorf(bulwark.EINVALID, "name: required")
	}
	if !ValidRole(req.Role) {
		return nil, bulwark.Errorf(bulwark.EINVALID, "role: %q is not one of viewer, operator, approver, admin", req.Role)
	}
	if err := ValidateScope(req.Scope); err != nil {
		return nil, err
	}
	exp, err := s.expiry(req.TTL)
	if err != nil {
		return nil, err
	}
	if err := s.authz.Allowed(ctx, owner, req.Role, ScopeResource(req.Scope)); bulwark.ErrorCode(err) == bulwark.EFORBIDDEN {
		return nil, bulwark.Errorf(bulwark.EFORBIDDEN, "an account cannot get more than its owner holds: %s",
			bulwark.ErrorMessage(err))
	} else if err != nil {
		return nil, err
	}
	a := &Account{ID: bulwark.NewID(), Name: req.Name, OwnerID: owner.ID}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	b := &bulwark.RoleBinding{ID: bulwark.NewID(), Subject: a.ID, Role: req.Role, Scope: req.Scope}
	if err := s.store.CreateRoleBinding(ctx, b); err != nil {
		return nil, fmt.Errorf("bind account: %w", err)
	}
	secret := NewToken()
	t := &Token{ID: bulwark.NewID(), Hash: HashSecret(secret), Name: req.Name, SubjectID: a.ID,
		SubjectKind: bulwark.PrincipalAccount, OwnerID: owner.ID, ExpiresAt: exp}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	return &Issued{Secret: secret, Token: t, Account: a}, nil
}

func (s *Service) expiry(ttl time.Duration) (*time.Time, error) {
	switch {
	case ttl < 0:
		return nil, bulwark.Errorf(bulwark.EINVALID, "expiresIn: must be positive")
	case ttl == 0:
		ttl = s.cfg.DefaultTokenTTL
	case ttl > s.cfg.MaxTokenTTL:
		return nil, bulwark.Errorf(bulwark.EINVALID, "expiresIn: %s is longer than the maximum %s", ttl, s.cfg.MaxTokenTTL)
	}
	exp := s.now().Add(ttl)
	return &exp, nil
}

// tokenPrincipal returns the principal of a live token secret.
func (s *Service) tokenPrincipal(ctx context.Context, secret string) (bulwark.Principal, error) {
	t, err := s.store.TokenByHash(ctx, HashSecret(secret))
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "token unknown")
	} else if err != nil {
		return bulwark.Principal{}, err
	}
	now := s.now()
	if t.RevokedAt != nil {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "token %s was revoked", t.ID)
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "token %s expired at %s", t.ID,
			t.ExpiresAt.Format(time.RFC3339))
	}
	if t.SubjectKind == bulwark.PrincipalUser {
		return s.userPrincipal(ctx, t.SubjectID, t.ID)
	}
	a, err := s.store.AccountByID(ctx, t.SubjectID)
	if err != nil {
		return bulwark.Principal{}, fmt.Errorf("token %s: %w", t.ID, err)
	}
	if _, err := s.userPrincipal(ctx, a.OwnerID, ""); err != nil {
		return bulwark.Principal{}, bulwark.Errorf(bulwark.EUNAUTHORIZED, "account %q: owner: %s", a.Name,
			bulwark.ErrorMessage(err))
	}
	return bulwark.Principal{ID: a.ID, Name: a.Name, Kind: bulwark.PrincipalAccount, OwnerID: a.OwnerID, TokenID: t.ID}, nil
}

// RevokeToken revokes a token. The caller must own it or be a global admin.
func (s *Service) RevokeToken(ctx context.Context, caller bulwark.Principal, id string) error {
	t, err := s.store.TokenByID(ctx, id)
	if err != nil {
		return err
	}
	if t.OwnerID != caller.ID && t.SubjectID != caller.ID {
		if err := s.authz.Allowed(ctx, caller, bulwark.RoleAdmin, bulwark.Resource{}); err != nil {
			return bulwark.Errorf(bulwark.EFORBIDDEN, "token %s is not yours; revoking another's token needs global admin", id)
		}
	}
	return s.store.RevokeToken(ctx, id, s.now())
}

// BootstrapUser is the name of the user BULWARK_ADMIN_TOKEN creates.
const BootstrapUser = "admin"

// Bootstrap makes secret (BULWARK_ADMIN_TOKEN) a token of the user "admin"
// with a global admin binding, creating what is missing; run at every
// start, it changes nothing the second time. A revoked bootstrap token stays
// revoked (ECONFLICT): set a new BULWARK_ADMIN_TOKEN. The secret need not
// start with TokenPrefix but must be at least 32 characters.
func (s *Service) Bootstrap(ctx context.Context, secret string) error {
	if len(secret) < 32 {
		return bulwark.Errorf(bulwark.EINVALID, "BULWARK_ADMIN_TOKEN: %d characters, want at least 32 (try: bwk_ and 43 base64url characters)", len(secret))
	}
	u, err := s.store.UserByName(ctx, BootstrapUser)
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		u = &User{ID: bulwark.NewID(), Name: BootstrapUser, DisplayName: "Bootstrap administrator"}
		err = s.store.CreateUser(ctx, u)
	}
	if err != nil {
		return fmt.Errorf("bootstrap admin user: %w", err)
	}
	b := &bulwark.RoleBinding{ID: bulwark.NewID(), Subject: u.ID, Role: bulwark.RoleAdmin,
		Scope: bulwark.Scope{Kind: bulwark.ScopeGlobal}}
	if err := s.store.CreateRoleBinding(ctx, b); err != nil && bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		return fmt.Errorf("bootstrap admin binding: %w", err)
	}
	t, err := s.store.TokenByHash(ctx, HashSecret(secret))
	switch {
	case bulwark.ErrorCode(err) == bulwark.ENOTFOUND:
		t = &Token{ID: bulwark.NewID(), Hash: HashSecret(secret), Name: "BULWARK_ADMIN_TOKEN", SubjectID: u.ID,
			SubjectKind: bulwark.PrincipalUser, OwnerID: u.ID}
		return s.store.CreateToken(ctx, t)
	case err != nil:
		return fmt.Errorf("bootstrap admin token: %w", err)
	case t.SubjectID != u.ID:
		return bulwark.Errorf(bulwark.ECONFLICT, "BULWARK_ADMIN_TOKEN is already the token of another principal")
	case t.RevokedAt != nil:
		return bulwark.Errorf(bulwark.ECONFLICT, "BULWARK_ADMIN_TOKEN was revoked: set a new one")
	}
	return nil
}
