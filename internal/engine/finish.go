package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
)

// finish judges the phases, computes the measures and the verdict, and
// stores them with the run's last event.
func (r *runner) finish(ctx context.Context) (*bulwark.Run, error) {
	ctx = context.WithoutCancel(ctx)
	var judgements []judgement
	var stepMeasures []bulwark.StepMeasures
	if r.probes != nil {
		judgements = r.judgements()
		for _, rec := range r.steps {
			if rec.Kind == drill.StepFault {
				stepMeasures = append(stepMeasures, bulwark.StepMeasures{Step: rec.Index, Name: rec.Name, Measures: r.stepMeasures(rec)})
			}
		}
	}
	verdict, reason := r.verdict(judgements)
	m := runMeasures(stepMeasures)
	state, now := bulwark.RunFinished, r.cfg.Now().UTC()
	run, err := r.cfg.Store.UpdateRun(ctx, r.run.ID, bulwark.RunUpdate{
		State: &state, Verdict: &verdict, Reason: &reason, EndedAt: &now, Measures: &m, StepMeasures: stepMeasures,
	})
	if err != nil {
		return r.run, fmt.Errorf("finish run: %w", err)
	}
	r.run = run
	r.judged = judgements
	r.event(ctx, bulwark.EventRunFinished, map[string]any{"verdict": verdict, "reason": reason, "measures": m})
	r.out.finished(run)
	return run, nil
}

// judgements evaluates every probe's tolerance over each phase: before,
// each fault step's window [tActive, tEnd], and after (contract 5).
func (r *runner) judgements() []judgement {
	var out []judgement
	for _, st := range r.probes.list {
		if s := st.byPhase(bulwark.PhaseBefore); len(s) > 0 {
			out = append(out, judge(st.spec, string(bulwark.PhaseBefore), s))
		}
		for _, rec := range r.steps {
			if rec.TActive == nil {
				continue
			}
			samples := st.samples(*rec.TActive, endOr(rec.TEnd, rec.Ended))
			out = append(out, judge(st.spec, string(bulwark.StepPhase(rec.Index)), samples))
		}
		if s := r.afterSamples(st); len(s) > 0 {
			out = append(out, judge(st.spec, string(bulwark.PhaseAfter), s))
		}
	}
	return out
}

// afterSamples are the samples the after phase is judged on: the settle
// window that restored the steady state, or, when it never was, every
// sample after the steps.
func (r *runner) afterSamples(st *probeState) []bulwark.Sample {
	if r.afterStart.IsZero() {
		return nil
	}
	if t, ok := r.restoredSince(r.afterStart); ok {
		return st.samples(t, t.Add(r.settleDur()))
	}
	return st.byPhase(bulwark.PhaseAfter)
}

// verdict applies contract 7's precedence: error (the platform could not
// run the drill or verify its recovery) over aborted over failed over
// passed.
func (r *runner) verdict(js []judgement) (bulwark.Verdict, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var tooFew, broken []string
	for _, j := range js {
		switch {
		case j.TooFew && j.Phase != string(bulwark.PhaseAfter):
			tooFew = append(tooFew, j.Probe+" in "+j.Phase+": "+j.Reason)
		case !j.OK && !j.TooFew:
			broken = append(broken, j.Probe+" in "+j.Phase+": "+j.Reason)
		}
	}
	switch {
	case len(r.platform) > 0:
		return bulwark.VerdictError, errors.Join(r.platform...).Error()
	case r.aborted != "":
		return bulwark.VerdictAborted, r.aborted
	case len(tooFew) > 0:
		return bulwark.VerdictError, "too few samples to judge: " + strings.Join(tooFew, "; ")
	case len(broken) > 0 || len(r.failed) > 0:
		return bulwark.VerdictFailed, strings.Join(append(broken, r.failed...), "; ")
	}
	return bulwark.VerdictPassed, "the steady state held before, during and after every step"
}

func jsonBytes(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode event data: %w", err)
	}
	return b, nil
}
