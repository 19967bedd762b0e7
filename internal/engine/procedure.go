package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// actionStep runs an allow-listed executable or an HTTP call once and
// asserts on the result (contract 9). Argv runs through the command probe,
// so the same allow-list and no-shell rules hold.
func (r *runner) actionStep(ctx context.Context, s *drill.Step) {
	rec := r.beginStep(ctx, s)
	a := s.Action
	timeout := a.Timeout
	if timeout == 0 {
		timeout = bulwark.Duration(time.Minute)
	}
	var cfg probe.Config
	switch {
	case len(a.Argv) > 0:
		exit := 0
		if a.ExpectExit != nil {
			exit = *a.ExpectExit
		}
		cfg = &probe.CommandConfig{Argv: a.Argv, ExpectExit: exit, Timeout: timeout}
	case a.HTTP != nil:
		h := *a.HTTP
		h.ExpectStatus = a.ExpectStatus
		cfg = httpConfig(h, timeout)
	}
	r.event(ctx, bulwark.EventActionStarted, map[string]any{"step": rec.Index, "name": rec.Name})
	res, err := checkOnce(ctx, "action", cfg, r.cfg.ProbeOptions)
	if err == nil && !res.OK {
		err = errors.New(res.Err)
	}
	if err != nil {
		r.event(ctx, bulwark.EventActionFailed, map[string]any{"step": rec.Index, "error": err.Error(), "latency": res.Latency.String()})
		r.failStep(rec, err)
	} else {
		r.event(ctx, bulwark.EventActionEnded, map[string]any{"step": rec.Index, "latency": res.Latency.String()})
	}
	r.endStep(ctx, rec, err)
}

func checkOnce(ctx context.Context, name string, cfg probe.Config, opts probe.Options) (probe.Result, error) {
	if cfg == nil {
		return probe.Result{}, errors.New("action has neither argv nor http")
	}
	p, err := probe.New(name, cfg, opts)
	if err != nil {
		return probe.Result{}, err
	}
	defer p.Close()
	return p.Check(ctx), nil
}

// verifyStep asserts once: one sample of a probe must succeed, or an
// expression over the probes' trailing metrics must hold.
func (r *runner) verifyStep(ctx context.Context, s *drill.Step) {
	rec := r.beginStep(ctx, s)
	v := s.Verify
	var err error
	switch {
	case v.Probe != "":
		err = r.verifyProbe(ctx, v.Probe)
	case v.Cond != nil:
		var ok bool
		ok, err = v.Cond.Eval(r.metricsEnv(5 * time.Second))
		if err == nil && !ok {
			err = fmt.Errorf("%s is false", v.Expr)
		}
	}
	if err != nil {
		r.event(ctx, bulwark.EventVerifyFailed, map[string]any{"step": rec.Index, "error": err.Error()})
		r.failStep(rec, err)
	} else {
		r.event(ctx, bulwark.EventVerifyPassed, map[string]any{"step": rec.Index})
	}
	r.endStep(ctx, rec, err)
}

func (r *runner) verifyProbe(ctx context.Context, name string) error {
	for _, st := range r.probes.list {
		if st.spec.Name == name {
			res := st.p.Check(ctx)
			if !res.OK {
				return fmt.Errorf("probe %s: %s", name, res.Err)
			}
			return nil
		}
	}
	return fmt.Errorf("no probe %s", name)
}

// manualStep asks a person to confirm a checkpoint, within its timeout.
func (r *runner) manualStep(ctx context.Context, s *drill.Step) {
	rec := r.beginStep(ctx, s)
	m := s.Manual
	timeout := m.Timeout.Std()
	if timeout == 0 {
		timeout = drill.DefaultManualWait.Std()
	}
	r.event(ctx, bulwark.EventManualRequested, map[string]any{"step": rec.Index, "title": m.Title, "assignee": m.Assignee, "timeout": timeout.String()})
	var err error
	if r.cfg.Confirm == nil {
		err = errors.New("no one to confirm manual steps (run in a terminal, or with --yes)")
		r.event(ctx, bulwark.EventManualTimedOut, map[string]any{"step": rec.Index, "error": err.Error()})
	} else {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		ok, cerr := r.cfg.Confirm(cctx, rec.Name, m)
		cancel()
		switch {
		case cerr != nil:
			err = fmt.Errorf("manual step not answered: %w", cerr)
			r.event(ctx, bulwark.EventManualTimedOut, map[string]any{"step": rec.Index, "error": err.Error()})
		case !ok:
			err = errors.New("denied")
			r.event(ctx, bulwark.EventManualDenied, map[string]any{"step": rec.Index})
		default:
			r.event(ctx, bulwark.EventManualConfirmed, map[string]any{"step": rec.Index})
		}
	}
	if err != nil {
		r.failStep(rec, err)
	}
	r.endStep(ctx, rec, err)
}

// failStep records a procedure step that did not hold: the drill failed.
func (r *runner) failStep(rec *stepRecord, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf("step %d (%s): %v", rec.Index, rec.Name, err))
}
