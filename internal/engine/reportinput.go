package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/alert"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
	"github.com/bulwarkhq/bulwark/internal/report"
)

// reportInput gathers what the reports show; the timeline and the samples
// are read back from the store, which is what a later `report` call sees too.
func (r *runner) reportInput(ctx context.Context) (*report.Input, error) {
	evs, err := r.cfg.Store.Events(ctx, r.run.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("read run events: %w", err)
	}
	samples, err := r.cfg.Store.Samples(ctx, r.run.ID, "", time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("read run samples: %w", err)
	}
	in := &report.Input{Run: r.run, Events: evs, Samples: samples, MTTDSource: r.run.Measures.MTTDSource}
	for i := range r.d.Spec.SteadyState {
		in.Probes = append(in.Probes, probeInfo(&r.d.Spec.SteadyState[i]))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.steps {
		in.Steps = append(in.Steps, report.Step{
			Index: rec.Index, Name: rec.Name, Kind: string(rec.Kind), Path: rec.Path, Started: rec.Started, Ended: rec.Ended,
			TActive: rec.TActive, TEnd: rec.TEnd, Hosts: rec.Hosts, Faults: rec.Faults, Err: rec.Err, Note: rec.Note,
		})
		if rec.Note != "" {
			in.Warnings = append(in.Warnings, rec.Note)
		}
	}
	for _, j := range r.judged {
		in.Judgements = append(in.Judgements, report.Judgement{
			Probe: j.Probe, Phase: j.Phase, Samples: j.Samples, SuccessRate: j.Metrics.SuccessRate,
			P50: j.Metrics.P50, P90: j.Metrics.P90, P99: j.Metrics.P99, OK: j.OK, TooFew: j.TooFew, Reason: j.Reason,
		})
	}
	in.Alerts = r.reportAlerts()
	if in.MTTDSource == "" && r.cfg.Alerts == nil {
		in.MTTDSource = bulwark.MTTDFromProbe
	}
	return in, nil
}

// reportAlerts lists every alert received, marking those that correlate
// with any fault step's window (contract 4). The caller holds r.mu.
func (r *runner) reportAlerts() []report.Alert {
	hosts := make([]alert.HostRef, len(r.plan.Hosts))
	for i, h := range r.plan.Hosts {
		hosts[i] = alert.HostRef{Name: h.Name, IPs: h.IPs}
	}
	var hostLabels []string
	grace := defaultGrace
	if a := r.d.Spec.Alerts; a != nil {
		hostLabels = a.HostLabels
		if a.Grace > 0 {
			grace = a.Grace.Std()
		}
	}
	var out []report.Alert
	for _, a := range r.alerts {
		ra := report.Alert{Source: a.Source, Title: a.Title, StartsAt: a.StartsAt, AckedAt: a.AckedAt, Host: a.Host, System: a.System}
		for _, rec := range r.steps {
			if rec.TActive != nil && alert.Correlates(a, alert.StepWindow(*rec.TActive, endOr(rec.TEnd, rec.Ended), grace), hosts, r.d.Metadata.System, hostLabels) {
				ra.Correlated = true
			}
		}
		out = append(out, ra)
	}
	return out
}

func probeInfo(p *drill.Probe) report.ProbeInfo {
	pi := report.ProbeInfo{Name: p.Name, Kind: p.CheckKind(), Interval: p.Interval.Std()}
	if pi.Interval == 0 {
		pi.Interval = time.Second
	}
	switch {
	case p.HTTP != nil:
		pi.Target = p.HTTP.URL
	case p.TCP != nil:
		pi.Target = p.TCP.Address
	case p.Prometheus != nil:
		pi.Target = p.Prometheus.URL
	case p.SQL != nil:
		pi.Target = probe.RedactDSN(p.SQL.DSN)
	case p.Load != nil:
		pi.Target = p.Load.HTTP.URL
	case p.Command != nil && len(p.Command.Argv) > 0:
		pi.Target = p.Command.Argv[0]
	}
	if t := p.Tolerance; t != nil {
		pi.MinSuccessRate, pi.MaxP99 = t.MinSuccessRate, t.MaxP99.Std()
	}
	return pi
}
