package hostmgr

import (
	"context"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

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
