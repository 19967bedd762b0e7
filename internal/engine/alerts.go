package engine

import (
	"context"
	"sync"

	"github.com/bulwarkhq/bulwark"
)

// collectAlerts records every alert that arrives during the run; which of
// them correlate is decided when the measures are computed (contract 4).
func (r *runner) collectAlerts(ctx context.Context) (stop func()) {
	if r.cfg.Alerts == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case a, ok := <-r.cfg.Alerts:
				if !ok {
					return
				}
				r.mu.Lock()
				r.alerts = append(r.alerts, a)
				r.mu.Unlock()
				r.event(ctx, bulwark.EventAlertReceived, map[string]any{"source": a.Source, "title": a.Title, "startsAt": a.StartsAt, "labels": a.Labels})
				if a.AckedAt != nil {
					r.event(ctx, bulwark.EventAlertAcked, map[string]any{"title": a.Title, "ackedAt": a.AckedAt, "by": a.AckedBy})
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
