package agentgw

import (
	"context"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// RevokeAgent revokes an agent: its session ends now, and its certificate
// no longer opens a session, renews, or re-enrols the same instance. The
// revocation is written before it returns. The agent's lease then recovers
// what it holds. Revoking twice is not an error.
func (g *Gateway) RevokeAgent(ctx context.Context, id string) error {
	g.mu.Lock()
	a, ok := g.agents[id]
	if !ok {
		g.mu.Unlock()
		return bulwark.Errorf(bulwark.ENOTFOUND, "no agent %s", id)
	}
	if a.rec.RevokedAt == nil {
		now := g.cfg.Now().UTC()
		a.rec.RevokedAt = &now
	}
	rec := a.rec.Clone()
	if a.sess != nil {
		close(a.sess.kill)
		a.sess, a.status = nil, StatusDisconnected
		g.haltUpdateLocked(id, a)
		g.notifyLocked()
	}
	g.mu.Unlock()
	return g.cfg.Store.PutAgents(ctx, []*agentstore.Agent{rec})
}
