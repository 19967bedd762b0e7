// Package agentstore is what the agent gateway persists: enrolled agents
// with their desired fault sets and epochs, and join tokens (stored hashed).
// The interface lives here, apart from the gRPC gateway, so that the store
// implementations (internal/store/sqlite) import no gRPC; agentstoretest is
// the contract suite every implementation passes.
package agentstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Agent is an enrolled agent as the server keeps it.
type Agent struct {
	ID         string `json:"id"`
	Hostname   string `json:"hostname"`
	StateDir   string `json:"stateDir,omitempty"`
	InstanceID string `json:"instanceId"`
	// Labels are the agent's own labels (never a reserved key).
	Labels map[string]string `json:"labels,omitempty"`
	// Environment and Zone come from the join token the agent enrolled with.
	Environment  string    `json:"environment"`
	Zone         string    `json:"zone,omitempty"`
	JoinTokenID  string    `json:"joinTokenId,omitempty"`
	CertSerial   string    `json:"certSerial,omitempty"`
	CertNotAfter time.Time `json:"certNotAfter,omitzero"`
	EnrolledAt   time.Time `json:"enrolledAt"`
	LastSeen     time.Time `json:"lastSeen,omitzero"`
	// Epoch is the epoch of Desired; it only grows.
	Epoch   uint64         `json:"epoch"`
	Desired []DesiredFault `json:"desired"`
	// RevokedAt, when set, makes the agent's certificate worthless.
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// DesiredFault is one fault the server wants an agent to hold.
type DesiredFault struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"`
	Params   map[string]string `json:"params,omitempty"`
	Target   map[string]string `json:"target,omitempty"`
	Duration bulwark.Duration  `json:"duration"`
	// ExpiresAt, when set, is the latest the fault may stay active.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Clone returns a deep copy of a.
func (a *Agent) Clone() *Agent {
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Desired = slices.Clone(a.Desired)
	return &c
}

// JoinToken lets agents enrol into one environment (and, optionally, one
// zone) until it expires or is revoked. Only its SHA-256 is stored.
type JoinToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Hash        string     `json:"-"`
	Environment string     `json:"environment"`
	Zone        string     `json:"zone,omitempty"`
	CreatedBy   string     `json:"createdBy,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"`
	Uses        int        `json:"uses"`
}

// HashToken returns the stored form of a join token's secret: hex SHA-256.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Store persists agents and join tokens.
//
// Contract, for every implementation:
//   - ctx first; a missing record is ENOTFOUND, a duplicate id, hash or
//     instance id ECONFLICT (test with bulwark.ErrorCode).
//   - Times come back in UTC with nanoseconds.
//   - A nil error means committed. Methods are safe for concurrent use.
type Store interface {
	// CreateJoinToken stores a new token (by its hash).
	CreateJoinToken(ctx context.Context, t *JoinToken) error
	// JoinTokenByHash returns the token with the given hash, revoked or
	// expired ones included (the caller decides), or ENOTFOUND.
	JoinTokenByHash(ctx context.Context, hash string) (*JoinToken, error)
	// JoinTokens lists every token, newest first.
	JoinTokens(ctx context.Context) ([]*JoinToken, error)
	// RevokeJoinToken marks the token revoked at the store's time; revoking
	// twice is not an error. Unknown id: ENOTFOUND.
	RevokeJoinToken(ctx context.Context, id string) error
	// UseJoinToken adds one to the token's use count.
	UseJoinToken(ctx context.Context, id string) error

	// CreateAgent stores a newly enrolled agent.
	CreateAgent(ctx context.Context, a *Agent) error
	// PutAgents replaces the stored agents with the given ones in one
	// transaction (the gateway's coalesced write of epochs, desired sets,
	// labels and last-seen times). Unknown ids are ENOTFOUND and nothing is
	// written.
	PutAgents(ctx context.Context, agents []*Agent) error
	// FindAgent returns the agent with the given id, or ENOTFOUND.
	FindAgent(ctx context.Context, id string) (*Agent, error)
	// FindAgentByInstance returns the agent with the given instance id, or
	// ENOTFOUND.
	FindAgentByInstance(ctx context.Context, instanceID string) (*Agent, error)
	// Agents lists every agent, by id.
	Agents(ctx context.Context) ([]*Agent, error)
}
