package hostmgr

import (
	"context"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/crashpoint"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// Sweep recovers every live fault that is due: expired, interrupted in the
// middle of an inject or a recovery, stuck and due for a retry, or left over
// from an earlier boot. It returns the faults it acted on.
func (m *Manager) Sweep(ctx context.Context) ([]*bulwark.Fault, error) {
	var out []*bulwark.Fault
	err := m.serialise(ctx, func() error {
		out = m.sweepLocked(ctx)
		return nil
	})
	return out, err
}

func (m *Manager) sweepLocked(ctx context.Context) []*bulwark.Fault {
	var out []*bulwark.Fault
	now := bootNow()
	for _, r := range m.journal.Live() {
		reason, due := m.due(r, now)
		if !due {
			continue
		}
		crashpoint.Hit(crashpoint.GuardMidSweep)
		m.sweepOne(ctx, r, reason)
		f := r.Fault
		out = append(out, &f)
	}
	return out
}

// due says whether a record needs the sweep now, and why.
func (m *Manager) due(r *journal.Record, now int64) (string, bool) {
	switch s := r.Fault.State; {
	case !s.Live():
		return "", false
	case r.BootID != m.bootID:
		return "reboot", true
	case s == bulwark.StateInjecting:
		return "inject interrupted", true
	case s == bulwark.StateRecovering:
		return "recovery interrupted", true
	case s == bulwark.StateStuck:
		return "retry", now >= r.RetryBoot
	default:
		return "expired", now >= r.DeadlineBoot
	}
}

func (m *Manager) sweepOne(ctx context.Context, r *journal.Record, reason string) {
	k, err := m.kindFor(r)
	if err != nil {
		m.markStuck(r, err)
		return
	}
	if reason == "reboot" && k.Info().Outlives.EndsAtReboot() {
		m.endByReboot(r)
		return
	}
	wasInjecting := r.Fault.State == bulwark.StateInjecting
	m.recoverRecord(ctx, k, r, reason)
	if wasInjecting && r.Fault.State == bulwark.StateRecovered {
		r.Fault.State = bulwark.StateFailed
		if err := m.journal.Put(r); err != nil {
			m.log.Error("journal failed fault", "id", r.Fault.ID, "err", err)
		}
	}
}

// endByReboot records that a reboot undid a fault whose effect lived in the
// kernel or in a process.
func (m *Manager) endByReboot(r *journal.Record) {
	now := m.host.Now().UTC()
	r.Fault.State, r.Fault.EndedAt, r.Fault.EndReason = bulwark.StateRecovered, &now, "ended by reboot"
	r.Fault.Evidence = append(r.Fault.Evidence, fault.Evidence("reboot", true, "boot id changed from %s to %s", r.BootID, m.bootID))
	if err := m.journal.Put(r); err != nil {
		m.log.Error("journal rebooted fault", "id", r.Fault.ID, "err", err)
	}
}
