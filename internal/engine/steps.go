package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
)

// stepRecord is what happened in one step, for measures and the report.
type stepRecord struct {
	Index   int              `json:"index"` // from 1, in file order
	Name    string           `json:"name"`
	Kind    drill.StepKind   `json:"kind"`
	Path    string           `json:"path"`
	Started time.Time        `json:"started"`
	Ended   time.Time        `json:"ended"`
	TActive *time.Time       `json:"tActive,omitempty"`
	TEnd    *time.Time       `json:"tEnd,omitempty"`
	Faults  []*bulwark.Fault `json:"faults,omitempty"`
	Hosts   []string         `json:"hosts,omitempty"`
	Err     string           `json:"error,omitempty"`
	Note    string           `json:"note,omitempty"`
}

// runSteps runs steps in order; a step starts when the previous one has
// ended (contract 3). It stops early when ctx is done.
func (r *runner) runSteps(ctx context.Context, steps []drill.Step, _ int) {
	for i := range steps {
		if ctx.Err() != nil {
			return
		}
		r.runStep(ctx, &steps[i])
	}
}

func (r *runner) runStep(ctx context.Context, s *drill.Step) {
	if d := s.StartDelay.Std(); d > 0 && !sleep(ctx, d) {
		return
	}
	switch s.Kind() {
	case drill.StepSerial:
		r.runSteps(ctx, s.Serial, 0)
	case drill.StepParallel:
		var wg sync.WaitGroup
		for i := range s.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.runStep(ctx, &s.Parallel[i])
			}()
		}
		wg.Wait()
	case drill.StepWait:
		sleep(ctx, s.Wait.Std())
	case drill.StepFault:
		r.faultStep(ctx, s)
	case drill.StepScenario:
		rec := r.beginStep(ctx, s)
		rec.Note = "scenario " + s.Scenario + " skipped: the scenario library is not part of this build"
		r.endStep(ctx, rec, nil)
	case drill.StepAction:
		r.actionStep(ctx, s)
	case drill.StepVerify:
		r.verifyStep(ctx, s)
	case drill.StepManual:
		r.manualStep(ctx, s)
	}
}

// beginStep records a step's start and returns its record.
func (r *runner) beginStep(ctx context.Context, s *drill.Step) *stepRecord {
	r.mu.Lock()
	rec := &stepRecord{Index: len(r.steps) + 1, Name: stepName(s), Kind: s.Kind(), Path: s.Path, Started: r.cfg.Now().UTC()}
	r.steps = append(r.steps, rec)
	r.mu.Unlock()
	r.event(ctx, bulwark.EventStepStarted, map[string]any{"step": rec.Index, "name": rec.Name, "kind": rec.Kind, "path": rec.Path})
	return rec
}

func (r *runner) endStep(ctx context.Context, rec *stepRecord, err error) {
	r.mu.Lock()
	rec.Ended = r.cfg.Now().UTC()
	if err != nil {
		rec.Err = err.Error()
	}
	r.mu.Unlock()
	r.event(ctx, bulwark.EventStepEnded, map[string]any{"step": rec.Index, "name": rec.Name, "error": rec.Err, "note": rec.Note})
}

func stepName(s *drill.Step) string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Fault != "":
		return s.Fault
	case s.Scenario != "":
		return s.Scenario
	case s.Manual != nil:
		return s.Manual.Title
	}
	return string(s.Kind())
}

// faultStep injects the fault on every selected host, holds it for its
// duration, and recovers it; the step ends when the fault is verified
// recovered (contract 3).
func (r *runner) faultStep(ctx context.Context, s *drill.Step) {
	rec := r.beginStep(ctx, s)
	hosts := r.plan.Steps[s]
	faults, err := r.injectAll(ctx, rec, s, hosts)
	if err == nil {
		now := r.cfg.Now().UTC()
		r.mu.Lock()
		rec.TActive = &now
		r.mu.Unlock()
		r.probes.phase.Store(bulwark.StepPhase(rec.Index))
		sleep(ctx, s.Duration.Std())
	}
	ctx2, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.RecoverTimeout)
	defer cancel()
	var recErr error
	for _, lf := range faults {
		if e := r.recoverFault(ctx2, lf); e != nil {
			recErr = e
		}
	}
	if len(faults) > 0 && recErr == nil {
		end := r.cfg.Now().UTC()
		r.mu.Lock()
		rec.TEnd = &end
		r.mu.Unlock()
	}
	if err == nil {
		err = recErr
	}
	r.endStep(ctx, rec, err)
}

// injectAll injects on every host at once. If any inject fails, the ones
// that succeeded are still returned so they are recovered, and the run's
// verdict becomes error.
func (r *runner) injectAll(ctx context.Context, rec *stepRecord, s *drill.Step, hosts []Host) ([]liveFault, error) {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		faults []liveFault
		first  error
	)
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := r.inject(ctx, rec, s, h)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if f != nil {
				faults = append(faults, liveFault{host: h, fault: f})
			}
		}()
	}
	wg.Wait()
	return faults, first
}

func (r *runner) inject(ctx context.Context, rec *stepRecord, s *drill.Step, h Host) (*bulwark.Fault, error) {
	spec := s.FaultSpec()
	r.event(ctx, bulwark.EventFaultInjecting, map[string]any{"step": rec.Index, "host": h.Name, "kind": spec.Kind, "params": spec.Params, "target": spec.Target, "duration": spec.Duration})
	f, err := r.cfg.Executor.Inject(ctx, h, spec)
	if err != nil {
		r.platformError(fmt.Errorf("step %d (%s): inject %s on %s: %w", rec.Index, rec.Name, spec.Kind, h.Name, err))
		r.event(ctx, bulwark.EventFaultFailed, map[string]any{"step": rec.Index, "host": h.Name, "kind": spec.Kind, "error": err.Error()})
		return nil, err
	}
	r.mu.Lock()
	r.live[f.ID] = liveFault{host: h, fault: f}
	rec.Faults = append(rec.Faults, f)
	rec.Hosts = append(rec.Hosts, h.Name)
	r.mu.Unlock()
	r.event(ctx, bulwark.EventFaultActive, map[string]any{
		"step": rec.Index, "host": h.Name, "id": f.ID, "kind": f.Kind, "params": f.Params,
		"activeAt": f.ActiveAt, "expiresAt": f.ExpiresAt, "evidence": f.Evidence,
	})
	return f, nil
}
