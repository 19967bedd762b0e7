package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// view is a run's report with every string localised and formatted: the
// Markdown and HTML renderers both draw from it, so they say the same thing.
type view struct {
	p   *i18n.Printer
	loc *time.Location
	in  *Input

	Lang        string
	Title       string
	Verdict     string // the verdict code: passed, failed, aborted, error or ""
	VerdictName string
	VerdictHelp string
	Reason      string
	Headline    []kv
	Meta        []kv
	Measures    []measureRow
	MTTDNote    string
	StepHead    []string
	StepRows    [][]string
	Steps       []stepRow
	Probes      []probeRow
	Judgements  []judgeRow
	Injections  []injection
	Timeline    []eventRow
	Alerts      []alertRow
	Warnings    []string
	Charts      []chart
}

// T returns the catalogue message for key in the view's language; the
// HTML template calls it as {{$.T "section.meta"}}.
func (v *view) T(key string, args ...any) string { return v.p.T(key, args...) }

type kv struct{ Key, Value string }

type measureRow struct {
	Name, Value, Desc string
	Missing           bool
}

type stepRow struct {
	Index, Name, Kind, Started, Took, Hosts, Result string
	Failed                                          bool
}

type probeRow struct{ Name, Kind, Target, Interval, Tolerance string }

type judgeRow struct {
	Probe, Phase, Samples, SuccessRate, P50, P90, P99, Result, Reason string
	Class                                                             string // ok, fail or error
}

type injection struct {
	Title, Hosts, Window, Err, Note string
	Faults                          []faultView
}

type faultView struct {
	ID, Host, Kind, Params, Target, State, Window, End, Err string
	Evidence                                                []evidenceRow
}

type evidenceRow struct {
	OK                bool
	Mark, Time, Check string
	Detail            string
}

type eventRow struct{ Time, Offset, Name, Detail string }

type alertRow struct {
	Time, Offset, Source, Title, Host, System, Acked, Correlated string
	IsCorrelated                                                 bool
}

// newView localises in for lang in loc.
func newView(in *Input, lang string, loc *time.Location) (*view, error) {
	p, err := i18n.NewPrinter(lang)
	if err != nil {
		return nil, err
	}
	v := &view{p: p, loc: loc, in: in, Lang: p.Lang()}
	r := in.Run
	v.Title = v.T("report.title", r.DrillName)
	v.Verdict = string(r.Verdict)
	v.VerdictName, v.VerdictHelp = v.verdictName(r.Verdict), v.verdictHelp(r.Verdict)
	v.Reason = r.Reason
	v.Headline = v.headline()
	v.Meta = v.meta()
	v.Measures = v.measureRows(&r.Measures, true)
	v.MTTDNote = v.mttdNote()
	v.StepHead, v.StepRows = v.stepMeasures()
	for _, s := range in.Steps {
		v.Steps = append(v.Steps, v.stepRow(s))
		if len(s.Faults) > 0 {
			v.Injections = append(v.Injections, v.injection(s))
		}
	}
	for _, pr := range in.Probes {
		v.Probes = append(v.Probes, v.probeRow(pr))
	}
	for _, j := range in.Judgements {
		v.Judgements = append(v.Judgements, v.judgeRow(j))
	}
	start := runStart(r)
	for _, e := range in.Events {
		v.Timeline = append(v.Timeline, eventRow{fmtClock(e.Time, loc), fmtOffset(e.Time, start), v.eventName(e.Type), eventDetail(e.Data)})
	}
	alerts := slices.Clone(in.Alerts)
	slices.SortStableFunc(alerts, func(a, b Alert) int { return a.StartsAt.Compare(b.StartsAt) })
	for _, a := range alerts {
		v.Alerts = append(v.Alerts, v.alertRow(a, start))
	}
	v.Warnings = in.Warnings
	return v, nil
}

func (v *view) verdictName(vd bulwark.Verdict) string {
	if vd.Valid() {
		return v.T("verdict." + string(vd))
	}
	return v.T("verdict.none")
}

func (v *view) verdictHelp(vd bulwark.Verdict) string {
	if vd.Valid() {
		return v.T("verdict.help." + string(vd))
	}
	return v.T("verdict.help.none")
}

// dur formats a measure, or says "not detected" for nil: never 0.
func (v *view) dur(d *bulwark.Duration) (string, bool) {
	if d == nil {
		return v.T("measure.notDetected"), true
	}
	return fmtDur(d.Std()), false
}

// when formats an optional instant as a time of day, or "—".
func (v *view) when(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return fmtClock(*t, v.loc)
}

// phaseName names a judgement phase: before, step N: name, after.
func (v *view) phaseName(phase string) string {
	switch bulwark.SamplePhase(phase) {
	case bulwark.PhaseBefore:
		return v.T("phase.before")
	case bulwark.PhaseAfter:
		return v.T("phase.after")
	}
	if n, ok := bulwark.SamplePhase(phase).Step(); ok {
		if s := v.step(n); s != nil && s.Name != "" {
			return v.T("phase.stepNamed", n, s.Name)
		}
		return v.T("phase.step", n)
	}
	return phase
}

// step returns step n (from 1), or nil.
func (v *view) step(n int) *Step {
	for i := range v.in.Steps {
		if v.in.Steps[i].Index == n {
			return &v.in.Steps[i]
		}
	}
	return nil
}

// kindName names a fault kind, with its 卡/吊/死/错 name for dep.*.
func (v *view) kindName(kind string) string {
	if key := "kind." + kind; i18n.Has(key) {
		return kind + " · " + v.T(key)
	}
	return kind
}

// stepKindName names a step kind; a fault step also names its fault kind.
func (v *view) stepKindName(s Step) string {
	name := s.Kind
	if key := "stepKind." + s.Kind; i18n.Has(key) {
		name = v.T(key)
	}
	if len(s.Faults) > 0 {
		name += " " + v.kindName(s.Faults[0].Kind)
	}
	return name
}

func (v *view) eventName(t bulwark.EventType) string {
	if key := "event." + string(t); i18n.Has(key) {
		return v.T(key)
	}
	return string(t)
}

func (v *view) faultState(s bulwark.State) string {
	if key := "faultState." + string(s); i18n.Has(key) {
		return v.T(key)
	}
	return string(s)
}

func (v *view) yesNo(b bool) string {
	if b {
		return v.T("common.yes")
	}
	return v.T("common.no")
}

// itoa formats an int without locale grouping.
func itoa(n int) string { return strconv.Itoa(n) }

// joinOr joins ss, or returns "—" when there are none.
func joinOr(ss []string) string {
	if len(ss) == 0 {
		return "—"
	}
	return strings.Join(ss, ", ")
}
