package hostmgr

import (
	"context"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// NeedsTend reports whether Tend has anything to do for these records: an
// active fault whose kind has a Guard hook. The guard asks before it takes
// the state lock to tend.
func NeedsTend(recs []*journal.Record) bool {
	for _, r := range recs {
		if r.Fault.State != bulwark.StateActive {
			continue
		}
		if k, err := fault.Lookup(r.Fault.Kind); err == nil {
			if _, ok := k.(fault.Guarder); ok {
				return true
			}
		}
	}
	return false
}

// Tend runs the Guard hook of every active fault whose kind has one (the
// guard calls it about once a second). A failing hook is logged; the fault
// stays active until its deadline or a recover.
func (m *Manager) Tend(ctx context.Context) {
	_ = m.serialise(ctx, func() error {
		for _, r := range m.journal.Live() {
			if r.Fault.State != bulwark.StateActive {
				continue
			}
			k, err := m.kindFor(r)
			if err != nil {
				continue
			}
			g, ok := k.(fault.Guarder)
			if !ok {
				continue
			}
			if err := inNetNS(r.Receipt, func() error { return g.Guard(ctx, m.host, r.Receipt) }); err != nil {
				m.log.Warn("guard hook", "id", r.Fault.ID, "kind", r.Fault.Kind, "err", err)
			}
		}
		return nil
	})
}
