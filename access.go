package bulwark

// Identity and authorisation vocabulary shared by the server, the policy gate,
// approvals, the audit log and the agent gateway (DESIGN §11, §6.5, §6.8).

// PrincipalKind says what kind of subject made a request.
type PrincipalKind string

// Principal kinds. Only a user is a person: approvals need one (DESIGN §6.5).
const (
	PrincipalUser    PrincipalKind = "user"    // a person, signed in by OIDC or locally with TOTP
	PrincipalAccount PrincipalKind = "account" // an automation account with an owning user
	PrincipalAgent   PrincipalKind = "agent"   // an enrolled agent, by its client certificate
	PrincipalSystem  PrincipalKind = "system"  // the server itself (schedules, expiry)
)

// Principal is the authenticated subject of a request. A token issued to a
// user authenticates as that user (with TokenID set); a token issued to an
// automation account authenticates as the account.
type Principal struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Kind    PrincipalKind `json:"kind"`
	OwnerID string        `json:"ownerId,omitempty"` // an account's owning user
	TokenID string        `json:"tokenId,omitempty"` // the token used, when one was
}

// IsPerson reports whether p is a person (not a token-only account, an agent
// or the system). A user acting through their own API token is still a person.
func (p Principal) IsPerson() bool { return p.Kind == PrincipalUser }

// Role is one of the four roles of DESIGN §11.
type Role string

// Roles, from least to most powerful. approver may approve production-class
// runs in its scope; admin may do everything in its scope, including bindings.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

// ScopeKind says what a role binding's scope names.
type ScopeKind string

// Scope kinds. ScopeGlobal covers everything (the bootstrap admin).
const (
	ScopeGlobal      ScopeKind = "global"
	ScopeSystem      ScopeKind = "system"
	ScopeTeam        ScopeKind = "team"
	ScopeEnvironment ScopeKind = "environment"
)

// Scope is what a role binding applies to: a system, a team (every system the
// team owns) or an environment; Name is empty for ScopeGlobal.
type Scope struct {
	Kind ScopeKind `json:"kind"`
	Name string    `json:"name,omitempty"`
}

// RoleBinding grants Role to Subject (a principal id) within Scope.
type RoleBinding struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
	Scope   Scope  `json:"scope"`
}

// Resource is what an action touches, for scope checks: the system (and the
// team that owns it) and the environment. Empty fields match only global
// bindings and bindings whose kind names a field that is set.
type Resource struct {
	System      string `json:"system,omitempty"`
	Team        string `json:"team,omitempty"`
	Environment string `json:"environment,omitempty"`
}
