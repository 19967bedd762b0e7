package engine

import (
	"context"
	"fmt"
	"sort"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
)

// Plan is what a run will do: the hosts each fault step lands on, chosen
// once per run.
type Plan struct {
	Hosts []Host                 `json:"hosts"`
	Steps map[*drill.Step][]Host `json:"-"`
	// Faults lists the fault steps in file order, for printing.
	Faults []PlannedFault `json:"faults"`
}

// PlannedFault is one fault step and its hosts.
type PlannedFault struct {
	Path   string            `json:"path"`
	Kind   string            `json:"kind"`
	Params map[string]string `json:"params,omitempty"`
	Hosts  []string          `json:"hosts"`
}

// resolve selects the hosts of every fault step and checks the union
// against the blast radius (contract 1). Nothing is injected yet.
func (r *runner) resolve(ctx context.Context) error {
	all, err := r.cfg.Executor.Hosts(ctx)
	if err != nil {
		return fmt.Errorf("list hosts: %w", err)
	}
	p := &Plan{Steps: map[*drill.Step][]Host{}}
	union := map[string]Host{}
	err = drill.Walk(r.d.Spec.Steps, func(s *drill.Step) error {
		if s.Kind() != drill.StepFault {
			return nil
		}
		hosts, err := selectHosts(all, r.selector(s), r.rng, s.Path+".select")
		if err != nil {
			return err
		}
		p.Steps[s] = hosts
		pf := PlannedFault{Path: s.Path, Kind: s.Fault, Params: s.Params}
		for _, h := range hosts {
			union[h.Name] = h
			pf.Hosts = append(pf.Hosts, h.Name)
		}
		p.Faults = append(p.Faults, pf)
		return nil
	})
	if err != nil {
		return err
	}
	for _, h := range union {
		p.Hosts = append(p.Hosts, h)
	}
	sort.Slice(p.Hosts, func(i, j int) bool { return p.Hosts[i].Name < p.Hosts[j].Name })
	r.plan = p
	return r.checkBlastRadius(len(all))
}

// selector is the step's select, or the drill's default: the hosts of its
// system in its environment, all of them.
func (r *runner) selector(s *drill.Step) bulwark.Selector {
	if s.Select != nil {
		return *s.Select
	}
	return bulwark.Selector{
		Labels: map[string]string{"system": r.d.Metadata.System, "env": r.d.Metadata.Environment},
		Mode:   "all",
	}
}

func (r *runner) checkBlastRadius(total int) error {
	br := r.d.Spec.BlastRadius
	maxHosts := drill.DefaultMaxHosts
	if br != nil {
		maxHosts = br.MaxHosts
	}
	n := len(r.plan.Hosts)
	if n > maxHosts {
		return &PlanError{Field: "spec.blastRadius.maxHosts", OverBlastRadius: true,
			Message: fmt.Sprintf("the steps select %d hosts, over the limit of %d (refused, not truncated)", n, maxHosts)}
	}
	if br != nil && br.MaxPercent != nil && total > 0 && float64(n)*100/float64(total) > float64(*br.MaxPercent) {
		return &PlanError{Field: "spec.blastRadius.maxPercent", OverBlastRadius: true,
			Message: fmt.Sprintf("the steps select %d of %d hosts, over %s%%", n, total, br.MaxPercent)}
	}
	return nil
}
