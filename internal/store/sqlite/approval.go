package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/approval"
)

// ApprovalStore implements approval.Store (migration 00005). Approvals are
// appended and never changed.
type ApprovalStore struct{ db *DB }

var _ approval.Store = (*ApprovalStore)(nil)

// NewApprovalStore returns an ApprovalStore on an open DB.
func NewApprovalStore(db *DB) *ApprovalStore { return &ApprovalStore{db: db} }

const approvalColumns = `id, drill_sha256, environment, ticket, valid_from, valid_until,
	approver_id, approver_name, approver_kind, approver_token, submitter, created_at`

// CreateApproval implements approval.Store.
func (s *ApprovalStore) CreateApproval(ctx context.Context, a *approval.Approval) error {
	if err := a.Validate(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if a.ID == "" {
		a.ID = bulwark.NewID()
	}
	a.CreatedAt = tx.now
	a.ValidFrom, a.ValidUntil = a.ValidFrom.UTC(), a.ValidUntil.UTC()
	_, err = tx.ExecContext(ctx, `INSERT INTO approvals (`+approvalColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.DrillSHA256, a.Environment, a.Ticket, timeArg(a.ValidFrom), timeArg(a.ValidUntil),
		a.Approver.ID, a.Approver.Name, string(a.Approver.Kind), a.Approver.TokenID, a.Submitter, timeArg(a.CreatedAt))
	if isConstraint(err, codePrimaryKey) {
		return bulwark.Errorf(bulwark.ECONFLICT, "approval %s already exists", a.ID)
	} else if err != nil {
		return fmt.Errorf("create approval: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit approval: %w", err)
	}
	return nil
}

// Approval implements approval.Store.
func (s *ApprovalStore) Approval(ctx context.Context, id string) (*approval.Approval, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	a, err := scanApproval(tx.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "approval %s not found", id)
	}
	return a, err
}

// FindApprovals implements approval.Store.
func (s *ApprovalStore) FindApprovals(ctx context.Context, f approval.Filter) ([]*approval.Approval, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+approvalColumns+` FROM approvals
		WHERE (? = '' OR drill_sha256 = ?) AND (? = '' OR environment = ?) AND ticket = ?
		ORDER BY created_at, id LIMIT ?`,
		f.DrillSHA256, f.DrillSHA256, f.Environment, f.Environment, f.Ticket, limit)
	if err != nil {
		return nil, fmt.Errorf("find approvals: %w", err)
	}
	defer rows.Close()
	var out []*approval.Approval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find approvals: %w", err)
	}
	return out, nil
}

// approvalRow is *sql.Row or *sql.Rows.
type approvalRow interface{ Scan(dest ...any) error }

func scanApproval(r approvalRow) (*approval.Approval, error) {
	a := &approval.Approval{}
	var kind string
	err := r.Scan(&a.ID, &a.DrillSHA256, &a.Environment, &a.Ticket, timeCol{&a.ValidFrom}, timeCol{&a.ValidUntil},
		&a.Approver.ID, &a.Approver.Name, &kind, &a.Approver.TokenID, &a.Submitter, timeCol{&a.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("scan approval: %w", err)
	}
	a.Approver.Kind = bulwark.PrincipalKind(kind)
	return a, nil
}
