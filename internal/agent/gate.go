package agent

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// GateEnv is what the agent holds about its environment from the server's
// last desired state: its name, whether it is production-class, and the
// environment's policy and calendar documents (empty when it has none).
type GateEnv struct {
	Name            string
	ProductionClass bool
	Policy          []byte
	Calendar        []byte
}

// LocalGate is the agent's own defence-in-depth check (DESIGN §4.1): it
// refuses, for example, a production-class fault inside a calendar blackout
// even when a server asks. Check returns nil to allow, or an error saying
// why not; from and to are the fault's planned interval.
//
// PolicyGate is the implementation `bulwark agent` uses (internal/policy's
// local gate over the documents the server sends).
type LocalGate interface {
	Check(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error
}

// GateFunc adapts a function to LocalGate.
type GateFunc func(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error

// Check implements LocalGate.
func (f GateFunc) Check(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error {
	return f(ctx, env, spec, from, to)
}
