package engine

import (
	"context"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
)

// watchAbort evaluates the abort conditions while the steps run (contract
// 5): each sees metrics over a trailing window of max(for, 5 × interval),
// and fires when true at every evaluation for `for`. Firing records the
// abort and cancels the steps; recovery follows.
func (r *runner) watchAbort(ctx context.Context, cancelSteps context.CancelFunc) (stop func()) {
	if len(r.d.Spec.Abort) == 0 {
		return func() {}
	}
	interval := r.minInterval()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		trueSince := make([]time.Time, len(r.d.Spec.Abort))
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if a, ok := r.evalAborts(trueSince, interval); ok {
				r.abort("abort condition fired: " + a.When)
				r.event(ctx, bulwark.EventAbortFired, map[string]any{"when": a.When, "for": a.For})
				cancelSteps()
				return
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// evalAborts evaluates each condition once and returns the first that has
// held for its `for`.
func (r *runner) evalAborts(trueSince []time.Time, interval time.Duration) (drill.Abort, bool) {
	now := r.cfg.Now()
	for i, a := range r.d.Spec.Abort {
		window := max(a.For.Std(), 5*interval)
		ok, err := a.Cond.Eval(r.metricsEnv(window))
		if err != nil || !ok {
			trueSince[i] = time.Time{}
			continue
		}
		if trueSince[i].IsZero() {
			trueSince[i] = now
		}
		if now.Sub(trueSince[i]) >= a.For.Std() {
			return a, true
		}
	}
	return drill.Abort{}, false
}

// metricsEnv returns each probe's metrics over the trailing window.
func (r *runner) metricsEnv(window time.Duration) drill.Env {
	env := drill.Env{}
	from := r.cfg.Now().Add(-window)
	for _, st := range r.probes.list {
		env[st.spec.Name] = metricsOf(st.samples(from, time.Time{}))
	}
	return env
}

func (r *runner) minInterval() time.Duration {
	m := time.Second
	for _, st := range r.probes.list {
		if iv := st.spec.Interval.Std(); iv > 0 && iv < m {
			m = iv
		}
	}
	return m
}

// onSample marks the moments a probe leaves its tolerance in the timeline,
// and keeps the live state for the progress line.
func (r *runner) onSample(ctx context.Context, st *probeState, s bulwark.Sample) {
	out := outOfTolerance(st.spec, s)
	st.mu.Lock()
	wasFailing := st.failing
	st.failing, st.lastOK = out, s.OK
	st.mu.Unlock()
	if out && !wasFailing {
		r.event(ctx, bulwark.EventProbeFailed, map[string]any{"probe": st.spec.Name, "phase": s.Phase, "error": why(st.spec, s), "time": s.Time})
	}
	r.out.sample(st.spec.Name, s)
}
