package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
)

// AppendEvent implements bulwark.RunStore. The run's last_seq counter is
// bumped and the event inserted in one write transaction; writes are
// serialised on the single writer connection (and across processes by
// SQLite's write lock), so seqs are gapless.
func (s *RunStore) AppendEvent(ctx context.Context, e *bulwark.RunEvent) (int64, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.rollback()
	if err := appendEvent(ctx, tx, e); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit event: %w", err)
	}
	return e.Seq, nil
}

// Events implements bulwark.RunStore.
func (s *RunStore) Events(ctx context.Context, runID string, afterSeq int64) ([]*bulwark.RunEvent, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	if err := runExists(ctx, tx, runID); err != nil {
		return nil, err
	}
	return findEvents(ctx, tx, runID, afterSeq)
}

// appendEvent assigns e the run's next seq and inserts it.
func appendEvent(ctx context.Context, tx *Tx, e *bulwark.RunEvent) error {
	if e.SchemaVersion == 0 {
		e.SchemaVersion = bulwark.EventSchemaVersion
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = tx.now
	}
	e.Time = e.Time.UTC()

	var seq int64
	err := tx.QueryRowContext(ctx, `UPDATE runs SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`,
		e.RunID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return bulwark.Errorf(bulwark.ENOTFOUND, "run %s not found", e.RunID)
	} else if err != nil {
		return fmt.Errorf("next seq: %w", err)
	}

	var data any
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_events (run_id, seq, time, type, schema_version, data)
		VALUES (?, ?, ?, ?, ?, ?)`, e.RunID, seq, timeArg(e.Time), string(e.Type), e.SchemaVersion, data); err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	e.Seq = seq
	return nil
}

// findEvents returns a run's events after afterSeq in seq order.
func findEvents(ctx context.Context, tx *Tx, runID string, afterSeq int64) ([]*bulwark.RunEvent, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, time, type, schema_version, data
		FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq`, runID, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	var out []*bulwark.RunEvent
	for rows.Next() {
		e := &bulwark.RunEvent{RunID: runID}
		var typ string
		var data sql.NullString
		if err := rows.Scan(&e.Seq, timeCol{&e.Time}, &typ, &e.SchemaVersion, &data); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		e.Type = bulwark.EventType(typ)
		if data.Valid {
			e.Data = []byte(data.String)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	return out, nil
}

// runExists returns ENOTFOUND unless the run exists.
func runExists(ctx context.Context, tx *Tx, runID string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return bulwark.Errorf(bulwark.ENOTFOUND, "run %s not found", runID)
	} else if err != nil {
		return fmt.Errorf("find run: %w", err)
	}
	return nil
}
