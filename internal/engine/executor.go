package engine

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// Host is one host a drill can select: its name, addresses and labels
// (the reserved ones, env, system, unit and zone, come from the inventory).
type Host struct {
	Name   string            `json:"name"`
	IPs    []string          `json:"ips,omitempty"`
	Labels map[string]string `json:"labels"`
}

// Executor applies and recovers faults on hosts. Implementations are safe
// for concurrent use.
type Executor interface {
	// Hosts lists the hosts the executor can act on.
	Hosts(ctx context.Context) ([]Host, error)
	// Inject applies spec on host and returns once it is verified active.
	Inject(ctx context.Context, host Host, spec bulwark.FaultSpec) (*bulwark.Fault, error)
	// Recover undoes a fault and returns it verified recovered, or an error
	// (the fault is then stuck on the host and the run's verdict is error).
	Recover(ctx context.Context, host Host, id string) (*bulwark.Fault, error)
}

// LocalExecutor runs faults on this host through its host manager. It
// opens the manager for each call, so the guard and other bulwark commands
// can use the state directory between steps.
type LocalExecutor struct {
	Host Host
	// Open opens this host's manager.
	Open func(ctx context.Context) (*hostmgr.Manager, error)
}

// Hosts returns the one local host.
func (e *LocalExecutor) Hosts(context.Context) ([]Host, error) { return []Host{e.Host}, nil }

// Inject implements Executor.
func (e *LocalExecutor) Inject(ctx context.Context, _ Host, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	m, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Inject(ctx, spec)
}

// Recover implements Executor.
func (e *LocalExecutor) Recover(ctx context.Context, _ Host, id string) (*bulwark.Fault, error) {
	m, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	out, err := m.Recover(ctx, id)
	if len(out) == 1 {
		return out[0], err
	}
	return nil, err
}

func (e *LocalExecutor) open(ctx context.Context) (*hostmgr.Manager, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return e.Open(ctx)
}
