package agentgw

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// JoinTokenRequest asks for a new join token.
type JoinTokenRequest struct {
	Name        string        `json:"name"`
	Environment string        `json:"environment"`
	Zone        string        `json:"zone,omitempty"`
	TTL         time.Duration `json:"-"`
	CreatedBy   string        `json:"-"`
}

// MaxJoinTokenTTL is the longest a join token may live.
const MaxJoinTokenTTL = 90 * 24 * time.Hour

// DefaultJoinTokenTTL is a join token's life when the request gives none.
const DefaultJoinTokenTTL = 24 * time.Hour

// BootstrapJoinTokenTTL is the life of the BULWARK_AGENT_TOKEN join token,
// counted from the server's first start with it: long enough to set up a
// trial, short enough that a forgotten environment variable stops enrolling.
const BootstrapJoinTokenTTL = 30 * 24 * time.Hour

// tokenPrefix marks join tokens so that they are recognisable in logs and
// by secret scanners.
const tokenPrefix = "bwj_"

// CreateJoinToken makes a join token scoped to an environment (and
// optionally a zone) and returns its secret, which is shown once: only its
// SHA-256 is stored. The server exposes it at POST /api/v1/agents/jointokens.
func (g *Gateway) CreateJoinToken(ctx context.Context, req JoinTokenRequest) (string, *agentstore.JoinToken, error) {
	if err := checkTokenRequest(&req); err != nil {
		return "", nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t, err := g.storeToken(ctx, req, secret)
	return secret, t, err
}

func checkTokenRequest(req *JoinTokenRequest) error {
	req.Environment = strings.TrimSpace(req.Environment)
	switch {
	case req.Environment == "":
		return bulwark.Errorf(bulwark.EINVALID, "environment: a join token is scoped to one environment; name it")
	case req.TTL < 0 || req.TTL > MaxJoinTokenTTL:
		return bulwark.Errorf(bulwark.EINVALID, "ttl: must be between 0 and %s, not %s", MaxJoinTokenTTL, req.TTL)
	case req.TTL == 0:
		req.TTL = DefaultJoinTokenTTL
	}
	if req.Name == "" {
		req.Name = req.Environment
	}
	return nil
}

func (g *Gateway) storeToken(ctx context.Context, req JoinTokenRequest, secret string) (*agentstore.JoinToken, error) {
	now := g.cfg.Now().UTC()
	t := &agentstore.JoinToken{
		ID: bulwark.NewID(), Name: req.Name, Hash: agentstore.HashToken(secret), Environment: req.Environment,
		Zone: req.Zone, CreatedBy: req.CreatedBy, CreatedAt: now, ExpiresAt: now.Add(req.TTL),
	}
	if err := g.cfg.Store.CreateJoinToken(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// BootstrapJoinToken makes sure the given secret (BULWARK_AGENT_TOKEN) is a
// join token into the non-production simulation environment. An existing
// token with that secret is kept as it is (revoked or expired stays so); a
// new one lives for ttl (BootstrapJoinTokenTTL when 0).
func (g *Gateway) BootstrapJoinToken(ctx context.Context, secret string, ttl time.Duration) (*agentstore.JoinToken, error) {
	if len(secret) < 16 {
		return nil, bulwark.Errorf(bulwark.EINVALID, "BULWARK_AGENT_TOKEN: must be at least 16 characters")
	}
	t, err := g.cfg.Store.JoinTokenByHash(ctx, agentstore.HashToken(secret))
	if err == nil {
		return t, nil
	}
	if bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		return nil, err
	}
	if ttl == 0 {
		ttl = BootstrapJoinTokenTTL
	}
	req := JoinTokenRequest{Name: "bootstrap (BULWARK_AGENT_TOKEN)", Environment: SimulationEnv, TTL: ttl, CreatedBy: "system"}
	if err := checkTokenRequest(&req); err != nil {
		return nil, err
	}
	return g.storeToken(ctx, req, secret)
}

// RevokeJoinToken revokes a join token; agents already enrolled keep their
// certificates.
func (g *Gateway) RevokeJoinToken(ctx context.Context, id string) error {
	return g.cfg.Store.RevokeJoinToken(ctx, id)
}

// JoinTokens lists join tokens (never their secrets), newest first.
func (g *Gateway) JoinTokens(ctx context.Context) ([]*agentstore.JoinToken, error) {
	return g.cfg.Store.JoinTokens(ctx)
}
