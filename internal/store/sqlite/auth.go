package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/auth"
)

// AuthStore implements auth.Store: users, TOTP secrets, automation
// accounts, API tokens, sessions and role bindings (migration 00004).
type AuthStore struct{ db *DB }

var _ auth.Store = (*AuthStore)(nil)

// NewAuthStore returns an AuthStore on an open DB.
func NewAuthStore(db *DB) *AuthStore { return &AuthStore{db: db} }

// authErr maps constraint violations to bulwark codes: a duplicate is
// ECONFLICT, a missing referenced row ENOTFOUND.
func authErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE), isConstraint(err, codePrimaryKey):
		return bulwark.Errorf(bulwark.ECONFLICT, "%s already exists", what)
	case isConstraint(err, codeForeignKey):
		return bulwark.Errorf(bulwark.ENOTFOUND, "%s refers to a user that does not exist", what)
	case errors.Is(err, sql.ErrNoRows):
		return bulwark.Errorf(bulwark.ENOTFOUND, "%s not found", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

const authUserCols = `id, name, display_name, email, password_hash, oidc_issuer, oidc_subject, disabled, created_at, updated_at`

// CreateUser implements auth.Store.
func (s *AuthStore) CreateUser(ctx context.Context, u *auth.User) error {
	return s.db.write(ctx, func(tx *Tx) error {
		u.CreatedAt, u.UpdatedAt = tx.now, tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_users (`+authUserCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			u.ID, u.Name, u.DisplayName, u.Email, u.PasswordHash, u.Issuer, u.Subject, u.Disabled,
			timeArg(u.CreatedAt), timeArg(u.UpdatedAt))
		return authErr(err, fmt.Sprintf("user %q", u.Name))
	})
}

// UpdateUser implements auth.Store.
func (s *AuthStore) UpdateUser(ctx context.Context, u *auth.User) error {
	return s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_users SET display_name = ?, email = ?, password_hash = ?,
			disabled = ?, updated_at = ? WHERE id = ?`,
			u.DisplayName, u.Email, u.PasswordHash, u.Disabled, timeArg(tx.now), u.ID)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulwark.Errorf(bulwark.ENOTFOUND, "user %s not found", u.ID)
		}
		u.UpdatedAt = tx.now
		return nil
	})
}

// UserByID implements auth.Store.
func (s *AuthStore) UserByID(ctx context.Context, id string) (*auth.User, error) {
	return s.userWhere(ctx, "user "+id, `id = ?`, id)
}

// UserByName implements auth.Store.
func (s *AuthStore) UserByName(ctx context.Context, name string) (*auth.User, error) {
	return s.userWhere(ctx, fmt.Sprintf("user %q", name), `name = ?`, name)
}

// UserBySubject implements auth.Store.
func (s *AuthStore) UserBySubject(ctx context.Context, issuer, subject string) (*auth.User, error) {
	if issuer == "" {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "oidc user without issuer not found")
	}
	return s.userWhere(ctx, fmt.Sprintf("oidc user %q of %s", subject, issuer),
		`oidc_issuer = ? AND oidc_subject = ?`, issuer, subject)
}

func (s *AuthStore) userWhere(ctx context.Context, what, where string, args ...any) (u *auth.User, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		u, err = scanAuthUser(tx.QueryRowContext(ctx, `SELECT `+authUserCols+` FROM auth_users WHERE `+where, args...))
		return authErr(err, what)
	})
	return u, err
}

// Users implements auth.Store.
func (s *AuthStore) Users(ctx context.Context) (users []*auth.User, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+authUserCols+` FROM auth_users ORDER BY name`)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanAuthUser(rows)
			if err != nil {
				return fmt.Errorf("scan user: %w", err)
			}
			users = append(users, u)
		}
		return rows.Err()
	})
	return users, err
}

func scanAuthUser(r authScanner) (*auth.User, error) {
	u := &auth.User{}
	err := r.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Email, &u.PasswordHash, &u.Issuer, &u.Subject,
		&u.Disabled, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// PutTOTP implements auth.Store.
func (s *AuthStore) PutTOTP(ctx context.Context, userID string, secret []byte) error {
	return s.db.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_totp (user_id, secret, confirmed, last_step) VALUES (?, ?, 0, 0)
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, confirmed = 0, last_step = 0`, userID, secret)
		return authErr(err, "totp of user "+userID)
	})
}

// TOTP implements auth.Store.
func (s *AuthStore) TOTP(ctx context.Context, userID string) (t *auth.TOTP, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		t = &auth.TOTP{UserID: userID}
		err := tx.QueryRowContext(ctx, `SELECT secret, confirmed, last_step FROM auth_totp WHERE user_id = ?`, userID).
			Scan(&t.Secret, &t.Confirmed, &t.LastStep)
		return authErr(err, "totp of user "+userID)
	})
	return t, err
}

// UseTOTPStep implements auth.Store. The compare and the update are one
// statement, so two logins racing with the same code cannot both win.
func (s *AuthStore) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_totp SET last_step = ?, confirmed = 1
			WHERE user_id = ? AND last_step < ?`, step, userID, step)
		if err != nil {
			return fmt.Errorf("use totp step: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var last int64
		err = tx.QueryRowContext(ctx, `SELECT last_step FROM auth_totp WHERE user_id = ?`, userID).Scan(&last)
		if err != nil {
			return authErr(err, "totp of user "+userID)
		}
		return bulwark.Errorf(bulwark.ECONFLICT, "totp code already used (step %d, last accepted %d)", step, last)
	})
}

// CreateAccount implements auth.Store.
func (s *AuthStore) CreateAccount(ctx context.Context, a *auth.Account) error {
	return s.db.write(ctx, func(tx *Tx) error {
		a.CreatedAt = tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_accounts (id, name, owner_id, created_at) VALUES (?,?,?,?)`,
			a.ID, a.Name, a.OwnerID, timeArg(a.CreatedAt))
		return authErr(err, fmt.Sprintf("account %q", a.Name))
	})
}

// AccountByID implements auth.Store.
func (s *AuthStore) AccountByID(ctx context.Context, id string) (a *auth.Account, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		a = &auth.Account{}
		err := tx.QueryRowContext(ctx, `SELECT id, name, owner_id, created_at FROM auth_accounts WHERE id = ?`, id).
			Scan(&a.ID, &a.Name, &a.OwnerID, timeCol{&a.CreatedAt})
		return authErr(err, "account "+id)
	})
	return a, err
}

// utcTime returns *t in UTC, or nil.
func utcTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// authScanner is a *sql.Row or *sql.Rows.
type authScanner interface{ Scan(dest ...any) error }
