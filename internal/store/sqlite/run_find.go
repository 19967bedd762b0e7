package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

// findRunByID returns one run with its step measures, or ENOTFOUND.
func findRunByID(ctx context.Context, tx *Tx, id string) (*bulwark.Run, error) {
	runs, _, err := findRuns(ctx, tx, bulwark.RunFilter{ID: &id}, "id")
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "run %s not found", id)
	}
	return runs[0], nil
}

// runWhere builds the WHERE clause and its arguments for filter.
func runWhere(f bulwark.RunFilter) (string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	eq := func(col string, v *string) {
		if v != nil {
			where, args = append(where, col+" = ?"), append(args, *v)
		}
	}
	eq("id", f.ID)
	eq("drill_name", f.DrillName)
	eq("system", f.System)
	eq("environment", f.Environment)
	eq("state", (*string)(f.State))
	eq("verdict", (*string)(f.Verdict))
	if f.Unfinished {
		where = append(where, "state <> 'finished'")
	}
	if f.CreatedAfter != nil {
		where, args = append(where, "created_at >= ?"), append(args, timeArg(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		where, args = append(where, "created_at < ?"), append(args, timeArg(*f.CreatedBefore))
	}
	return strings.Join(where, " AND "), args
}

// findRuns returns the runs matching f in the given order, with their step
// measures, and the number of matches ignoring Offset and Limit.
func findRuns(ctx context.Context, tx *Tx, f bulwark.RunFilter, order string) ([]*bulwark.Run, int, error) {
	where, args := runWhere(f)

	// Count every match first, then read the requested page.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE `+where, args...).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count runs: %w", err)
	}
	q := `SELECT ` + runCols + `, ` + measureCols + ` FROM runs WHERE ` + where + ` ORDER BY ` + order
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = -1 // SQLite: no limit
		}
		q += fmt.Sprintf(` LIMIT %d OFFSET %d`, limit, max(f.Offset, 0))
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find runs: %w", err)
	}
	defer rows.Close()
	var runs []*bulwark.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, 0, err
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find runs: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, 0, fmt.Errorf("find runs: %w", err)
	}

	// Attach each run's step measures.
	for _, r := range runs {
		if r.StepMeasures, err = findStepMeasures(ctx, tx, r.ID); err != nil {
			return nil, 0, err
		}
	}
	return runs, n, nil
}

// scanRun reads one row of runCols and measureCols.
func scanRun(rows interface{ Scan(...any) error }) (*bulwark.Run, error) {
	var (
		r             bulwark.Run
		pidStart      int64
		hosts, paths  string
		state, verdic string
	)
	dest := []any{&r.ID, &r.DrillName, &r.System, &r.Environment, &r.Type, &r.Risk, &r.Owner, &r.Ticket,
		&r.DrillSHA256, &r.Seed, &r.Runner.Host, &r.Runner.PID, &pidStart, &state, &verdic, &r.Reason,
		timeCol{&r.CreatedAt}, timeCol{&r.UpdatedAt}, ptrTimeCol{&r.StartedAt}, ptrTimeCol{&r.EndedAt},
		&hosts, &paths}
	if err := rows.Scan(append(dest, measureDest(&r.Measures)...)...); err != nil {
		return nil, fmt.Errorf("scan run: %w", err)
	}
	r.Runner.PIDStart = uint64(pidStart)
	r.State, r.Verdict = bulwark.RunState(state), bulwark.Verdict(verdic)
	if err := json.Unmarshal([]byte(hosts), &r.Hosts); err != nil {
		return nil, fmt.Errorf("decode hosts of run %s: %w", r.ID, err)
	}
	if len(r.Hosts) == 0 {
		r.Hosts = nil
	}
	if err := json.Unmarshal([]byte(paths), &r.ReportPaths); err != nil {
		return nil, fmt.Errorf("decode report paths of run %s: %w", r.ID, err)
	}
	if len(r.ReportPaths) == 0 {
		r.ReportPaths = nil
	}
	return &r, nil
}

// findStepMeasures returns a run's step measures by step.
func findStepMeasures(ctx context.Context, tx *Tx, runID string) ([]bulwark.StepMeasures, error) {
	rows, err := tx.QueryContext(ctx, `SELECT step, name, `+measureCols+`
		FROM run_step_measures WHERE run_id = ? ORDER BY step`, runID)
	if err != nil {
		return nil, fmt.Errorf("find step measures: %w", err)
	}
	defer rows.Close()
	var out []bulwark.StepMeasures
	for rows.Next() {
		var sm bulwark.StepMeasures
		if err := rows.Scan(append([]any{&sm.Step, &sm.Name}, measureDest(&sm.Measures)...)...); err != nil {
			return nil, fmt.Errorf("scan step measures: %w", err)
		}
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find step measures: %w", err)
	}
	return out, nil
}

// replaceStepMeasures replaces a run's step measures with sms.
func replaceStepMeasures(ctx context.Context, tx *Tx, runID string, sms []bulwark.StepMeasures) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM run_step_measures WHERE run_id = ?`, runID); err != nil {
		return fmt.Errorf("delete step measures: %w", err)
	}
	q := `INSERT INTO run_step_measures (run_id, step, name, ` + measureCols + `) VALUES (` + placeholders(17) + `)`
	for i := range sms {
		args := append([]any{runID, sms[i].Step, sms[i].Name}, measureArgs(&sms[i].Measures)...)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			if isConstraint(err, codePrimaryKey) {
				return bulwark.Errorf(bulwark.EINVALID, "run %s: step %d has measures twice", runID, sms[i].Step)
			}
			return fmt.Errorf("insert step measures: %w", err)
		}
	}
	return nil
}
