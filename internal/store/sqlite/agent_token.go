package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// AgentStore implements agentstore.Store on the embedded database.
type AgentStore struct{ db *DB }

// NewAgentStore returns an AgentStore over an open DB.
func NewAgentStore(db *DB) *AgentStore { return &AgentStore{db: db} }

var _ agentstore.Store = (*AgentStore)(nil)

const tokenCols = `id, name, hash, environment, zone, created_by, created_at, expires_at, revoked_at, uses`

// CreateJoinToken implements agentstore.Store.
func (s *AgentStore) CreateJoinToken(ctx context.Context, t *agentstore.JoinToken) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = tx.now
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO agent_join_tokens (`+tokenCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.Name, t.Hash, t.Environment, t.Zone, t.CreatedBy, timeArg(t.CreatedAt), timeArg(t.ExpiresAt), ptrTimeArg(t.RevokedAt), t.Uses)
	if isConstraint(err, codePrimaryKey) || isConstraint(err, codeUniqueAgent) {
		return bulwark.Errorf(bulwark.ECONFLICT, "join token %s (or its secret) already exists", t.ID)
	}
	if err != nil {
		return fmt.Errorf("insert join token: %w", err)
	}
	return tx.Commit()
}

// JoinTokenByHash implements agentstore.Store.
func (s *AgentStore) JoinTokenByHash(ctx context.Context, hash string) (*agentstore.JoinToken, error) {
	row := s.db.reader.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM agent_join_tokens WHERE hash = ?`, hash)
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "no such join token")
	}
	return t, err
}

// JoinTokens implements agentstore.Store.
func (s *AgentStore) JoinTokens(ctx context.Context) ([]*agentstore.JoinToken, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+tokenCols+` FROM agent_join_tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list join tokens: %w", err)
	}
	defer rows.Close()
	var out []*agentstore.JoinToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeJoinToken implements agentstore.Store.
func (s *AgentStore) RevokeJoinToken(ctx context.Context, id string) error {
	return s.updateToken(ctx, id, `UPDATE agent_join_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, true)
}

// UseJoinToken implements agentstore.Store.
func (s *AgentStore) UseJoinToken(ctx context.Context, id string) error {
	return s.updateToken(ctx, id, `UPDATE agent_join_tokens SET uses = uses + 1 WHERE id = ?`, false)
}

func (s *AgentStore) updateToken(ctx context.Context, id, query string, withTime bool) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	args := []any{id}
	if withTime {
		args = []any{timeArg(tx.now), id}
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("update join token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bulwark.Errorf(bulwark.ENOTFOUND, "no join token %s", id)
	}
	return tx.Commit()
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// codeUniqueAgent is SQLITE_CONSTRAINT_UNIQUE (a duplicate hash or instance).
const codeUniqueAgent = sqlite3.SQLITE_CONSTRAINT_UNIQUE

func scanToken(r rowScanner) (*agentstore.JoinToken, error) {
	var t agentstore.JoinToken
	err := r.Scan(&t.ID, &t.Name, &t.Hash, &t.Environment, &t.Zone, &t.CreatedBy,
		timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, ptrTimeCol{&t.RevokedAt}, &t.Uses)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
