package report

import (
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// headline is what a manager reads first: the verdict, detection and
// restoration times, and the worst the users saw while faults were active.
func (v *view) headline() []kv {
	m := v.in.Run.Measures
	mttd, _ := v.dur(m.MTTD)
	mttr, _ := v.dur(m.MTTR)
	out := []kv{
		{v.T("headline.verdict"), v.VerdictName},
		{v.T("measure.mttd"), mttd},
		{v.T("measure.mttr"), mttr},
	}
	worst, worstP99 := -1.0, time.Duration(-1)
	var worstProbe, p99Probe string
	for _, j := range v.in.Judgements {
		if _, ok := bulwark.SamplePhase(j.Phase).Step(); !ok || j.Samples == 0 {
			continue
		}
		if worst < 0 || j.SuccessRate < worst {
			worst, worstProbe = j.SuccessRate, j.Probe
		}
		if j.SuccessRate > 0 && j.P99 > worstP99 { // p99 is over successful samples only
			worstP99, p99Probe = j.P99, j.Probe
		}
	}
	if worst >= 0 {
		out = append(out, kv{v.T("headline.worstSuccess"), fmtRate(worst) + " (" + worstProbe + ")"})
		if worstP99 >= 0 {
			out = append(out, kv{v.T("headline.worstP99"), fmtDur(worstP99) + " (" + p99Probe + ")"})
		}
	}
	faults, correlated := 0, 0
	for _, s := range v.in.Steps {
		faults += len(s.Faults)
	}
	for _, a := range v.in.Alerts {
		if a.Correlated {
			correlated++
		}
	}
	out = append(out,
		kv{v.T("headline.faults"), itoa(faults)},
		kv{v.T("headline.alerts"), v.T("headline.alertsValue", itoa(correlated), itoa(len(v.in.Alerts)))},
	)
	return out
}

// meta is the drill's identity: what, where, who, when.
func (v *view) meta() []kv {
	r := v.in.Run
	typ := r.Type
	if key := "drillType." + r.Type; r.Type != "" && i18n.Has(key) {
		typ = v.T(key) + " (" + r.Type + ")"
	}
	risk := r.Risk
	if cat, sub, ok := bulwark.LookupTaxonomy(r.Risk); ok {
		if v.Lang == "en" {
			risk = cat.NameEN + " / " + sub.NameEN
		} else {
			risk = cat.NameZH + " / " + sub.NameZH
		}
		risk += " · " + r.Risk
	}
	start, end, took := "—", "—", "—"
	if r.StartedAt != nil {
		start = fmtTime(*r.StartedAt, v.loc)
	}
	if r.EndedAt != nil {
		end = fmtTime(*r.EndedAt, v.loc)
		if r.StartedAt != nil {
			took = fmtDur(r.EndedAt.Sub(*r.StartedAt))
		}
	}
	or := func(s string) string {
		if s == "" {
			return "—"
		}
		return s
	}
	return []kv{
		{v.T("meta.drill"), r.DrillName},
		{v.T("meta.run"), r.ID},
		{v.T("meta.system"), or(r.System)},
		{v.T("meta.environment"), or(r.Environment)},
		{v.T("meta.type"), or(typ)},
		{v.T("meta.risk"), or(risk)},
		{v.T("meta.owner"), or(r.Owner)},
		{v.T("meta.ticket"), or(r.Ticket)},
		{v.T("meta.started"), start},
		{v.T("meta.ended"), end},
		{v.T("meta.took"), took},
		{v.T("meta.zone"), zoneLabel(v.loc, runStart(r))},
		{v.T("meta.hosts"), joinOr(r.Hosts)},
		{v.T("meta.seed"), itoa64(r.Seed)},
		{v.T("meta.sha"), or(r.DrillSHA256)},
	}
}

// measureRows lists the measures of contract 4; RTO and RPO only when the
// drill measured them or has procedure steps.
func (v *view) measureRows(m *bulwark.Measures, withDesc bool) []measureRow {
	type def struct {
		key string
		d   *bulwark.Duration
	}
	defs := []def{{"timeToEffect", m.TimeToEffect}, {"mttd", m.MTTD}, {"mtta", m.MTTA}, {"mttr", m.MTTR}, {"recoveryAfterEnd", m.RecoveryAfterEnd}}
	if m.RTO != nil || m.RPO != nil || v.procedure() {
		defs = append(defs, def{"rto", m.RTO}, def{"rpo", m.RPO})
	}
	rows := make([]measureRow, len(defs))
	for i, d := range defs {
		val, missing := v.dur(d.d)
		rows[i] = measureRow{Name: v.T("measure." + d.key), Value: val, Missing: missing}
		if withDesc {
			rows[i].Desc = v.T("measure." + d.key + ".desc")
		}
	}
	return rows
}

// procedure reports whether the drill has procedure steps (contract 9).
func (v *view) procedure() bool {
	for _, s := range v.in.Steps {
		switch s.Kind {
		case "action", "verify", "manual":
			return true
		}
	}
	return false
}

// mttdNote says what MTTD was measured from; with no alert source the
// probe stood in, and the report must say so.
func (v *view) mttdNote() string {
	if v.in.MTTDSource == bulwark.MTTDFromProbe {
		return v.T("mttd.source.probe")
	}
	return v.T("mttd.source.alert")
}

// stepMeasures is the per-step measures table.
func (v *view) stepMeasures() ([]string, [][]string) {
	if len(v.in.Run.StepMeasures) == 0 {
		return nil, nil
	}
	head := []string{v.T("col.step"), v.T("measure.tActive"), v.T("measure.tEnd")}
	for _, r := range v.measureRows(&bulwark.Measures{}, false) {
		head = append(head, r.Name)
	}
	var rows [][]string
	for _, sm := range v.in.Run.StepMeasures {
		name := itoa(sm.Step) + ". " + sm.Name
		row := []string{name, v.when(sm.TActive), v.when(sm.TEnd)}
		for _, r := range v.measureRows(&sm.Measures, false) {
			row = append(row, r.Value)
		}
		rows = append(rows, row)
	}
	return head, rows
}

func (v *view) stepRow(s Step) stepRow {
	row := stepRow{Index: itoa(s.Index), Name: s.Name, Kind: v.stepKindName(s), Hosts: joinOr(s.Hosts), Started: "—", Took: "—"}
	if !s.Started.IsZero() {
		row.Started = fmtClock(s.Started, v.loc)
		if !s.Ended.IsZero() {
			row.Took = fmtDur(s.Ended.Sub(s.Started))
		}
	}
	switch {
	case s.Err != "":
		row.Result, row.Failed = v.T("step.error", s.Err), true
	case s.Ended.IsZero():
		row.Result = v.T("step.unfinished")
	default:
		row.Result = v.T("step.done")
	}
	if s.Note != "" {
		row.Result += " — " + s.Note
	}
	return row
}

// injection is what one step injected where, with the evidence.
func (v *view) injection(s Step) injection {
	in := injection{Title: v.T("inject.title", s.Index, s.Name), Hosts: joinOr(s.Hosts), Err: s.Err, Note: s.Note}
	in.Window = v.when(s.TActive) + " → " + v.when(s.TEnd)
	for i, f := range s.Faults {
		fv := faultView{ID: f.ID, Kind: v.kindName(f.Kind), Params: kvs(f.Params), Target: kvs(f.Target), State: v.faultState(f.State), Err: f.Error, End: f.EndReason}
		if len(s.Hosts) == len(s.Faults) {
			fv.Host = s.Hosts[i]
		}
		fv.Window = v.when(f.ActiveAt) + " → " + v.when(f.EndedAt)
		if f.ActiveAt != nil && f.EndedAt != nil {
			fv.Window += " (" + fmtDur(f.EndedAt.Sub(*f.ActiveAt)) + ")"
		}
		for _, e := range f.Evidence {
			mark := "✓"
			if !e.OK {
				mark = "✗"
			}
			fv.Evidence = append(fv.Evidence, evidenceRow{OK: e.OK, Mark: mark, Time: fmtClock(e.Time, v.loc), Check: e.Check, Detail: e.Detail})
		}
		in.Faults = append(in.Faults, fv)
	}
	return in
}

func (v *view) probeRow(p ProbeInfo) probeRow {
	var tol []string
	if p.MinSuccessRate != nil {
		tol = append(tol, v.T("tolerance.minSuccess", fmtRate(*p.MinSuccessRate)))
	}
	if p.MaxP99 > 0 {
		tol = append(tol, v.T("tolerance.maxP99", fmtDur(p.MaxP99)))
	}
	iv := "—"
	if p.Interval > 0 {
		iv = fmtDur(p.Interval)
	}
	return probeRow{Name: p.Name, Kind: p.Kind, Target: p.Target, Interval: iv, Tolerance: joinOr(tol)}
}

func (v *view) judgeRow(j Judgement) judgeRow {
	row := judgeRow{Probe: j.Probe, Phase: v.phaseName(j.Phase), Samples: itoa(j.Samples), Reason: j.Reason,
		SuccessRate: "—", P50: "—", P90: "—", P99: "—"}
	if j.Samples > 0 {
		row.SuccessRate = fmtRate(j.SuccessRate)
		row.P50, row.P90, row.P99 = fmtDur(j.P50), fmtDur(j.P90), fmtDur(j.P99)
	}
	switch {
	case j.TooFew:
		row.Result, row.Class = v.T("judge.tooFew"), "error"
	case j.OK:
		row.Result, row.Class = v.T("judge.ok"), "ok"
	default:
		row.Result, row.Class = v.T("judge.broken"), "fail"
	}
	return row
}

func (v *view) alertRow(a Alert, start time.Time) alertRow {
	row := alertRow{Time: fmtClock(a.StartsAt, v.loc), Offset: fmtOffset(a.StartsAt, start), Source: a.Source, Title: a.Title,
		Host: a.Host, System: a.System, Acked: "—", Correlated: v.yesNo(a.Correlated), IsCorrelated: a.Correlated}
	if a.AckedAt != nil {
		row.Acked = fmtClock(*a.AckedAt, v.loc) + " (+" + fmtDur(a.AckedAt.Sub(a.StartsAt)) + ")"
	}
	return row
}
