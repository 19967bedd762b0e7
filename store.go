package bulwark

import (
	"context"
	"time"
)

// RunStore keeps runs, their event timelines, probe samples and reports. The
// embedded SQLite store and the PostgreSQL store implement it, and both pass
// the contract suite in internal/store/storetest.
//
// Contract, for every implementation:
//   - Every method takes ctx first and gives up when it is done.
//   - Timestamps go in with any location and come out in UTC with their
//     nanoseconds intact; they are stored in TimeLayout.
//   - A missing run is reported as an *Error with code ENOTFOUND, a
//     duplicate id as ECONFLICT and a malformed value as EINVALID; callers
//     test with ErrorCode, never with the message.
//   - When a write method returns nil, the write is committed: the next
//     process to open the store sees it, even if this one is killed.
//   - Methods are safe for concurrent use.
type RunStore interface {
	// CreateRun stores a new run. It sets UpdatedAt, and CreatedAt unless
	// the caller set it, and normalises r's times to UTC.
	CreateRun(ctx context.Context, r *Run) error

	// FindRunByID returns the run with the given id, or ENOTFOUND.
	FindRunByID(ctx context.Context, id string) (*Run, error)

	// FindRuns returns the runs that match filter, newest first (by
	// CreatedAt, then id descending), and the number of matching runs
	// regardless of Offset and Limit.
	FindRuns(ctx context.Context, filter RunFilter) ([]*Run, int, error)

	// UpdateRun applies upd to the run and returns the updated run. A
	// finished run may still gain report paths and measures, but its state
	// and verdict are final: changing them is ECONFLICT.
	UpdateRun(ctx context.Context, id string, upd RunUpdate) (*Run, error)

	// UnfinishedRuns returns every run that is not finished, oldest first
	// (by CreatedAt, then id).
	// Any bulwark command that may touch a host calls it at start to find
	// runs whose process was killed, recover their faults and finish them
	// with the verdict error.
	UnfinishedRuns(ctx context.Context) ([]*Run, error)

	// AppendEvent appends e to its run's timeline and returns the assigned
	// Seq, which it also sets on e. Seqs start at 1 and are gapless per run,
	// also under concurrent appends. A zero Time is set from the store's
	// clock and a zero SchemaVersion to EventSchemaVersion. The event is
	// committed when AppendEvent returns: the engine appends an event
	// before it acts on it, so that a later process can finish the run.
	AppendEvent(ctx context.Context, e *RunEvent) (int64, error)

	// Events returns the run's events with Seq > afterSeq in Seq order.
	// An unknown run is ENOTFOUND.
	Events(ctx context.Context, runID string, afterSeq int64) ([]*RunEvent, error)

	// AppendSamples stores a batch of samples in one transaction: all of
	// them or none.
	AppendSamples(ctx context.Context, samples []Sample) error

	// Samples returns the run's samples with from <= Time < to, ordered by
	// Time, then probe, then the order they were appended. An empty probe
	// means every probe; a zero from or to leaves that end open. An unknown
	// run is ENOTFOUND.
	Samples(ctx context.Context, runID, probe string, from, to time.Time) ([]*Sample, error)

	// PutReport stores a report, replacing any with the same run, format
	// and language. It sets CreatedAt unless the caller set it.
	PutReport(ctx context.Context, r *Report) error

	// Report returns the run's report in the given format and language, or
	// ENOTFOUND.
	Report(ctx context.Context, runID string, format ReportFormat, lang string) (*Report, error)
}
