package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/engine"
	"github.com/bulwarkhq/bulwark/internal/fault/dep"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// executor applies dep.* faults on the demo's explicit proxies (no root
// needed) and hands every other kind to the host's manager.
type executor struct {
	host    engine.Executor
	proxies map[string]*proxy.Proxy
	now     func() time.Time

	mu   sync.Mutex
	live map[string]*proxyFault
}

type proxyFault struct {
	p     *proxy.Proxy
	fault *bulwark.Fault
}

func (e *executor) Hosts(ctx context.Context) ([]engine.Host, error) { return e.host.Hosts(ctx) }

// Inject implements engine.Executor.
func (e *executor) Inject(ctx context.Context, h engine.Host, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	p, ok := e.proxies[dep.Target(spec)]
	if !ok {
		return e.host.Inject(ctx, h, spec)
	}
	id := bulwark.NewID()
	pf, err := dep.ProxyFault(spec, id)
	if err != nil {
		return nil, err
	}
	if err := p.AddFault(pf); err != nil {
		return nil, fmt.Errorf("add %s to the proxy: %w", spec.Kind, err)
	}
	now := e.now().UTC()
	exp := now.Add(spec.Duration.Std())
	f := &bulwark.Fault{
		ID: id, Kind: spec.Kind, Params: spec.Params, Target: spec.Target, State: bulwark.StateActive,
		Duration: spec.Duration, CreatedAt: now, ActiveAt: &now, ExpiresAt: &exp,
		Evidence: []bulwark.Evidence{verifyProxy(p, id, now)},
	}
	e.mu.Lock()
	e.live[id] = &proxyFault{p: p, fault: f}
	e.mu.Unlock()
	return f, nil
}

// verifyProxy reads the fault back from the proxy.
func verifyProxy(p *proxy.Proxy, id string, now time.Time) bulwark.Evidence {
	for _, f := range p.Faults() {
		if f.ID == id {
			return bulwark.Evidence{Time: now, Check: "explicit proxy", OK: true, Detail: fmt.Sprintf("fault %s (%s) active on the proxy", id, f.Type)}
		}
	}
	return bulwark.Evidence{Time: now, Check: "explicit proxy", OK: false, Detail: "fault not found on the proxy"}
}

// Recover implements engine.Executor.
func (e *executor) Recover(ctx context.Context, h engine.Host, id string) (*bulwark.Fault, error) {
	e.mu.Lock()
	pf, ok := e.live[id]
	delete(e.live, id)
	e.mu.Unlock()
	if !ok {
		return e.host.Recover(ctx, h, id)
	}
	if err := pf.p.RemoveFault(id); err != nil {
		return nil, fmt.Errorf("remove fault from the proxy: %w", err)
	}
	for _, f := range pf.p.Faults() {
		if f.ID == id {
			return nil, fmt.Errorf("fault %s still on the proxy", id)
		}
	}
	f := *pf.fault
	now := e.now().UTC()
	f.State, f.EndedAt, f.EndReason = bulwark.StateRecovered, &now, "recovered"
	f.Evidence = append(f.Evidence, bulwark.Evidence{Time: now, Check: "explicit proxy", OK: true, Detail: "fault removed from the proxy"})
	return &f, nil
}
