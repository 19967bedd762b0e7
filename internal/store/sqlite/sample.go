package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// AppendSamples implements bulwark.RunStore: the whole batch in one
// transaction.
func (s *RunStore) AppendSamples(ctx context.Context, samples []bulwark.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	for i := range samples {
		if err := samples[i].Validate(); err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := appendSamples(ctx, tx, samples); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit samples: %w", err)
	}
	return nil
}

// Samples implements bulwark.RunStore.
func (s *RunStore) Samples(ctx context.Context, runID, probe string, from, to time.Time) ([]*bulwark.Sample, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	if err := runExists(ctx, tx, runID); err != nil {
		return nil, err
	}
	return findSamples(ctx, tx, runID, probe, from, to)
}

// sampleChunk is how many samples go in one multi-row INSERT: 8 parameters
// each, well under SQLite's limit of 32766 parameters per statement.
const sampleChunk = 256

// appendSamples inserts samples with multi-row INSERTs of up to sampleChunk
// rows. A sample of an unknown run fails the foreign key and so the batch.
func appendSamples(ctx context.Context, tx *Tx, samples []bulwark.Sample) error {
	for len(samples) > 0 {
		n := min(len(samples), sampleChunk)
		args := make([]any, 0, 8*n)
		for i := range samples[:n] {
			sm := &samples[i]
			var value any
			if sm.Value != nil {
				value = *sm.Value
			}
			args = append(args, sm.RunID, sm.Probe, timeArg(sm.Time), string(sm.Phase), sm.OK, sm.LatencyNS, value, sm.Err)
		}
		q := `INSERT INTO samples (run_id, probe, time, phase, ok, latency_ns, value, err) VALUES ` +
			strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?), `, n-1) + `(?, ?, ?, ?, ?, ?, ?, ?)`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			if isConstraint(err, codeForeignKey) {
				return bulwark.Errorf(bulwark.ENOTFOUND, "samples: a sample names a run that does not exist")
			}
			return fmt.Errorf("insert samples: %w", err)
		}
		samples = samples[n:]
	}
	return nil
}

// findSamples returns a run's samples in [from, to), by time.
func findSamples(ctx context.Context, tx *Tx, runID, probe string, from, to time.Time) ([]*bulwark.Sample, error) {
	q, args := `SELECT probe, time, phase, ok, latency_ns, value, err FROM samples WHERE run_id = ?`, []any{runID}
	if probe != "" {
		q, args = q+` AND probe = ?`, append(args, probe)
	}
	if !from.IsZero() {
		q, args = q+` AND time >= ?`, append(args, timeArg(from))
	}
	if !to.IsZero() {
		q, args = q+` AND time < ?`, append(args, timeArg(to))
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY time, probe, rowid`, args...)
	if err != nil {
		return nil, fmt.Errorf("find samples: %w", err)
	}
	defer rows.Close()
	var out []*bulwark.Sample
	for rows.Next() {
		sm := &bulwark.Sample{RunID: runID}
		var phase string
		var value sql.NullFloat64
		if err := rows.Scan(&sm.Probe, timeCol{&sm.Time}, &phase, &sm.OK, &sm.LatencyNS, &value, &sm.Err); err != nil {
			return nil, fmt.Errorf("scan sample: %w", err)
		}
		sm.Phase = bulwark.SamplePhase(phase)
		if value.Valid {
			v := value.Float64
			sm.Value = &v
		}
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find samples: %w", err)
	}
	return out, nil
}
