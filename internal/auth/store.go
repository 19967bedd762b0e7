package auth

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// User is a person: a local user (password and TOTP) or an OIDC user
// (Issuer and Subject from the identity provider, provisioned on first login).
type User struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	DisplayName  string    `json:"displayName,omitempty"`
	Email        string    `json:"email,omitempty"`
	PasswordHash string    `json:"-"` // argon2id, PHC string; empty: no local password
	Issuer       string    `json:"issuer,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	Disabled     bool      `json:"disabled,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Account is an automation account. It acts with its own role bindings, but
// never with more than its owning user holds (see Authorizer).
type Account struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	OwnerID   string    `json:"ownerId"`
	CreatedAt time.Time `json:"createdAt"`
}

// Token is an API token as stored: only the SHA-256 of its secret is kept.
// SubjectID is a user (Kind user) or an account (Kind account); OwnerID is
// the user who may list and revoke it (the user itself, or the account's
// owner).
type Token struct {
	ID          string                `json:"id"`
	Hash        string                `json:"-"`
	Name        string                `json:"name"`
	SubjectID   string                `json:"subjectId"`
	SubjectKind bulwark.PrincipalKind `json:"subjectKind"`
	OwnerID     string                `json:"ownerId"`
	CreatedAt   time.Time             `json:"createdAt"`
	ExpiresAt   *time.Time            `json:"expiresAt,omitempty"`
	RevokedAt   *time.Time            `json:"revokedAt,omitempty"`
}

// Session is a browser session as stored: only the SHA-256 of the cookie's
// random id is kept.
type Session struct {
	Hash      string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// TOTP is a user's second factor. Secret is opaque to the store (the Service
// encrypts it when it has a key); LastStep is the newest 30-second step a
// code was accepted for, so a code is never accepted twice.
type TOTP struct {
	UserID    string
	Secret    []byte
	Confirmed bool
	LastStep  int64
}

// Store keeps users, accounts, tokens, sessions, TOTP secrets and role
// bindings. internal/store/sqlite implements it; internal/auth/authtest is
// its contract suite.
//
// Contract, for every implementation:
//   - Every method takes ctx first and gives up when it is done.
//   - A missing record is an *bulwark.Error with code ENOTFOUND; a duplicate
//     (user name, OIDC issuer+subject, account name per owner, token hash,
//     identical role binding) is ECONFLICT. Callers test with ErrorCode.
//   - Times come back in UTC; when a write returns nil it is committed.
//   - Methods are safe for concurrent use.
type Store interface {
	// CreateUser stores a new user; it sets CreatedAt and UpdatedAt.
	CreateUser(ctx context.Context, u *User) error
	// UpdateUser replaces the mutable fields (DisplayName, Email,
	// PasswordHash, Disabled) and sets UpdatedAt.
	UpdateUser(ctx context.Context, u *User) error
	// UserByID returns the user with the id, or ENOTFOUND.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByName returns the user with the name, or ENOTFOUND.
	UserByName(ctx context.Context, name string) (*User, error)
	// UserBySubject returns the OIDC user with the issuer and subject.
	UserBySubject(ctx context.Context, issuer, subject string) (*User, error)
	// Users returns every user by name.
	Users(ctx context.Context) ([]*User, error)

	// PutTOTP stores or replaces the user's TOTP secret, unconfirmed and
	// with LastStep 0.
	PutTOTP(ctx context.Context, userID string, secret []byte) error
	// TOTP returns the user's TOTP, or ENOTFOUND when none is enrolled.
	TOTP(ctx context.Context, userID string) (*TOTP, error)
	// UseTOTPStep records that a code for step was accepted and confirms
	// the secret, atomically and only if step is newer than LastStep;
	// otherwise it is ECONFLICT (a replay).
	UseTOTPStep(ctx context.Context, userID string, step int64) error

	// CreateAccount stores a new account; it sets CreatedAt. The owner
	// must exist (ENOTFOUND otherwise).
	CreateAccount(ctx context.Context, a *Account) error
	// AccountByID returns the account, or ENOTFOUND.
	AccountByID(ctx context.Context, id string) (*Account, error)

	// CreateToken stores a new token; it sets CreatedAt.
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with the hash, expired and revoked
	// ones included, or ENOTFOUND.
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// TokenByID returns the token, or ENOTFOUND.
	TokenByID(ctx context.Context, id string) (*Token, error)
	// TokensByOwner returns the owner's tokens, newest first.
	TokensByOwner(ctx context.Context, ownerID string) ([]*Token, error)
	// RevokeToken sets RevokedAt to at; revoking a revoked token keeps its
	// first RevokedAt and is not an error. A missing token is ENOTFOUND.
	RevokeToken(ctx context.Context, id string, at time.Time) error

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session, expired ones included, or
	// ENOTFOUND.
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	// DeleteSession removes the session; a missing one is not an error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes sessions that expired before now and
	// returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// CreateRoleBinding stores a new binding (ID set by the caller).
	CreateRoleBinding(ctx context.Context, b *bulwark.RoleBinding) error
	// DeleteRoleBinding removes the binding, or ENOTFOUND.
	DeleteRoleBinding(ctx context.Context, id string) error
	// RoleBindingByID returns the binding, or ENOTFOUND.
	RoleBindingByID(ctx context.Context, id string) (*bulwark.RoleBinding, error)
	// RoleBindings returns the bindings of subject, or every binding when
	// subject is empty, ordered by id.
	RoleBindings(ctx context.Context, subject string) ([]*bulwark.RoleBinding, error)
}
