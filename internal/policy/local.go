package policy

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
)

// NewLocalGate builds the agent's own gate (Gate.Local) from the documents
// the server sent for the agent's environment: a policy file (empty: the
// built-in policies) and a calendar file (empty: none, which a
// production-class environment refuses). The calendar becomes the default
// for a policy that names none.
func NewLocalGate(policyDoc, calendarDoc []byte) (*Gate, error) {
	g := &Gate{Local: true, Calendars: map[string]*calendar.Calendar{}}
	if len(calendarDoc) > 0 {
		c, err := calendar.Parse("calendar", calendarDoc)
		if err != nil {
			return nil, err
		}
		g.Calendars[c.Name()] = c
		g.DefaultCalendar = c.Name()
	}
	var ps []*Policy
	if len(policyDoc) > 0 {
		p, err := Parse("policy", policyDoc)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	set, err := NewSet(ps...)
	if err != nil {
		return nil, err
	}
	g.Policies = set
	return g, nil
}

// CheckFault decides one fault on the agent's own host, over [from, to]
// plus the policy's recovery margin. Use it with a Local gate: it returns
// nil to allow, or an EFORBIDDEN *bulwark.Error listing the reasons, and the
// decision for the agent's log.
func (g *Gate) CheckFault(ctx context.Context, env bulwark.Environment, hostID string, spec bulwark.FaultSpec, from, to time.Time) (Decision, error) {
	params := make(map[string]any, len(spec.Params))
	for k, v := range spec.Params {
		params[k] = v
	}
	d := g.Decide(ctx, Request{
		Principal: bulwark.Principal{ID: "server", Kind: bulwark.PrincipalSystem},
		Action:    ActionFaultInject, Kind: spec.Kind, Params: params,
		Targets: []Target{{HostID: hostID, Environment: env}},
		Start:   from, Duration: to.Sub(from),
	})
	return d, d.Err()
}
