package hostmgr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/crashpoint"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// Recover undoes the named faults. Recovering an ended fault is not an error;
// an unknown id is ENOTFOUND. Faults that could not be recovered are stuck and
// are returned with an error.
func (m *Manager) Recover(ctx context.Context, ids ...string) ([]*bulwark.Fault, error) {
	var out []*bulwark.Fault
	err := m.serialise(ctx, func() error {
		m.sweepLocked(ctx)
		var recs []*journal.Record
		for _, id := range ids {
			r, ok := m.journal.Get(id)
			if !ok {
				return bulwark.Errorf(bulwark.ENOTFOUND, "no fault %s in this host's journal", id)
			}
			recs = append(recs, r)
		}
		var err error
		out, err = m.recoverAll(ctx, recs, "recovered")
		return err
	})
	return out, err
}

// RecoverAll undoes every live fault on the host, stuck ones included.
func (m *Manager) RecoverAll(ctx context.Context) ([]*bulwark.Fault, error) {
	var out []*bulwark.Fault
	err := m.serialise(ctx, func() error {
		var err error
		out, err = m.recoverAll(ctx, m.liveRecords(), "recovered")
		return err
	})
	return out, err
}

func (m *Manager) liveRecords() []*journal.Record { return m.journal.Live() }

func (m *Manager) recoverAll(ctx context.Context, recs []*journal.Record, reason string) ([]*bulwark.Fault, error) {
	var out []*bulwark.Fault
	var errs []error
	for _, r := range recs {
		if r.Fault.State.Live() {
			if err := m.recoverOne(ctx, r, reason); err != nil {
				errs = append(errs, err)
			}
		}
		f := r.Fault
		out = append(out, &f)
	}
	return out, errors.Join(errs...)
}

// recoverOne recovers a live record and returns an error if it ends stuck.
func (m *Manager) recoverOne(ctx context.Context, r *journal.Record, reason string) error {
	k, err := m.kindFor(r)
	if err != nil {
		m.markStuck(r, err)
		return fmt.Errorf("recover %s: %w", r.Fault.ID, err)
	}
	m.recoverRecord(ctx, k, r, reason)
	if r.Fault.State == bulwark.StateStuck {
		return fmt.Errorf("recover %s (%s): stuck: %s", r.Fault.ID, r.Fault.Kind, r.Fault.Error)
	}
	return nil
}

// kindFor finds the record's kind and refuses a receipt newer than this
// binary understands.
func (m *Manager) kindFor(r *journal.Record) (fault.Kind, error) {
	k, err := fault.Lookup(r.Fault.Kind)
	if err != nil {
		return nil, err
	}
	if r.Receipt == nil {
		return nil, fmt.Errorf("fault %s has no receipt", r.Fault.ID)
	}
	if v := k.Info().ReceiptVersion; r.Receipt.Version > v {
		return nil, fmt.Errorf("%s receipt v%d, this binary knows up to v%d: %w", r.Fault.Kind, r.Receipt.Version, v, bulwark.ErrNewerReceipt)
	}
	return k, nil
}

// recoverRecord journals "recovering", runs Recover and VerifyRecovered under
// a context that outlives the caller's cancellation, and journals the result:
// recovered, or stuck with a retry time.
func (m *Manager) recoverRecord(ctx context.Context, k fault.Kind, r *journal.Record, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.RecoverTimeout)
	defer cancel()
	if r.Fault.State != bulwark.StateRecovering {
		r.Fault.State = bulwark.StateRecovering
		if err := m.journal.Put(r); err != nil {
			m.markStuck(r, err)
			return
		}
	}
	err := inNetNS(r.Receipt, func() error {
		if err := k.Recover(ctx, m.host, r.Receipt); err != nil {
			return err
		}
		crashpoint.Hit(crashpoint.HalfRecovered)
		ev, err := k.VerifyRecovered(ctx, m.host, r.Receipt)
		r.Fault.Evidence = append(r.Fault.Evidence, ev...)
		return err
	})
	if errors.Is(err, errNetNSGone) && k.Info().Outlives == fault.OutlivesKernel {
		r.Fault.Evidence = append(r.Fault.Evidence, fault.Evidence("netns", true, "the network namespace %s is gone, and the fault's kernel state with it", r.Receipt.NetNS.Path))
		reason, err = reason+" (namespace gone)", nil
	}
	if err != nil {
		m.markStuck(r, err)
		return
	}
	now := m.host.Now().UTC()
	r.Fault.State, r.Fault.EndedAt, r.Fault.EndReason, r.RetryBoot = bulwark.StateRecovered, &now, reason, 0
	if err := m.journal.Put(r); err != nil {
		m.log.Error("journal recovered fault", "id", r.Fault.ID, "err", err)
	}
	m.log.Info("fault recovered", "id", r.Fault.ID, "kind", r.Fault.Kind, "reason", reason)
}

// markStuck records a failed recovery and schedules the next attempt with
// exponential backoff from 1 s up to 5 min.
func (m *Manager) markStuck(r *journal.Record, cause error) {
	r.Fault.Attempts++
	r.Fault.State, r.Fault.Error = bulwark.StateStuck, cause.Error()
	backoff := min(time.Second<<min(r.Fault.Attempts-1, 9), 5*time.Minute)
	r.RetryBoot = bootNow() + int64(backoff)
	if err := m.journal.Put(r); err != nil {
		m.log.Error("journal stuck fault", "id", r.Fault.ID, "err", err)
	}
	m.log.Error("fault stuck in recovery", "id", r.Fault.ID, "kind", r.Fault.Kind, "attempts", r.Fault.Attempts, "retryIn", backoff, "err", cause)
}
