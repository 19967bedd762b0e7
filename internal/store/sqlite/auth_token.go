package sqlite

import (
	"context"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

const authTokenCols = `id, hash, name, subject_id, subject_kind, owner_id, created_at, expires_at, revoked_at`

// CreateToken implements auth.Store.
func (s *AuthStore) CreateToken(ctx context.Context, t *auth.Token) error {
	return s.db.write(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.now
		t.ExpiresAt = utcTime(t.ExpiresAt)
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_tokens (`+authTokenCols+`) VALUES (?,?,?,?,?,?,?,?,?)`,
			t.ID, t.Hash, t.Name, t.SubjectID, string(t.SubjectKind), t.OwnerID, timeArg(t.CreatedAt),
			ptrTimeArg(t.ExpiresAt), ptrTimeArg(t.RevokedAt))
		return authErr(err, fmt.Sprintf("token %q", t.Name))
	})
}

// TokenByHash implements auth.Store.
func (s *AuthStore) TokenByHash(ctx context.Context, hash string) (*auth.Token, error) {
	return s.tokenWhere(ctx, "token", `hash = ?`, hash)
}

// TokenByID implements auth.Store.
func (s *AuthStore) TokenByID(ctx context.Context, id string) (*auth.Token, error) {
	return s.tokenWhere(ctx, "token "+id, `id = ?`, id)
}

func (s *AuthStore) tokenWhere(ctx context.Context, what, where string, args ...any) (t *auth.Token, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		t, err = scanAuthToken(tx.QueryRowContext(ctx, `SELECT `+authTokenCols+` FROM auth_tokens WHERE `+where, args...))
		return authErr(err, what)
	})
	return t, err
}

// TokensByOwner implements auth.Store.
func (s *AuthStore) TokensByOwner(ctx context.Context, ownerID string) (ts []*auth.Token, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+authTokenCols+` FROM auth_tokens WHERE owner_id = ?
			ORDER BY created_at DESC, id DESC`, ownerID)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanAuthToken(rows)
			if err != nil {
				return fmt.Errorf("scan token: %w", err)
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	return ts, err
}

// RevokeToken implements auth.Store.
func (s *AuthStore) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
			timeArg(at), id)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulwark.Errorf(bulwark.ENOTFOUND, "token %s not found", id)
		}
		return nil
	})
}

func scanAuthToken(r authScanner) (*auth.Token, error) {
	t := &auth.Token{}
	var kind string
	err := r.Scan(&t.ID, &t.Hash, &t.Name, &t.SubjectID, &kind, &t.OwnerID, timeCol{&t.CreatedAt},
		ptrTimeCol{&t.ExpiresAt}, ptrTimeCol{&t.RevokedAt})
	if err != nil {
		return nil, err
	}
	t.SubjectKind = bulwark.PrincipalKind(kind)
	return t, nil
}

// CreateSession implements auth.Store.
func (s *AuthStore) CreateSession(ctx context.Context, se *auth.Session) error {
	return s.db.write(ctx, func(tx *Tx) error {
		if se.CreatedAt.IsZero() {
			se.CreatedAt = tx.now
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (hash, user_id, created_at, expires_at) VALUES (?,?,?,?)`,
			se.Hash, se.UserID, timeArg(se.CreatedAt), timeArg(se.ExpiresAt))
		return authErr(err, "session")
	})
}

// SessionByHash implements auth.Store.
func (s *AuthStore) SessionByHash(ctx context.Context, hash string) (se *auth.Session, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		se = &auth.Session{Hash: hash}
		err := tx.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM auth_sessions WHERE hash = ?`, hash).
			Scan(&se.UserID, timeCol{&se.CreatedAt}, timeCol{&se.ExpiresAt})
		return authErr(err, "session")
	})
	return se, err
}

// DeleteSession implements auth.Store.
func (s *AuthStore) DeleteSession(ctx context.Context, hash string) error {
	return s.db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE hash = ?`, hash)
		return authErr(err, "session")
	})
}

// DeleteExpiredSessions implements auth.Store.
func (s *AuthStore) DeleteExpiredSessions(ctx context.Context, now time.Time) (n int, err error) {
	err = s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_sessions WHERE expires_at < ?`, timeArg(now))
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		k, _ := res.RowsAffected()
		n = int(k)
		return nil
	})
	return n, err
}

// CreateRoleBinding implements auth.Store.
func (s *AuthStore) CreateRoleBinding(ctx context.Context, b *bulwark.RoleBinding) error {
	return s.db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_role_bindings (id, subject, role, scope_kind, scope_name, created_at)
			VALUES (?,?,?,?,?,?)`, b.ID, b.Subject, string(b.Role), string(b.Scope.Kind), b.Scope.Name, timeArg(tx.now))
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_CHECK) {
			return bulwark.Errorf(bulwark.EINVALID, "role binding: unknown role %q or scope kind %q", b.Role, b.Scope.Kind)
		}
		return authErr(err, fmt.Sprintf("role binding %s %s on %s %s", b.Subject, b.Role, b.Scope.Kind, b.Scope.Name))
	})
}

// DeleteRoleBinding implements auth.Store.
func (s *AuthStore) DeleteRoleBinding(ctx context.Context, id string) error {
	return s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM auth_role_bindings WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete role binding: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulwark.Errorf(bulwark.ENOTFOUND, "role binding %s not found", id)
		}
		return nil
	})
}

// RoleBindingByID implements auth.Store.
func (s *AuthStore) RoleBindingByID(ctx context.Context, id string) (b *bulwark.RoleBinding, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		b, err = scanRoleBinding(tx.QueryRowContext(ctx, `SELECT `+roleBindingCols+` FROM auth_role_bindings WHERE id = ?`, id))
		return authErr(err, "role binding "+id)
	})
	return b, err
}

// RoleBindings implements auth.Store.
func (s *AuthStore) RoleBindings(ctx context.Context, subject string) (bs []*bulwark.RoleBinding, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+roleBindingCols+` FROM auth_role_bindings
			WHERE ? = '' OR subject = ? ORDER BY id`, subject, subject)
		if err != nil {
			return fmt.Errorf("list role bindings: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanRoleBinding(rows)
			if err != nil {
				return fmt.Errorf("scan role binding: %w", err)
			}
			bs = append(bs, b)
		}
		return rows.Err()
	})
	return bs, err
}

const roleBindingCols = `id, subject, role, scope_kind, scope_name`

func scanRoleBinding(r authScanner) (*bulwark.RoleBinding, error) {
	b := &bulwark.RoleBinding{}
	var role, kind string
	if err := r.Scan(&b.ID, &b.Subject, &role, &kind, &b.Scope.Name); err != nil {
		return nil, err
	}
	b.Role, b.Scope.Kind = bulwark.Role(role), bulwark.ScopeKind(kind)
	return b, nil
}
