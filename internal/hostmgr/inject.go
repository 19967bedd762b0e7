package hostmgr

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/crashpoint"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

// helperSlack is how much longer than the fault's duration a helper may live
// before it exits by itself: the time Apply and Verify may take, since the
// duration starts only once the fault is verified.
const helperSlack = 10 * time.Second

// Inject validates spec, applies the fault and returns once it is verified
// active. Bad input is an *bulwark.Error with code EINVALID (or a
// *fault.ParamError) and leaves nothing in the journal; a fault that fails to
// apply or verify is recovered and recorded as failed.
func (m *Manager) Inject(ctx context.Context, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	var out *bulwark.Fault
	err := m.serialise(ctx, func() error {
		m.sweepLocked(ctx)
		k, rec, err := m.prepare(ctx, spec)
		if err != nil {
			return err
		}
		f, err := m.apply(ctx, k, rec)
		out = f
		return err
	})
	if err == nil && m.cfg.OnLive != nil {
		m.cfg.OnLive(ctx, out)
	}
	return out, err
}

// prepare runs every check that can refuse the fault and the kind's Prepare,
// and returns the record to journal. It changes nothing.
func (m *Manager) prepare(ctx context.Context, spec bulwark.FaultSpec) (fault.Kind, *journal.Record, error) {
	k, err := fault.Lookup(spec.Kind)
	if err != nil {
		return nil, nil, err
	}
	info := k.Info()
	if !info.Supports(runtime.GOOS) {
		return nil, nil, bulwark.Errorf(bulwark.EINVALID, "%s is not available on %s", info.ID, runtime.GOOS)
	}
	if a, ok := k.(fault.Availability); ok {
		if err := a.Available(ctx, m.host); err != nil {
			return nil, nil, bulwark.Errorf(bulwark.EINVALID, "%s is not available on this host: %v", info.ID, err)
		}
	}
	values, err := mergeTarget(spec)
	if err != nil {
		return nil, nil, err
	}
	params, err := fault.Decode(info, values)
	if err != nil {
		return nil, nil, err
	}
	if err := m.cfg.Policy.Allow(ctx, spec); err != nil {
		return nil, nil, err
	}
	id, err := m.faultID(spec)
	if err != nil {
		return nil, nil, err
	}
	now := m.host.Now().UTC()
	receipt, err := k.Prepare(ctx, m.host, fault.Request{
		ID: id, Params: params, Duration: spec.Duration.Std(),
		Deadline: now.Add(spec.Duration.Std() + helperSlack),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("prepare %s: %w", info.ID, err)
	}
	if err := m.checkConflict(info, receipt.Resource); err != nil {
		return nil, nil, err
	}
	receipt.BootID = m.bootID
	receipt.NetNS = currentNetNS(m.host)
	return k, &journal.Record{
		Fault: bulwark.Fault{
			ID: id, Kind: info.ID, Params: fault.Encode(params), Target: spec.Target,
			State: bulwark.StateInjecting, Resource: receipt.Resource,
			Duration: spec.Duration, CreatedAt: now,
		},
		Receipt: receipt,
		BootID:  m.bootID,
	}, nil
}

// faultID returns the spec's own id, checked, or a new one.
func (m *Manager) faultID(spec bulwark.FaultSpec) (string, error) {
	switch {
	case spec.ID == "":
		return bulwark.NewID(), nil
	case !bulwark.ValidID(spec.ID):
		return "", bulwark.Errorf(bulwark.EINVALID, "fault id %q is not a bulwark id", spec.ID)
	}
	if _, ok := m.journal.Get(spec.ID); ok {
		return "", bulwark.Errorf(bulwark.ECONFLICT, "fault %s is already in this host's journal", spec.ID)
	}
	return spec.ID, nil
}

// mergeTarget joins a spec's target fields into its params; a name given in
// both is an error.
func mergeTarget(spec bulwark.FaultSpec) (map[string]string, error) {
	values := maps.Clone(spec.Params)
	if values == nil {
		values = map[string]string{}
	}
	for k, v := range spec.Target {
		if _, dup := values[k]; dup {
			return nil, &fault.ParamError{Param: k, Message: "given both as a parameter and in the target"}
		}
		values[k] = v
	}
	return values, nil
}

func (m *Manager) checkConflict(info fault.KindInfo, resource string) error {
	if resource == "" {
		return nil
	}
	for _, r := range m.journal.Live() {
		if r.Fault.Resource != resource {
			continue
		}
		if r.Fault.State == bulwark.StateStuck {
			return bulwark.Errorf(bulwark.ECONFLICT, "%s: fault %s on the same resource is stuck in recovery; resolve it first", resource, r.Fault.ID)
		}
		if !info.Composes || r.Fault.Kind != info.ID {
			return bulwark.Errorf(bulwark.ECONFLICT, "%s: fault %s (%s) already acts on it", resource, r.Fault.ID, r.Fault.Kind)
		}
	}
	return nil
}

// apply journals the record, applies and verifies. On any failure after the
// journal write it recovers and records the fault failed.
func (m *Manager) apply(ctx context.Context, k fault.Kind, rec *journal.Record) (*bulwark.Fault, error) {
	if err := m.journal.Put(rec); err != nil {
		return nil, err
	}
	crashpoint.Hit(crashpoint.JournaledNotApplied)
	applyErr := k.Apply(ctx, m.host, rec.Receipt)
	if err := m.journal.Put(rec); err != nil && applyErr == nil {
		applyErr = err
	}
	crashpoint.Hit(crashpoint.AppliedNotMarked)
	var ev []bulwark.Evidence
	if applyErr == nil {
		ev, applyErr = k.Verify(ctx, m.host, rec.Receipt)
		rec.Fault.Evidence = append(rec.Fault.Evidence, ev...)
	}
	if applyErr != nil {
		return m.failInject(ctx, k, rec, applyErr)
	}
	now := m.host.Now().UTC()
	exp := now.Add(rec.Fault.Duration.Std())
	rec.Fault.State, rec.Fault.ActiveAt, rec.Fault.ExpiresAt = bulwark.StateActive, &now, &exp
	rec.DeadlineBoot = bootNow() + int64(rec.Fault.Duration)
	if err := m.journal.Put(rec); err != nil {
		return m.failInject(ctx, k, rec, err)
	}
	f := rec.Fault
	m.log.Info("fault active", "id", f.ID, "kind", f.Kind, "expiresAt", exp)
	return &f, nil
}

// failInject undoes whatever Apply did and ends the fault failed, or stuck
// when the undo itself fails.
func (m *Manager) failInject(ctx context.Context, k fault.Kind, rec *journal.Record, cause error) (*bulwark.Fault, error) {
	rec.Fault.Error = cause.Error()
	m.recoverRecord(ctx, k, rec, "inject failed")
	if rec.Fault.State == bulwark.StateRecovered {
		rec.Fault.State = bulwark.StateFailed
		if err := m.journal.Put(rec); err != nil {
			cause = errors.Join(cause, err)
		}
	}
	f := rec.Fault
	return &f, fmt.Errorf("inject %s: %w (fault %s %s)", rec.Fault.Kind, cause, f.ID, f.State)
}
