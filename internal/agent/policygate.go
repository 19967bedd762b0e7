package agent

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/policy"
)

// PolicyGate is the LocalGate `bulwark agent` runs with: for a
// production-class environment it builds internal/policy's local gate
// (kinds, parameter caps, the calendar) from the policy and calendar
// documents the server sent, and refuses what it denies. Documents that do
// not parse refuse every production-class fault (fail closed). When the
// server sent neither document the agent has nothing of its own to check
// against and leaves the decision to the server's gate. Faults in an
// environment that is not production-class pass.
type PolicyGate struct {
	// HostID names this host in decisions (the agent id).
	HostID func() string

	mu   sync.Mutex
	key  [32]byte
	gate *policy.Gate
	err  error
}

// Check implements LocalGate.
func (p *PolicyGate) Check(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error {
	if !env.ProductionClass || len(env.Policy) == 0 && len(env.Calendar) == 0 {
		return nil
	}
	g, err := p.build(env)
	if err != nil {
		return bulwark.Errorf(bulwark.EFORBIDDEN, "production-class fault refused: the environment's policy or calendar from the server does not parse: %v", err)
	}
	host := ""
	if p.HostID != nil {
		host = p.HostID()
	}
	_, err = g.CheckFault(ctx, bulwark.Environment{Name: env.Name, ProductionClass: true}, host, spec, from, to)
	return err
}

// build returns the gate for env's documents, rebuilt only when they change.
func (p *PolicyGate) build(env GateEnv) (*policy.Gate, error) {
	h := sha256.New()
	h.Write(env.Policy)
	h.Write([]byte{0})
	h.Write(env.Calendar)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate == nil && p.err == nil || key != p.key {
		p.key = key
		p.gate, p.err = policy.NewLocalGate(env.Policy, env.Calendar)
	}
	return p.gate, p.err
}
