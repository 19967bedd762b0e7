package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// probeSet runs the drill's steady-state probes for the whole run and keeps
// their samples, in memory for the verdict and in the store for the report.
type probeSet struct {
	list  []*probeState
	phase atomic.Value // bulwark.SamplePhase
	store bulwark.RunStore
	runID string
	now   func() time.Time

	mu      sync.Mutex
	pending []bulwark.Sample
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	errs    []error
}

// probeState is one probe and its samples.
type probeState struct {
	spec *drill.Probe
	p    probe.Probe
	mu   sync.Mutex
	all  []bulwark.Sample
	// lastOK and failing drive the progress line and probe.failed events.
	lastOK, failing bool
}

func (r *runner) newProbes() (*probeSet, error) {
	ps := &probeSet{store: r.cfg.Store, runID: r.run.ID, now: r.cfg.Now}
	ps.phase.Store(bulwark.PhaseBefore)
	for i := range r.d.Spec.SteadyState {
		spec := &r.d.Spec.SteadyState[i]
		cfg, err := probeConfig(spec)
		if err != nil {
			ps.close()
			return nil, err
		}
		p, err := probe.New(spec.Name, cfg, r.cfg.ProbeOptions)
		if err != nil {
			ps.close()
			return nil, err
		}
		ps.list = append(ps.list, &probeState{spec: spec, p: p})
	}
	return ps, nil
}

// start samples every probe on its interval until stop.
func (ps *probeSet) start(ctx context.Context, onSample func(context.Context, *probeState, bulwark.Sample)) {
	ctx, ps.cancel = context.WithCancel(ctx)
	for _, st := range ps.list {
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			ps.sample(ctx, st, onSample)
		}()
	}
	ps.wg.Add(1)
	go func() {
		defer ps.wg.Done()
		ps.flushLoop(ctx)
	}()
}

func (ps *probeSet) sample(ctx context.Context, st *probeState, onSample func(context.Context, *probeState, bulwark.Sample)) {
	emit := func(res probe.Result) {
		s := bulwark.Sample{
			RunID: ps.runID, Probe: st.spec.Name, Time: res.Time.UTC(), Phase: ps.phase.Load().(bulwark.SamplePhase),
			OK: res.OK, LatencyNS: int64(res.Latency), Value: res.Value, Err: res.Err,
		}
		st.mu.Lock()
		st.all = append(st.all, s)
		st.mu.Unlock()
		ps.mu.Lock()
		ps.pending = append(ps.pending, s)
		ps.mu.Unlock()
		onSample(ctx, st, s)
	}
	if sp, ok := st.p.(probe.Streamer); ok {
		_ = sp.Stream(ctx, emit)
		return
	}
	interval := st.spec.Interval.Std()
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		emit(st.p.Check(ctx))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// outOfTolerance reports whether one sample breaks the probe's tolerance on
// its own: it failed, or it succeeded slower than maxP99. Such samples mark
// t_effect and break a restored window (contract 4).
func outOfTolerance(p *drill.Probe, s bulwark.Sample) bool {
	return !s.OK || p.Tolerance != nil && p.Tolerance.MaxP99 != 0 && time.Duration(s.LatencyNS) > p.Tolerance.MaxP99.Std()
}

// why says how a sample broke the tolerance.
func why(p *drill.Probe, s bulwark.Sample) string {
	if !s.OK {
		return s.Err
	}
	return fmt.Sprintf("latency %s over maxP99 %s", time.Duration(s.LatencyNS).Round(time.Millisecond), p.Tolerance.MaxP99)
}

func (ps *probeSet) flushLoop(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ps.flush(ctx)
		}
	}
}

// flush writes the pending samples to the store in one batch.
func (ps *probeSet) flush(ctx context.Context) {
	ps.mu.Lock()
	batch := ps.pending
	ps.pending = nil
	ps.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := ps.store.AppendSamples(context.WithoutCancel(ctx), batch); err != nil {
		ps.mu.Lock()
		ps.errs = append(ps.errs, fmt.Errorf("store samples: %w", err))
		ps.mu.Unlock()
	}
}

// stop ends sampling, flushes what is left and closes the probes.
func (ps *probeSet) stop(ctx context.Context) []error {
	if ps.cancel != nil {
		ps.cancel()
	}
	ps.wg.Wait()
	ps.flush(ctx)
	ps.close()
	return ps.errs
}

func (ps *probeSet) close() {
	for _, st := range ps.list {
		st.p.Close()
	}
}

// samples returns a copy of a probe's samples with from <= Time < to (zero
// ends are open).
func (st *probeState) samples(from, to time.Time) []bulwark.Sample {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []bulwark.Sample
	for _, s := range st.all {
		if (from.IsZero() || !s.Time.Before(from)) && (to.IsZero() || s.Time.Before(to)) {
			out = append(out, s)
		}
	}
	return out
}

// byPhase returns a copy of a probe's samples in one phase.
func (st *probeState) byPhase(p bulwark.SamplePhase) []bulwark.Sample {
	st.mu.Lock()
	defer st.mu.Unlock()
	var out []bulwark.Sample
	for _, s := range st.all {
		if s.Phase == p {
			out = append(out, s)
		}
	}
	return out
}
