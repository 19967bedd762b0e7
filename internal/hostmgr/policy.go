package hostmgr

import (
	"context"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Policy decides whether a fault may be injected on this host. It is the
// local end of DESIGN §6.8's policy gate; the control plane will supply a
// real one (environment, calendar, caps). Path roots and the process
// deny-list are enforced by the kinds through fault.Host.
type Policy interface {
	// Allow returns nil or an error saying why not (an *bulwark.Error with
	// code EINVALID or EFORBIDDEN).
	Allow(ctx context.Context, spec bulwark.FaultSpec) error
}

// LocalPolicy is the standalone host's policy: a maximum duration and kinds
// that are switched off.
type LocalPolicy struct {
	MaxDuration time.Duration
	DenyKinds   []string
}

// DefaultMaxDuration is the longest fault a standalone host accepts.
const DefaultMaxDuration = time.Hour

// Allow implements Policy.
func (p LocalPolicy) Allow(_ context.Context, spec bulwark.FaultSpec) error {
	max := p.MaxDuration
	if max == 0 {
		max = DefaultMaxDuration
	}
	switch d := spec.Duration.Std(); {
	case d <= 0:
		return bulwark.Errorf(bulwark.EINVALID, "--duration: every fault needs a duration above zero")
	case d > max:
		return bulwark.Errorf(bulwark.EINVALID, "--duration: %s is over the maximum of %s (refused, not truncated)", d, max)
	}
	if slices.Contains(p.DenyKinds, spec.Kind) {
		return bulwark.Errorf(bulwark.EFORBIDDEN, "%s is not allowed on this host by policy", spec.Kind)
	}
	return nil
}
