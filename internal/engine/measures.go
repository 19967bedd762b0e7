package engine

import (
	"sort"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/alert"
)

// stepMeasures computes contract 4's measures for one fault step.
func (r *runner) stepMeasures(rec *stepRecord) bulwark.Measures {
	m := bulwark.Measures{TActive: rec.TActive, TEnd: rec.TEnd}
	if rec.TActive == nil {
		return m
	}
	m.TEffect = r.firstOutOfTolerance(*rec.TActive, endOr(rec.TEnd, rec.Ended))
	grace := defaultGrace
	if a := r.d.Spec.Alerts; a != nil && a.Grace > 0 {
		grace = a.Grace.Std()
	}
	m.TAlert, m.TAck = r.firstCorrelatedAlert(*rec.TActive, endOr(rec.TEnd, rec.Ended).Add(grace))
	from := *rec.TActive
	if m.TEffect != nil {
		from = *m.TEffect
	}
	if t, ok := r.restoredSince(from); ok {
		m.TRestored = &t
	}
	m.TimeToEffect = span(m.TActive, m.TEffect)
	m.MTTA = span(m.TActive, m.TAck)
	m.MTTR = span(m.TEffect, m.TRestored)
	m.RecoveryAfterEnd = span(m.TEnd, m.TRestored)
	if r.cfg.Alerts != nil {
		m.MTTD, m.MTTDSource = span(m.TActive, m.TAlert), bulwark.MTTDFromAlert
	} else {
		m.MTTD, m.MTTDSource = m.TimeToEffect, bulwark.MTTDFromProbe
	}
	return m
}

func endOr(t *time.Time, fallback time.Time) time.Time {
	if t != nil {
		return *t
	}
	return fallback
}

// span returns b − a, or nil ("not detected") when either is missing.
func span(a, b *time.Time) *bulwark.Duration {
	if a == nil || b == nil {
		return nil
	}
	d := bulwark.Duration(max(b.Sub(*a), 0))
	return &d
}

// firstOutOfTolerance returns the time of the first sample of any probe in
// [from, to] that was out of tolerance.
func (r *runner) firstOutOfTolerance(from, to time.Time) *time.Time {
	var first *time.Time
	for _, st := range r.probes.list {
		for _, s := range st.samples(from, to.Add(time.Nanosecond)) {
			if outOfTolerance(st.spec, s) && (first == nil || s.Time.Before(*first)) {
				t := s.Time
				first = &t
			}
		}
	}
	return first
}

// firstCorrelatedAlert returns the startsAt of the first alert correlated
// with the run in [from, to] (contract 4), and the first acknowledgement of
// a correlated alert.
func (r *runner) firstCorrelatedAlert(from, to time.Time) (first, ack *time.Time) {
	var hostLabels []string
	if a := r.d.Spec.Alerts; a != nil {
		hostLabels = a.HostLabels
	}
	hosts := make([]alert.HostRef, len(r.plan.Hosts))
	for i, h := range r.plan.Hosts {
		hosts[i] = alert.HostRef{Name: h.Name, IPs: h.IPs}
	}
	w := alert.Window{Start: from, End: to}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.alerts {
		if !alert.Correlates(a, w, hosts, r.d.Metadata.System, hostLabels) {
			continue
		}
		if first == nil || a.StartsAt.Before(*first) {
			t := a.StartsAt
			first = &t
		}
		if a.AckedAt != nil && (ack == nil || a.AckedAt.Before(*ack)) {
			t := *a.AckedAt
			ack = &t
		}
	}
	return first, ack
}

// restoredSince finds t_restored: the start of the first window of length
// settle, at or after from, in which every probe's samples are all within
// tolerance and the window has been fully observed.
func (r *runner) restoredSince(from time.Time) (time.Time, bool) {
	settle := r.settleDur()
	type mark struct {
		t   time.Time
		out bool
	}
	var all []mark
	for _, st := range r.probes.list {
		for _, s := range st.samples(from, time.Time{}) {
			all = append(all, mark{s.Time, outOfTolerance(st.spec, s)})
		}
	}
	if len(all) == 0 {
		return time.Time{}, false
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	var start *time.Time
	for _, s := range all {
		switch {
		case s.out:
			start = nil
		case start == nil:
			t := s.t
			start = &t
		case s.t.Sub(*start) >= settle:
			return *start, true
		}
	}
	return time.Time{}, false
}

// runMeasures combines the steps' measures: the earliest detection and the
// longest recovery (contract 4).
func runMeasures(steps []bulwark.StepMeasures) bulwark.Measures {
	var m bulwark.Measures
	for _, s := range steps {
		sm := s.Measures
		m.TActive = earliest(m.TActive, sm.TActive)
		m.TEffect = earliest(m.TEffect, sm.TEffect)
		m.TAlert = earliest(m.TAlert, sm.TAlert)
		m.TAck = earliest(m.TAck, sm.TAck)
		m.TEnd = latest(m.TEnd, sm.TEnd)
		m.TRestored = latest(m.TRestored, sm.TRestored)
		m.MTTD = shorter(m.MTTD, sm.MTTD)
		m.TimeToEffect = shorter(m.TimeToEffect, sm.TimeToEffect)
		m.MTTA = shorter(m.MTTA, sm.MTTA)
		m.MTTR = longer(m.MTTR, sm.MTTR)
		m.RecoveryAfterEnd = longer(m.RecoveryAfterEnd, sm.RecoveryAfterEnd)
		if sm.MTTDSource != "" {
			m.MTTDSource = sm.MTTDSource
		}
	}
	return m
}

func earliest(a, b *time.Time) *time.Time {
	if a == nil || b != nil && b.Before(*a) {
		return b
	}
	return a
}

func latest(a, b *time.Time) *time.Time {
	if a == nil || b != nil && b.After(*a) {
		return b
	}
	return a
}

func shorter(a, b *bulwark.Duration) *bulwark.Duration {
	if a == nil || b != nil && *b < *a {
		return b
	}
	return a
}

func longer(a, b *bulwark.Duration) *bulwark.Duration {
	if a == nil || b != nil && *b > *a {
		return b
	}
	return a
}
