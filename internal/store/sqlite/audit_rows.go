package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

const auditColumns = `seq, id, time, actor_id, actor_kind, action, resource, request_digest,
	result_status, result_reason, alg, prev_hash, hash`

func auditHead(ctx context.Context, tx *Tx) (audit.Head, error) {
	var h audit.Head
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Head{}, nil
	}
	if err != nil {
		return audit.Head{}, fmt.Errorf("read audit head: %w", err)
	}
	return h, nil
}

func auditHasID(ctx context.Context, tx *Tx, id string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_entries WHERE id = ?`, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up audit entry %s: %w", id, err)
	}
	return n > 0, nil
}

func insertAuditEntry(ctx context.Context, tx *Tx, e *audit.Entry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_entries (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.ID, bulwark.FormatTime(e.Time), e.Actor.ID, e.Actor.Kind, e.Action, e.Resource,
		e.RequestDigest, e.Result.Status, e.Result.Reason, e.Alg, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("insert audit entry %d: %w", e.Seq, err)
	}
	return nil
}

func scanAuditEntry(rows *sql.Rows) (audit.Entry, error) {
	var e audit.Entry
	var t string
	err := rows.Scan(&e.Seq, &e.ID, &t, &e.Actor.ID, &e.Actor.Kind, &e.Action, &e.Resource,
		&e.RequestDigest, &e.Result.Status, &e.Result.Reason, &e.Alg, &e.PrevHash, &e.Hash)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("scan audit entry: %w", err)
	}
	if e.Time, err = bulwark.ParseTime(t); err != nil {
		return audit.Entry{}, fmt.Errorf("audit entry %d: %w", e.Seq, err)
	}
	return e, nil
}
