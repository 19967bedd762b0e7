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
// TODO(issue 7): plug in internal/calendar and internal/policy once they are
// in the tree: parse env.Calendar with calendar.Parse and env.Policy with
// the policy package, and refuse when env.ProductionClass and the interval
// touches a blackout (or the calendar is past validThrough). Until then the
// agent runs with no gate unless its caller passes one.
type LocalGate interface {
	Check(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error
}

// GateFunc adapts a function to LocalGate.
type GateFunc func(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error

// Check implements LocalGate.
func (f GateFunc) Check(ctx context.Context, env GateEnv, spec bulwark.FaultSpec, from, to time.Time) error {
	return f(ctx, env, spec, from, to)
}
