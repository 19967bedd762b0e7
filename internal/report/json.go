package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// SchemaID names the JSON report's schema. A change that removes or
// renames a field, or changes its meaning, bumps the version; adding a
// field does not.
const SchemaID = "bulwark.report/v1"

// Document is the JSON report: the whole Input, as the engine filled it,
// plus a Display block of values computed for people. It is language
// neutral: every display name is given in both languages as an object
// {"en": …, "zh-CN": …}.
//
// Units: instants are RFC 3339 in UTC; the Measures' spans are Go duration
// strings ("1.25s") and null when not detected, never 0; every other span
// is an integer number of nanoseconds in a field whose name ends in NS.
type Document struct {
	Schema string `json:"schema"` // SchemaID
	*Input
	Display Display `json:"display"`
}

// Display holds the computed, human-facing values of a report.
type Display struct {
	// TimeZone is the zone the Markdown and HTML reports show times in.
	TimeZone string `json:"timeZone"`
	// ExitCode is what `bulwark drill run` exits with (contract 7).
	ExitCode    int               `json:"exitCode"`
	Verdict     map[string]string `json:"verdict"`
	VerdictHelp map[string]string `json:"verdictHelp"`
	DrillType   map[string]string `json:"drillType,omitempty"`
	Risk        *RiskDisplay      `json:"risk,omitempty"`
	// MTTDSource says in words what MTTD was measured from.
	MTTDSource map[string]string `json:"mttdSource"`
	// Measures are the run-level measures, formatted; Value is null when
	// the measure was not detected.
	Measures []MeasureDisplay `json:"measures"`
	// Probes summarise every probe over the whole run.
	Probes []ProbeSummary `json:"probes"`
	// Steps name each step's kind, and a fault step's fault kind with its
	// 卡/吊/死/错 name.
	Steps            []StepDisplay `json:"steps"`
	BrokenJudgements int           `json:"brokenJudgements"`
	CorrelatedAlerts int           `json:"correlatedAlerts"`
}

// RiskDisplay is the drill's taxonomy id with its names.
type RiskDisplay struct {
	ID       string            `json:"id"`
	Category map[string]string `json:"category"`
	Sub      map[string]string `json:"sub"`
}

// MeasureDisplay is one measure, named and formatted.
type MeasureDisplay struct {
	Key   string            `json:"key"` // the Measures JSON field name
	Name  map[string]string `json:"name"`
	Value *string           `json:"value"` // "1.25s", or null: not detected
}

// ProbeSummary is one probe over the whole run.
type ProbeSummary struct {
	Name        string  `json:"name"`
	Samples     int     `json:"samples"`
	Failures    int     `json:"failures"`
	SuccessRate float64 `json:"successRate"`
}

// StepDisplay names one step.
type StepDisplay struct {
	Index int               `json:"index"`
	Kind  map[string]string `json:"kind"`
}

// newDocument computes the display block for in.
func newDocument(in *Input, loc *time.Location) *Document {
	r := in.Run
	d := &Document{Schema: SchemaID, Input: in}
	dp := &d.Display
	dp.TimeZone = loc.String()
	dp.ExitCode = r.Verdict.ExitCode()
	views := map[string]*view{}
	for _, l := range i18n.Langs() {
		views[l], _ = newView(in, l, loc) // the languages are known valid
	}
	both := func(f func(v *view) string) map[string]string {
		return map[string]string{i18n.ZH: f(views[i18n.ZH]), i18n.EN: f(views[i18n.EN])}
	}
	dp.Verdict = both(func(v *view) string { return v.VerdictName })
	dp.VerdictHelp = both(func(v *view) string { return v.VerdictHelp })
	if i18n.Has("drillType." + r.Type) {
		dp.DrillType = i18n.Names("drillType." + r.Type)
	}
	if cat, sub, ok := bulwark.LookupTaxonomy(r.Risk); ok {
		dp.Risk = &RiskDisplay{ID: r.Risk,
			Category: map[string]string{i18n.ZH: cat.NameZH, i18n.EN: cat.NameEN},
			Sub:      map[string]string{i18n.ZH: sub.NameZH, i18n.EN: sub.NameEN}}
	}
	dp.MTTDSource = both(func(v *view) string { return v.MTTDNote })
	dp.Measures = measureDisplays(&r.Measures, views)
	dp.Probes = probeSummaries(in)
	for i, s := range in.Steps {
		dp.Steps = append(dp.Steps, StepDisplay{Index: s.Index, Kind: both(func(v *view) string { return v.stepKindName(in.Steps[i]) })})
	}
	for _, j := range in.Judgements {
		if !j.OK {
			dp.BrokenJudgements++
		}
	}
	for _, a := range in.Alerts {
		if a.Correlated {
			dp.CorrelatedAlerts++
		}
	}
	return d
}

// measureDisplays pairs the views' localised measure rows with the
// Measures JSON keys, in the views' order.
func measureDisplays(m *bulwark.Measures, views map[string]*view) []MeasureDisplay {
	keys := []string{"timeToEffect", "mttd", "mtta", "mttr", "recoveryAfterEnd", "rto", "rpo"}
	zh, en := views[i18n.ZH].measureRows(m, false), views[i18n.EN].measureRows(m, false)
	vals := []*bulwark.Duration{m.TimeToEffect, m.MTTD, m.MTTA, m.MTTR, m.RecoveryAfterEnd, m.RTO, m.RPO}
	out := make([]MeasureDisplay, len(zh))
	for i := range zh {
		out[i] = MeasureDisplay{Key: keys[i], Name: map[string]string{i18n.ZH: zh[i].Name, i18n.EN: en[i].Name}}
		if vals[i] != nil {
			s := fmtDur(vals[i].Std())
			out[i].Value = &s
		}
	}
	return out
}

func probeSummaries(in *Input) []ProbeSummary {
	out := make([]ProbeSummary, 0, len(in.Probes))
	for _, p := range in.Probes {
		ps := ProbeSummary{Name: p.Name}
		for _, s := range in.Samples {
			if s.Probe != p.Name {
				continue
			}
			ps.Samples++
			if !s.OK {
				ps.Failures++
			}
		}
		if ps.Samples > 0 {
			ps.SuccessRate = float64(ps.Samples-ps.Failures) / float64(ps.Samples)
		}
		out = append(out, ps)
	}
	return out
}

// renderJSON writes the document, indented, with a final newline.
func renderJSON(w io.Writer, in *Input, loc *time.Location) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(newDocument(in, loc)); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}
