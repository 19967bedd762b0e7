package report

import (
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Input is everything a report shows about one run. The drill engine fills
// it after the verdict; the renderers only read it. Times are UTC as stored;
// the renderers show them in the deployment's zone (Options.Location).
type Input struct {
	// Run carries the verdict, reason, measures (run-level and per step),
	// hosts, seed, ticket and times.
	Run *bulwark.Run `json:"run"`
	// Probes are the steady-state probes of the drill.
	Probes []ProbeInfo `json:"probes"`
	// Steps are the drill's steps in their flattened order.
	Steps []Step `json:"steps"`
	// Judgements are the tolerance verdicts per probe per phase.
	Judgements []Judgement `json:"judgements"`
	// Events is the run's timeline, in Seq order.
	Events []*bulwark.RunEvent `json:"events"`
	// Samples are every probe sample of the run.
	Samples []*bulwark.Sample `json:"samples"`
	// Alerts are the alerts received during the run, correlated or not.
	Alerts []Alert `json:"alerts"`
	// MTTDSource says what MTTD was measured from: an alert, or (with no
	// alert source configured) the first out-of-tolerance probe sample.
	MTTDSource bulwark.MTTDSource `json:"mttdSource"`
	// Warnings are things the reader should know that did not change the
	// verdict (a skipped host fault, a probe with few samples, …).
	Warnings []string `json:"warnings"`
}

// ProbeInfo describes one steady-state probe.
type ProbeInfo struct {
	Name string `json:"name"`
	Kind string `json:"kind"` // http, tcp, command, prometheus, sql, load
	// Target is the URL or address, with any secret already redacted.
	Target   string        `json:"target"`
	Interval time.Duration `json:"intervalNS"`
	// MinSuccessRate is the tolerance's minimum success ratio (0–1), if set.
	MinSuccessRate *float64 `json:"minSuccessRate"`
	// MaxP99 is the tolerance's maximum p99 latency; 0 means not set.
	MaxP99 time.Duration `json:"maxP99NS"`
}

// Step is what happened in one step of the drill.
type Step struct {
	Index int    `json:"index"` // from 1, the flattened position
	Name  string `json:"name"`
	// Kind is fault, wait, action, verify, manual, scenario, parallel or
	// serial.
	Kind string `json:"kind"`
	// Path locates the step in the drill file (e.g. "spec.steps[2].parallel[0]").
	Path    string     `json:"path,omitempty"`
	Started time.Time  `json:"started"`
	Ended   time.Time  `json:"ended"`
	TActive *time.Time `json:"tActive"` // the step's faults verified active
	TEnd    *time.Time `json:"tEnd"`    // the step's faults verified recovered
	Hosts   []string   `json:"hosts,omitempty"`
	// Faults are the faults the step injected, one per host, with their
	// kind, params, evidence, state and active/ended times.
	Faults []*bulwark.Fault `json:"faults,omitempty"`
	Err    string           `json:"err,omitempty"`
	Note   string           `json:"note,omitempty"`
}

// Judgement is one probe's tolerance verdict over one phase (contract 5).
type Judgement struct {
	Probe       string        `json:"probe"`
	Phase       string        `json:"phase"` // "before", "step:N" or "after"
	Samples     int           `json:"samples"`
	SuccessRate float64       `json:"successRate"`
	P50         time.Duration `json:"p50NS"`
	P90         time.Duration `json:"p90NS"`
	P99         time.Duration `json:"p99NS"`
	OK          bool          `json:"ok"`
	// TooFew is set when the phase had fewer than minSamples samples, which
	// makes the run an error rather than a failure.
	TooFew bool   `json:"tooFew"`
	Reason string `json:"reason,omitempty"`
}

// Alert is one alert received during the run, normalised from its source.
type Alert struct {
	Source   string     `json:"source"`
	Title    string     `json:"title"`
	StartsAt time.Time  `json:"startsAt"`
	AckedAt  *time.Time `json:"ackedAt"`
	// Correlated is set when the alert concerns the run's hosts or system
	// inside the fault window plus grace (contract 4): only these count.
	Correlated bool   `json:"correlated"`
	Host       string `json:"host,omitempty"`
	System     string `json:"system,omitempty"`
}
