package bulwark

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EventSchemaVersion is the version of the run-event schema written by this
// binary: the set of event types and the shape of each one's Data. Readers
// accept every version up to their own and refuse newer ones, as the journal
// does with receipts. Adding a type or an optional Data field does not bump
// it; changing or removing one does.
const EventSchemaVersion = 1

// EventType names one kind of transition in a run's timeline. The set is
// closed: a store refuses a type not listed here.
type EventType string

// The run-event types. Each is persisted before the engine acts on it.
const (
	EventRunCreated  EventType = "run.created"
	EventRunStarted  EventType = "run.started"
	EventRunFinished EventType = "run.finished"

	EventSteadyBeforePassed EventType = "steady.before.passed"
	EventSteadyBeforeFailed EventType = "steady.before.failed"

	EventStepStarted EventType = "step.started"
	EventStepEnded   EventType = "step.ended"

	EventFaultInjecting EventType = "fault.injecting"
	EventFaultActive    EventType = "fault.active"
	EventFaultRecovered EventType = "fault.recovered"
	EventFaultFailed    EventType = "fault.failed"
	EventFaultStuck     EventType = "fault.stuck"
	EventFaultDrifted   EventType = "fault.drifted"

	// EventProbeFailed marks a probe leaving its tolerance; the samples
	// themselves are kept apart from the timeline (Sample).
	EventProbeFailed EventType = "probe.failed"

	EventAlertReceived EventType = "alert.received"
	EventAlertAcked    EventType = "alert.acked"

	EventAbortFired EventType = "abort.fired"

	EventRecoveryStarted  EventType = "recovery.started"
	EventRecoveryVerified EventType = "recovery.verified"
	EventSettleRestored   EventType = "settle.restored"

	EventActionStarted EventType = "action.started"
	EventActionEnded   EventType = "action.ended"
	EventActionFailed  EventType = "action.failed"

	EventVerifyPassed EventType = "verify.passed"
	EventVerifyFailed EventType = "verify.failed"

	EventManualRequested EventType = "manual.requested"
	EventManualConfirmed EventType = "manual.confirmed"
	EventManualDenied    EventType = "manual.denied"
	EventManualTimedOut  EventType = "manual.timedout"
)

var eventTypes = map[EventType]bool{
	EventRunCreated: true, EventRunStarted: true, EventRunFinished: true,
	EventSteadyBeforePassed: true, EventSteadyBeforeFailed: true,
	EventStepStarted: true, EventStepEnded: true,
	EventFaultInjecting: true, EventFaultActive: true, EventFaultRecovered: true,
	EventFaultFailed: true, EventFaultStuck: true, EventFaultDrifted: true,
	EventProbeFailed:   true,
	EventAlertReceived: true, EventAlertAcked: true,
	EventAbortFired:      true,
	EventRecoveryStarted: true, EventRecoveryVerified: true, EventSettleRestored: true,
	EventActionStarted: true, EventActionEnded: true, EventActionFailed: true,
	EventVerifyPassed: true, EventVerifyFailed: true,
	EventManualRequested: true, EventManualConfirmed: true, EventManualDenied: true, EventManualTimedOut: true,
}

// Valid reports whether t is one of the run-event types.
func (t EventType) Valid() bool { return eventTypes[t] }

// RunEvent is one entry in a run's timeline. Seq starts at 1 and is gapless
// per run; the store assigns it. Data is the type-specific payload, a JSON
// object (or empty).
type RunEvent struct {
	RunID         string          `json:"runID"`
	Seq           int64           `json:"seq"`
	Time          time.Time       `json:"time"`
	Type          EventType       `json:"type"`
	SchemaVersion int             `json:"schemaVersion"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// Validate checks an event before it is appended.
func (e *RunEvent) Validate() error {
	switch {
	case e.RunID == "":
		return Errorf(EINVALID, "run event: run id required")
	case !e.Type.Valid():
		return Errorf(EINVALID, "run event: unknown type %q", e.Type)
	case e.SchemaVersion < 1 || e.SchemaVersion > EventSchemaVersion:
		return Errorf(EINVALID, "run event: schema version %d not in 1..%d", e.SchemaVersion, EventSchemaVersion)
	case len(e.Data) > 0 && !json.Valid(e.Data):
		return Errorf(EINVALID, "run event: data is not valid JSON")
	}
	return nil
}

// SamplePhase is the part of a run a probe sample belongs to (contract 5):
// "before", "step:N" (N counts from 1) or "after".
type SamplePhase string

// The fixed phases; use StepPhase for a step.
const (
	PhaseBefore SamplePhase = "before"
	PhaseAfter  SamplePhase = "after"
)

// StepPhase returns the phase of step n (from 1).
func StepPhase(n int) SamplePhase { return SamplePhase("step:" + strconv.Itoa(n)) }

// Step returns the step number of a "step:N" phase, or false.
func (p SamplePhase) Step() (int, bool) {
	s, ok := strings.CutPrefix(string(p), "step:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}

// Valid reports whether p is before, after or step:N.
func (p SamplePhase) Valid() bool {
	_, step := p.Step()
	return p == PhaseBefore || p == PhaseAfter || step
}

// Sample is one observation by one probe. Samples are kept apart from the
// timeline because there are many of them.
type Sample struct {
	RunID     string      `json:"runID"`
	Probe     string      `json:"probe"`
	Time      time.Time   `json:"time"`
	Phase     SamplePhase `json:"phase"`
	OK        bool        `json:"ok"`
	LatencyNS int64       `json:"latencyNS"`
	// Value is the number a probe read (a PromQL result, a row count), if any.
	Value *float64 `json:"value"`
	Err   string   `json:"err,omitempty"`
}

// Validate checks a sample before it is appended.
func (s *Sample) Validate() error {
	switch {
	case s.RunID == "":
		return Errorf(EINVALID, "sample: run id required")
	case s.Probe == "":
		return Errorf(EINVALID, "sample: probe required")
	case !s.Phase.Valid():
		return Errorf(EINVALID, "sample: phase %q is not before, step:N or after", s.Phase)
	}
	return nil
}

// ReportFormat is the format of a report.
type ReportFormat string

// The report formats.
const (
	ReportJSON     ReportFormat = "json"
	ReportMarkdown ReportFormat = "md"
	ReportHTML     ReportFormat = "html"
	ReportJUnit    ReportFormat = "junit"
)

// Valid reports whether f is one of the report formats.
func (f ReportFormat) Valid() bool {
	switch f {
	case ReportJSON, ReportMarkdown, ReportHTML, ReportJUnit:
		return true
	}
	return false
}

// Report is one rendering of a run's report. A run has at most one report
// per format and language; Body holds the bytes, and Path where they were
// written for the user, if anywhere.
type Report struct {
	RunID     string       `json:"runID"`
	Format    ReportFormat `json:"format"`
	Lang      string       `json:"lang"` // "zh-CN" or "en"; "" for JUnit
	Body      []byte       `json:"-"`
	Path      string       `json:"path,omitempty"`
	CreatedAt time.Time    `json:"createdAt"`
}

// Validate checks a report before it is stored.
func (r *Report) Validate() error {
	switch {
	case r.RunID == "":
		return Errorf(EINVALID, "report: run id required")
	case !r.Format.Valid():
		return Errorf(EINVALID, "report: format %q is not json, md, html or junit", r.Format)
	}
	return nil
}

// TimeLayout is the one text form of stored timestamps (contract 12): UTC,
// nanoseconds, fixed width, so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime returns t in UTC in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime parses a timestamp written by FormatTime.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}
