package bulwark

import (
	"slices"
	"time"
)

// RunState is where a run is in its life. A run moves pending → running →
// recovering → finished; an abort, an error or a signal goes straight to
// recovering, because recovery always happens before a run finishes.
type RunState string

// The states of a run.
const (
	RunPending    RunState = "pending"    // created, nothing injected yet
	RunRunning    RunState = "running"    // steady-state checks and steps
	RunRecovering RunState = "recovering" // recovering every fault, then settle
	RunFinished   RunState = "finished"   // verdict and measures are final
)

// Valid reports whether s is one of the run states.
func (s RunState) Valid() bool {
	switch s {
	case RunPending, RunRunning, RunRecovering, RunFinished:
		return true
	}
	return false
}

// Verdict is the outcome of a finished run (DESIGN §5, contract 7). The
// zh-CN and en display names live in the report message catalogue.
type Verdict string

// The verdicts. An unfinished run has the empty verdict.
const (
	VerdictPassed  Verdict = "passed"  // the hypothesis held before, during and after
	VerdictFailed  Verdict = "failed"  // a tolerance was broken: a weakness found
	VerdictAborted Verdict = "aborted" // an abort condition fired
	VerdictError   Verdict = "error"   // the platform could not run or recover the drill
)

// Valid reports whether v is one of the verdicts.
func (v Verdict) Valid() bool {
	switch v {
	case VerdictPassed, VerdictFailed, VerdictAborted, VerdictError:
		return true
	}
	return false
}

// ExitCode returns the process exit code for v (contract 7): 0 passed, 1
// failed or aborted, 3 error. The empty verdict maps to 3.
func (v Verdict) ExitCode() int {
	switch v {
	case VerdictPassed:
		return 0
	case VerdictFailed, VerdictAborted:
		return 1
	}
	return 3
}

// MTTDSource says what a time to detect was measured from (contract 4).
type MTTDSource string

// The sources of MTTD. Without an alert source the first out-of-tolerance
// probe stands in, and the report says so.
const (
	MTTDFromAlert MTTDSource = "alert"
	MTTDFromProbe MTTDSource = "probe"
)

// Measures are the times and spans of contract 4, for one step or a whole
// run. A nil field means "not detected" and encodes as JSON null; it is never
// reported as zero.
type Measures struct {
	TActive   *time.Time `json:"tActive"`   // fault verified active
	TEffect   *time.Time `json:"tEffect"`   // first probe sample out of tolerance
	TAlert    *time.Time `json:"tAlert"`    // startsAt of the first correlated alert
	TAck      *time.Time `json:"tAck"`      // first acknowledgement by a responder
	TEnd      *time.Time `json:"tEnd"`      // fault verified recovered
	TRestored *time.Time `json:"tRestored"` // start of the first settle window in tolerance

	TimeToEffect     *Duration  `json:"timeToEffect"`     // tEffect − tActive
	MTTD             *Duration  `json:"mttd"`             // tAlert − tActive (or the probe stand-in)
	MTTA             *Duration  `json:"mtta"`             // tAck − tActive
	MTTR             *Duration  `json:"mttr"`             // tRestored − tEffect
	RecoveryAfterEnd *Duration  `json:"recoveryAfterEnd"` // tRestored − tEnd
	RTO              *Duration  `json:"rto"`              // procedure drills: time to restore service
	RPO              *Duration  `json:"rpo"`              // procedure drills: age of the restored data
	MTTDSource       MTTDSource `json:"mttdSource,omitempty"`
}

// StepMeasures are the measures of one step of a run, by its position in the
// drill's flattened step list.
type StepMeasures struct {
	Step     int    `json:"step"`
	Name     string `json:"name,omitempty"`
	Measures `json:"measures"`
}

// Runner identifies the process executing a run, so that a later bulwark
// command can tell a run whose process was killed from one still going.
// PIDStart is the process start time as the OS reports it (on Linux, field 22
// of /proc/PID/stat), which guards against a recycled pid.
type Runner struct {
	Host     string `json:"host"`
	PID      int    `json:"pid"`
	PIDStart uint64 `json:"pidStart,omitempty"`
}

// Run is one execution of a drill: its identity, where it stands, its verdict
// and measures. Its timeline is the list of RunEvent with the same RunID.
type Run struct {
	ID          string   `json:"id"`
	DrillName   string   `json:"drillName"`
	System      string   `json:"system"`
	Environment string   `json:"environment"`
	Type        string   `json:"type"` // special | surprise | red-blue | replay | adhoc
	Risk        string   `json:"risk,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	Ticket      string   `json:"ticket,omitempty"` // metadata.change.ticket
	DrillSHA256 string   `json:"drillSHA256"`
	Seed        int64    `json:"seed"`
	Runner      Runner   `json:"runner"`
	State       RunState `json:"state"`
	Verdict     Verdict  `json:"verdict,omitempty"`
	// Reason says in one line why the run ended as it did.
	Reason string `json:"reason,omitempty"`

	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	StartedAt *time.Time `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt"`

	Measures     Measures       `json:"measures"`
	StepMeasures []StepMeasures `json:"stepMeasures,omitempty"`
	// Hosts are the names of the hosts the run selected, chosen once per run.
	Hosts []string `json:"hosts,omitempty"`
	// ReportPaths maps a report format to where that report was written.
	ReportPaths map[ReportFormat]string `json:"reportPaths,omitempty"`
}

// Validate checks the fields a store needs before creating a run.
func (r *Run) Validate() error {
	switch {
	case r.ID == "":
		return Errorf(EINVALID, "run: id required")
	case r.DrillName == "":
		return Errorf(EINVALID, "run: drill name required")
	case !r.State.Valid():
		return Errorf(EINVALID, "run: state %q is not pending, running, recovering or finished", r.State)
	case r.Verdict != "" && !r.Verdict.Valid():
		return Errorf(EINVALID, "run: verdict %q is not passed, failed, aborted or error", r.Verdict)
	}
	return nil
}

// RunUpdate is a patch to a run: nil fields are left as they are.
type RunUpdate struct {
	State        *RunState
	Verdict      *Verdict
	Reason       *string
	Runner       *Runner
	StartedAt    *time.Time
	EndedAt      *time.Time
	Measures     *Measures
	StepMeasures []StepMeasures // replaces the list when non-nil
	Hosts        []string       // replaces the list when non-nil
	Seed         *int64
	// ReportPaths adds or replaces paths by format; others are kept.
	ReportPaths map[ReportFormat]string
}

// Apply applies the patch to r in memory, so every store updates the same
// fields the same way. It does not touch UpdatedAt.
func (u RunUpdate) Apply(r *Run) {
	if u.State != nil {
		r.State = *u.State
	}
	if u.Verdict != nil {
		r.Verdict = *u.Verdict
	}
	if u.Reason != nil {
		r.Reason = *u.Reason
	}
	if u.Runner != nil {
		r.Runner = *u.Runner
	}
	if u.StartedAt != nil {
		r.StartedAt = u.StartedAt
	}
	if u.EndedAt != nil {
		r.EndedAt = u.EndedAt
	}
	if u.Measures != nil {
		r.Measures = *u.Measures
	}
	if u.StepMeasures != nil {
		r.StepMeasures = slices.Clone(u.StepMeasures)
	}
	if u.Hosts != nil {
		r.Hosts = slices.Clone(u.Hosts)
	}
	if u.Seed != nil {
		r.Seed = *u.Seed
	}
	for f, p := range u.ReportPaths {
		if r.ReportPaths == nil {
			r.ReportPaths = map[ReportFormat]string{}
		}
		r.ReportPaths[f] = p
	}
}

// RunFilter narrows a listing of runs. Nil and zero fields match
// everything; the rest must all match. Runs come newest first.
type RunFilter struct {
	ID          *string
	DrillName   *string
	System      *string
	Environment *string
	State       *RunState
	Verdict     *Verdict
	// Unfinished matches runs in any state but finished.
	Unfinished bool
	// CreatedAfter and CreatedBefore bound CreatedAt: [after, before).
	CreatedAfter  *time.Time
	CreatedBefore *time.Time

	Offset int
	Limit  int // 0 means no limit
}
