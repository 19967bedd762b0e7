package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Defaults of contract 4 and 5.
const (
	defaultBefore = 10 * time.Second
	defaultSettle = 30 * time.Second
	defaultGrace  = 5 * time.Minute
)

// execute runs the phases. It never returns early without recovering every
// fault it injected.
func (r *runner) execute(ctx context.Context) {
	ps, err := r.newProbes()
	if err != nil {
		r.platformError(fmt.Errorf("start probes: %w", err))
		return
	}
	r.probes = ps
	r.setState(ctx, bulwark.RunRunning)
	r.event(ctx, bulwark.EventRunStarted, map[string]any{"probes": len(ps.list)})
	ps.start(context.WithoutCancel(ctx), r.onSample)
	stopAlerts := r.collectAlerts(ctx)
	defer stopAlerts()

	if r.before(ctx) {
		stepCtx, cancel := context.WithCancel(ctx)
		stopAbort := r.watchAbort(stepCtx, cancel)
		r.runSteps(stepCtx, r.d.Spec.Steps, 0)
		cancel()
		stopAbort()
	}
	r.recoverAll(ctx)
	if ctx.Err() != nil {
		r.abort(interruption(ctx))
	}
	if !r.isAborted() || ctx.Err() == nil {
		r.settle(ctx)
	}
	for _, err := range ps.stop(ctx) {
		r.platformError(err)
	}
}

// before samples the steady state for spec.before and refuses to start the
// steps when it is already broken (DESIGN §6.4).
func (r *runner) before(ctx context.Context) bool {
	d := r.d.Spec.Before.Std()
	if d == 0 {
		d = defaultBefore
	}
	if !sleep(ctx, d) {
		return false
	}
	var broken []judgement
	for _, st := range r.probes.list {
		if j := judge(st.spec, string(bulwark.PhaseBefore), st.byPhase(bulwark.PhaseBefore)); !j.OK {
			broken = append(broken, j)
		}
	}
	if len(broken) > 0 {
		r.event(ctx, bulwark.EventSteadyBeforeFailed, map[string]any{"judgements": broken})
		r.abort("steady state already broken before the steps: " + broken[0].Probe + ": " + broken[0].Reason)
		return false
	}
	r.event(ctx, bulwark.EventSteadyBeforePassed, nil)
	return true
}

// recoverAll recovers every fault still live, under its own context and
// timeout so an abort or Ctrl-C still recovers (STYLE §3 rule 4).
func (r *runner) recoverAll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.RecoverTimeout)
	defer cancel()
	r.mu.Lock()
	live := make([]liveFault, 0, len(r.live))
	for _, lf := range r.live {
		live = append(live, lf)
	}
	r.mu.Unlock()
	r.setState(ctx, bulwark.RunRecovering)
	r.event(ctx, bulwark.EventRecoveryStarted, map[string]any{"live": len(live)})
	var failed []error
	for _, lf := range live {
		if err := r.recoverFault(ctx, lf); err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) == 0 {
		r.event(ctx, bulwark.EventRecoveryVerified, nil)
	}
}

// recoverFault recovers one fault and records the outcome.
func (r *runner) recoverFault(ctx context.Context, lf liveFault) error {
	f, err := r.cfg.Executor.Recover(ctx, lf.host, lf.fault.ID)
	if err != nil || f == nil || f.State != bulwark.StateRecovered {
		if err == nil {
			err = fmt.Errorf("fault %s not verified recovered", lf.fault.ID)
		}
		r.platformError(fmt.Errorf("recover %s on %s: %w", lf.fault.Kind, lf.host.Name, err))
		r.event(ctx, bulwark.EventFaultStuck, map[string]any{"id": lf.fault.ID, "host": lf.host.Name, "kind": lf.fault.Kind, "error": err.Error()})
		return err
	}
	r.mu.Lock()
	delete(r.live, f.ID)
	r.mu.Unlock()
	r.event(ctx, bulwark.EventFaultRecovered, map[string]any{
		"id": f.ID, "host": lf.host.Name, "kind": f.Kind, "endReason": f.EndReason, "evidence": f.Evidence,
	})
	return nil
}

// settle waits, after the steps, for a window of length settle with every
// probe within tolerance (t_restored), bounded by MaxAfter.
func (r *runner) settle(ctx context.Context) {
	r.probes.phase.Store(bulwark.PhaseAfter)
	r.afterStart = r.cfg.Now()
	settle := r.settleDur()
	limit := r.cfg.MaxAfter
	if limit == 0 {
		limit = 2*settle + 10*time.Second
	}
	for r.cfg.Now().Sub(r.afterStart) < limit {
		if t, ok := r.restoredSince(r.afterStart); ok {
			r.event(ctx, bulwark.EventSettleRestored, map[string]any{"tRestored": t})
			return
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return
		}
	}
	r.mu.Lock()
	r.failed = append(r.failed, fmt.Sprintf("steady state not restored within %s after the steps", limit))
	r.mu.Unlock()
}

func (r *runner) settleDur() time.Duration {
	if s := r.d.Spec.Settle.Std(); s > 0 {
		return s
	}
	return defaultSettle
}

func (r *runner) setState(ctx context.Context, s bulwark.RunState) {
	now := r.cfg.Now().UTC()
	upd := bulwark.RunUpdate{State: &s}
	if s == bulwark.RunRunning {
		upd.StartedAt = &now
	}
	run, err := r.cfg.Store.UpdateRun(context.WithoutCancel(ctx), r.run.ID, upd)
	if err != nil {
		r.platformError(fmt.Errorf("update run state: %w", err))
		return
	}
	r.run = run
}

// sleep waits d or until ctx is done, and reports whether it waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// AbortCause, given as the cause when a caller cancels a run's context
// (context.WithCancelCause), becomes the run's abort reason: a halt says
// "halted: …" instead of "interrupted".
type AbortCause struct{ Reason string }

func (c *AbortCause) Error() string { return c.Reason }

// interruption names why ctx ended: "interrupted" for Ctrl-C, SIGTERM and
// any other cancellation, or the AbortCause a caller gave.
func interruption(ctx context.Context) string {
	var ac *AbortCause
	if errors.As(context.Cause(ctx), &ac) {
		return ac.Reason
	}
	return "interrupted"
}
