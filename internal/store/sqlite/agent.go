package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

const agentCols = `id, hostname, state_dir, instance_id, labels, environment, zone, join_token_id,
	cert_serial, cert_not_after, enrolled_at, last_seen, epoch, desired, revoked_at`

// CreateAgent implements agentstore.Store.
func (s *AgentStore) CreateAgent(ctx context.Context, a *agentstore.Agent) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	if a.EnrolledAt.IsZero() {
		a.EnrolledAt = tx.now
	}
	args, err := agentArgs(a)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO agents (`+agentCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
	if isConstraint(err, codePrimaryKey) || isConstraint(err, codeUniqueAgent) {
		return bulwark.Errorf(bulwark.ECONFLICT, "agent %s (or its instance %s) already exists", a.ID, a.InstanceID)
	}
	if err != nil {
		return fmt.Errorf("insert agent: %w", err)
	}
	return tx.Commit()
}

// PutAgents implements agentstore.Store.
func (s *AgentStore) PutAgents(ctx context.Context, agents []*agentstore.Agent) error {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	stmt, err := tx.PrepareContext(ctx, `UPDATE agents SET hostname=?2, state_dir=?3, instance_id=?4, labels=?5,
		environment=?6, zone=?7, join_token_id=?8, cert_serial=?9, cert_not_after=?10, enrolled_at=?11,
		last_seen=?12, epoch=?13, desired=?14, revoked_at=?15 WHERE id=?1`)
	if err != nil {
		return fmt.Errorf("prepare agent update: %w", err)
	}
	defer stmt.Close()
	for _, a := range agents {
		args, err := agentArgs(a)
		if err != nil {
			return err
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("update agent %s: %w", a.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulwark.Errorf(bulwark.ENOTFOUND, "no agent %s", a.ID)
		}
	}
	return tx.Commit()
}

// FindAgent implements agentstore.Store.
func (s *AgentStore) FindAgent(ctx context.Context, id string) (*agentstore.Agent, error) {
	return s.findAgent(ctx, "id", id)
}

// FindAgentByInstance implements agentstore.Store.
func (s *AgentStore) FindAgentByInstance(ctx context.Context, instanceID string) (*agentstore.Agent, error) {
	return s.findAgent(ctx, "instance_id", instanceID)
}

func (s *AgentStore) findAgent(ctx context.Context, col, v string) (*agentstore.Agent, error) {
	row := s.db.reader.QueryRowContext(ctx, `SELECT `+agentCols+` FROM agents WHERE `+col+` = ?`, v)
	a, err := scanAgent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "no agent with %s %s", col, v)
	}
	return a, err
}

// Agents implements agentstore.Store.
func (s *AgentStore) Agents(ctx context.Context) ([]*agentstore.Agent, error) {
	rows, err := s.db.reader.QueryContext(ctx, `SELECT `+agentCols+` FROM agents ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	var out []*agentstore.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func agentArgs(a *agentstore.Agent) ([]any, error) {
	labels, err := json.Marshal(nonNilMap(a.Labels))
	if err != nil {
		return nil, fmt.Errorf("encode labels: %w", err)
	}
	desired := a.Desired
	if desired == nil {
		desired = []agentstore.DesiredFault{}
	}
	d, err := json.Marshal(desired)
	if err != nil {
		return nil, fmt.Errorf("encode desired faults: %w", err)
	}
	return []any{a.ID, a.Hostname, a.StateDir, a.InstanceID, string(labels), a.Environment, a.Zone, a.JoinTokenID,
		a.CertSerial, zeroTimeArg(a.CertNotAfter), timeArg(a.EnrolledAt), zeroTimeArg(a.LastSeen),
		int64(a.Epoch), string(d), ptrTimeArg(a.RevokedAt)}, nil
}

func scanAgent(r rowScanner) (*agentstore.Agent, error) {
	var a agentstore.Agent
	var labels, desired string
	var notAfter, lastSeen *time.Time
	var epoch int64
	err := r.Scan(&a.ID, &a.Hostname, &a.StateDir, &a.InstanceID, &labels, &a.Environment, &a.Zone, &a.JoinTokenID,
		&a.CertSerial, ptrTimeCol{&notAfter}, timeCol{&a.EnrolledAt}, ptrTimeCol{&lastSeen}, &epoch, &desired, ptrTimeCol{&a.RevokedAt})
	if err != nil {
		return nil, err
	}
	if notAfter != nil {
		a.CertNotAfter = *notAfter
	}
	if lastSeen != nil {
		a.LastSeen = *lastSeen
	}
	a.Epoch = uint64(epoch)
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return nil, fmt.Errorf("decode labels of agent %s: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(desired), &a.Desired); err != nil {
		return nil, fmt.Errorf("decode desired faults of agent %s: %w", a.ID, err)
	}
	for i := range a.Desired {
		if !a.Desired[i].ExpiresAt.IsZero() {
			a.Desired[i].ExpiresAt = a.Desired[i].ExpiresAt.UTC()
		}
	}
	return &a, nil
}

// zeroTimeArg stores a zero time as NULL.
func zeroTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeArg(t)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
