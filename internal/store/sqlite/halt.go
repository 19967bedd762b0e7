package sqlite

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// HaltRecord is one halt in force, as stored.
type HaltRecord struct {
	System, Environment string
	Since               time.Time
	By                  bulwark.Principal
}

// HaltStore keeps the halts in force.
type HaltStore struct{ db *DB }

// NewHaltStore returns the halts kept in db.
func NewHaltStore(db *DB) *HaltStore { return &HaltStore{db: db} }

// PutHalt records a halt; an existing halt of the same scope is kept.
func (s *HaltStore) PutHalt(ctx context.Context, h HaltRecord) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO halts (system, environment, since, by_id, by_name) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (system, environment) DO NOTHING`,
		h.System, h.Environment, bulwark.FormatTime(h.Since), h.By.ID, h.By.Name); err != nil {
		return err
	}
	return tx.Commit()
}

// DeleteHalt removes the halt of exactly this scope.
func (s *HaltStore) DeleteHalt(ctx context.Context, system, environment string) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM halts WHERE system = ? AND environment = ?`, system, environment); err != nil {
		return err
	}
	return tx.Commit()
}

// Halts returns the halts in force, oldest first.
func (s *HaltStore) Halts(ctx context.Context) ([]HaltRecord, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	rows, err := tx.QueryContext(ctx, `SELECT system, environment, since, by_id, by_name FROM halts ORDER BY since`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HaltRecord
	for rows.Next() {
		var h HaltRecord
		var since string
		if err := rows.Scan(&h.System, &h.Environment, &since, &h.By.ID, &h.By.Name); err != nil {
			return nil, err
		}
		if h.Since, err = time.Parse(bulwark.TimeLayout, since); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
