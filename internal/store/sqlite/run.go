package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

// Interface guard.
var _ bulwark.RunStore = (*RunStore)(nil)

// RunStore implements bulwark.RunStore on a DB.
type RunStore struct {
	db *DB
}

// NewRunStore returns a RunStore over an open db.
func NewRunStore(db *DB) *RunStore { return &RunStore{db: db} }

// CreateRun implements bulwark.RunStore.
func (s *RunStore) CreateRun(ctx context.Context, r *bulwark.Run) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := createRun(ctx, tx, r); err != nil {
		return err
	}
	return tx.Commit()
}

// FindRunByID implements bulwark.RunStore.
func (s *RunStore) FindRunByID(ctx context.Context, id string) (*bulwark.Run, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	return findRunByID(ctx, tx, id)
}

// FindRuns implements bulwark.RunStore.
func (s *RunStore) FindRuns(ctx context.Context, filter bulwark.RunFilter) ([]*bulwark.Run, int, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.rollback()
	return findRuns(ctx, tx, filter, "created_at DESC, id DESC")
}

// UnfinishedRuns implements bulwark.RunStore.
func (s *RunStore) UnfinishedRuns(ctx context.Context) ([]*bulwark.Run, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	runs, _, err := findRuns(ctx, tx, bulwark.RunFilter{Unfinished: true}, "created_at, id")
	return runs, err
}

// UpdateRun implements bulwark.RunStore.
func (s *RunStore) UpdateRun(ctx context.Context, id string, upd bulwark.RunUpdate) (*bulwark.Run, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	r, err := updateRun(ctx, tx, id, upd)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return r, nil
}

// runCols are the columns of runs read and written by this file, without
// the measures, which follow them.
const runCols = `id, drill_name, system, environment, type, risk, owner, ticket, drill_sha256,
	seed, runner_host, runner_pid, runner_pid_start, state, verdict, reason,
	created_at, updated_at, started_at, ended_at, hosts, report_paths`

// runArgs returns r's values for runCols and then measureCols.
func runArgs(r *bulwark.Run) ([]any, error) {
	hosts, err := json.Marshal(nonNil(r.Hosts))
	if err != nil {
		return nil, fmt.Errorf("encode hosts: %w", err)
	}
	paths := r.ReportPaths
	if paths == nil {
		paths = map[bulwark.ReportFormat]string{}
	}
	pathsJSON, err := json.Marshal(paths)
	if err != nil {
		return nil, fmt.Errorf("encode report paths: %w", err)
	}
	args := []any{r.ID, r.DrillName, r.System, r.Environment, r.Type, r.Risk, r.Owner, r.Ticket,
		r.DrillSHA256, r.Seed, r.Runner.Host, r.Runner.PID, int64(r.Runner.PIDStart),
		string(r.State), string(r.Verdict), r.Reason,
		timeArg(r.CreatedAt), timeArg(r.UpdatedAt), ptrTimeArg(r.StartedAt), ptrTimeArg(r.EndedAt),
		string(hosts), string(pathsJSON)}
	return append(args, measureArgs(&r.Measures)...), nil
}

// createRun inserts r and its step measures, setting its timestamps.
func createRun(ctx context.Context, tx *Tx, r *bulwark.Run) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = tx.now
	}
	r.UpdatedAt = tx.now
	normaliseRun(r)

	args, err := runArgs(r)
	if err != nil {
		return err
	}
	q := `INSERT INTO runs (` + runCols + `, ` + measureCols + `) VALUES (` + placeholders(len(args)) + `)`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		if isConstraint(err, codePrimaryKey) {
			return bulwark.Errorf(bulwark.ECONFLICT, "run %s already exists", r.ID)
		}
		return fmt.Errorf("insert run: %w", err)
	}
	return replaceStepMeasures(ctx, tx, r.ID, r.StepMeasures)
}

// updateRun applies upd to the run with the given id and writes it back.
func updateRun(ctx context.Context, tx *Tx, id string, upd bulwark.RunUpdate) (*bulwark.Run, error) {
	r, err := findRunByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if r.State == bulwark.RunFinished {
		if (upd.State != nil && *upd.State != r.State) || (upd.Verdict != nil && *upd.Verdict != r.Verdict) {
			return nil, bulwark.Errorf(bulwark.ECONFLICT, "run %s is finished: its state and verdict are final", id)
		}
	}
	upd.Apply(r)
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.UpdatedAt = tx.now
	normaliseRun(r)

	args, err := runArgs(r)
	if err != nil {
		return nil, err
	}
	cols := strings.Split(runCols+", "+measureCols, ",")
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] { // every column but id
		set = append(set, strings.TrimSpace(c)+" = ?")
	}
	q := `UPDATE runs SET ` + strings.Join(set, ", ") + ` WHERE id = ?`
	if _, err := tx.ExecContext(ctx, q, append(args[1:], id)...); err != nil {
		return nil, fmt.Errorf("update run: %w", err)
	}
	if upd.StepMeasures != nil {
		if err := replaceStepMeasures(ctx, tx, id, r.StepMeasures); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// normaliseRun puts every time in r into UTC, as it will read back.
func normaliseRun(r *bulwark.Run) {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	r.StartedAt, r.EndedAt = utcPtr(r.StartedAt), utcPtr(r.EndedAt)
	normaliseMeasures(&r.Measures)
	for i := range r.StepMeasures {
		normaliseMeasures(&r.StepMeasures[i].Measures)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
