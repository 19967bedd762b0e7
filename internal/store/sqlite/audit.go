package sqlite

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// Interface guard.
var _ audit.Store = (*AuditStore)(nil)

// AuditStore implements audit.Store on a DB. Appends run on the single
// writer connection in a BEGIN IMMEDIATE transaction, so seq stays gapless
// against this process's other writers and against other processes.
type AuditStore struct {
	db *DB
}

// NewAuditStore returns an AuditStore over an open db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

// Append implements audit.Store. The transaction commits with
// synchronous=FULL: an entry Append returned survives a power loss, not
// only a crash of the process.
func (s *AuditStore) Append(ctx context.Context, entries []audit.Entry, seal audit.SealFunc) (out []audit.Entry, err error) {
	err = s.durably(ctx, func(tx *Tx) error {
		out, err = appendAudit(ctx, tx, entries, seal)
		return err
	})
	return out, err
}

func appendAudit(ctx context.Context, tx *Tx, entries []audit.Entry, seal audit.SealFunc) ([]audit.Entry, error) {
	head, err := auditHead(ctx, tx)
	if err != nil {
		return nil, err
	}
	var out []audit.Entry
	for _, e := range entries {
		stored, err := auditHasID(ctx, tx, e.ID)
		if err != nil {
			return nil, err
		}
		if stored {
			continue
		}
		if err := seal(head, &e); err != nil {
			return nil, fmt.Errorf("seal audit entry: %w", err)
		}
		if e.Seq != head.Seq+1 || e.PrevHash != head.Hash {
			return nil, bulwark.Errorf(bulwark.EINTERNAL, "audit: sealed seq %d does not follow head %d", e.Seq, head.Seq)
		}
		if err := insertAuditEntry(ctx, tx, &e); err != nil {
			return nil, err
		}
		head = audit.Head{Seq: e.Seq, Hash: e.Hash}
		out = append(out, e)
	}
	return out, nil
}

// Head implements audit.Store.
func (s *AuditStore) Head(ctx context.Context) (audit.Head, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return audit.Head{}, err
	}
	defer tx.rollback()
	return auditHead(ctx, tx)
}

// Scan implements audit.Store.
func (s *AuditStore) Scan(ctx context.Context, from int64, fn func(audit.Entry) error) error {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback()
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_entries WHERE seq >= ? ORDER BY seq`, from)
	if err != nil {
		return fmt.Errorf("query audit entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAuditEntry(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddCheckpoint implements audit.Store. Like Append it commits with
// synchronous=FULL, which also makes every entry before it durable: a
// checkpoint is exported only after the entries it vouches for are on
// disk, so a power loss cannot make the export look like a truncated tail.
func (s *AuditStore) AddCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	return s.durably(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints (seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)`,
			c.Seq, c.Hash, bulwark.FormatTime(c.Time), c.KeyID, c.Signature)
		if err != nil {
			return fmt.Errorf("insert audit checkpoint: %w", err)
		}
		return nil
	})
}

// durably runs fn in a write transaction on the writer connection, taken
// for itself, with synchronous=FULL for that one commit (the WAL is
// fsynced, with every frame before it), then restores NORMAL.
func (s *AuditStore) durably(ctx context.Context, fn func(tx *Tx) error) error {
	if s.db.writer == nil {
		return bulwark.Errorf(bulwark.EUNAVAILABLE, "sqlite: database is not open")
	}
	conn, err := s.db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("audit: take the writer connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fmt.Errorf("audit: synchronous=FULL: %w", err)
	}
	// Restore the DSN's setting even when ctx is done.
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL")
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, db: s.db, now: s.db.Now().UTC()}
	defer tx.rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit audit: %w", err)
	}
	return nil
}

// Checkpoints implements audit.Store.
func (s *AuditStore) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	tx, err := s.db.BeginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, hash, time, key_id, signature FROM audit_checkpoints ORDER BY seq, id`)
	if err != nil {
		return nil, fmt.Errorf("query audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var c audit.Checkpoint
		var t string
		if err := rows.Scan(&c.Seq, &c.Hash, &t, &c.KeyID, &c.Signature); err != nil {
			return nil, fmt.Errorf("scan audit checkpoint: %w", err)
		}
		if c.Time, err = bulwark.ParseTime(t); err != nil {
			return nil, fmt.Errorf("audit checkpoint at seq %d: %w", c.Seq, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
