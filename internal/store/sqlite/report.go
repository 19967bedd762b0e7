package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
)

// PutReport implements bulwark.RunStore.
func (s *RunStore) PutReport(ctx context.Context, r *bulwark.Report) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if err := putReport(ctx, tx, r); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit report: %w", err)
	}
	return nil
}

// Report implements bulwark.RunStore.
func (s *RunStore) Report(ctx context.Context, runID string, format bulwark.ReportFormat, lang string) (*bulwark.Report, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	return findReport(ctx, tx, runID, format, lang)
}

// putReport inserts r or replaces the report with the same key.
func putReport(ctx context.Context, tx *Tx, r *bulwark.Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = tx.now
	}
	r.CreatedAt = r.CreatedAt.UTC()
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO reports (run_id, format, lang, body, path, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, format, lang) DO UPDATE
		SET body = excluded.body, path = excluded.path, created_at = excluded.created_at`,
		r.RunID, string(r.Format), r.Lang, body, r.Path, timeArg(r.CreatedAt))
	if isConstraint(err, codeForeignKey) {
		return bulwark.Errorf(bulwark.ENOTFOUND, "run %s not found", r.RunID)
	} else if err != nil {
		return fmt.Errorf("put report: %w", err)
	}
	return nil
}

// findReport returns one report, or ENOTFOUND.
func findReport(ctx context.Context, tx *Tx, runID string, format bulwark.ReportFormat, lang string) (*bulwark.Report, error) {
	r := &bulwark.Report{RunID: runID, Format: format, Lang: lang}
	err := tx.QueryRowContext(ctx, `SELECT body, path, created_at FROM reports
		WHERE run_id = ? AND format = ? AND lang = ?`, runID, string(format), lang).
		Scan(&r.Body, &r.Path, timeCol{&r.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "run %s has no %s report in %q", runID, format, lang)
	} else if err != nil {
		return nil, fmt.Errorf("find report: %w", err)
	}
	return r, nil
}
