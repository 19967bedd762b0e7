package agentgw

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// markDirtyLocked queues an agent for the next coalesced write. g.mu must be
// held for writing.
func (g *Gateway) markDirtyLocked(id string) { g.dirty[id] = true }

func (g *Gateway) flushLoop() {
	defer g.flushWG.Done()
	t := time.NewTicker(g.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := g.Flush(ctx); err != nil {
				g.log.Error("write agents", "err", err)
			}
			cancel()
		}
	}
}

// Flush writes every changed agent now, in one transaction. On failure the
// agents stay queued for the next attempt.
func (g *Gateway) Flush(ctx context.Context) error {
	g.mu.Lock()
	if len(g.dirty) == 0 {
		g.mu.Unlock()
		return nil
	}
	batch := make([]*agentstore.Agent, 0, len(g.dirty))
	ids := make([]string, 0, len(g.dirty))
	for id := range g.dirty {
		if a, ok := g.agents[id]; ok {
			batch = append(batch, a.rec.Clone())
			ids = append(ids, id)
		}
	}
	clear(g.dirty)
	g.mu.Unlock()
	if err := g.cfg.Store.PutAgents(ctx, batch); err != nil {
		g.mu.Lock()
		for _, id := range ids {
			g.dirty[id] = true
		}
		g.mu.Unlock()
		return err
	}
	return nil
}
