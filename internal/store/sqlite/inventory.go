package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bulwarkhq/bulwark"
)

// InventoryService implements bulwark.InventoryService on the embedded
// database.
type InventoryService struct{ db *DB }

var _ bulwark.InventoryService = (*InventoryService)(nil)

// NewInventoryService returns the inventory kept in db.
func NewInventoryService(db *DB) *InventoryService { return &InventoryService{db: db} }

// PutEnvironment implements bulwark.InventoryService.
func (s *InventoryService) PutEnvironment(ctx context.Context, e bulwark.Environment) error {
	return s.db.write(ctx, func(tx *Tx) error { return putEnvironment(ctx, tx, e) })
}

func putEnvironment(ctx context.Context, tx *Tx, e bulwark.Environment) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO environments (name, production_class, description, updated_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET production_class = excluded.production_class,
			description = excluded.description, updated_at = excluded.updated_at`,
		e.Name, e.ProductionClass, e.Description, bulwark.FormatTime(tx.now))
	return err
}

// FindEnvironment implements bulwark.InventoryService.
func (s *InventoryService) FindEnvironment(ctx context.Context, name string) (e bulwark.Environment, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT name, production_class, description FROM environments WHERE name = ?`, name).
			Scan(&e.Name, &e.ProductionClass, &e.Description)
		return notFound(err, "environment", name)
	})
	return e, err
}

// Environments implements bulwark.InventoryService.
func (s *InventoryService) Environments(ctx context.Context) (out []bulwark.Environment, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, production_class, description FROM environments ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e bulwark.Environment
			if err := rows.Scan(&e.Name, &e.ProductionClass, &e.Description); err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// PutSystem implements bulwark.InventoryService.
func (s *InventoryService) PutSystem(ctx context.Context, sys bulwark.System) error {
	return s.db.write(ctx, func(tx *Tx) error { return putSystem(ctx, tx, sys) })
}

func putSystem(ctx context.Context, tx *Tx, s bulwark.System) error {
	if s.Tier < 1 || s.Tier > 4 {
		return bulwark.Errorf(bulwark.EINVALID, "system %q: tier %d is not 1…4", s.Name, s.Tier)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO systems (name, owner_team, tier, title, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner_team = excluded.owner_team, tier = excluded.tier,
			title = excluded.title, updated_at = excluded.updated_at`,
		s.Name, s.OwnerTeam, s.Tier, s.Title, bulwark.FormatTime(tx.now))
	return err
}

// FindSystem implements bulwark.InventoryService.
func (s *InventoryService) FindSystem(ctx context.Context, name string) (sys bulwark.System, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT name, owner_team, tier, title FROM systems WHERE name = ?`, name).
			Scan(&sys.Name, &sys.OwnerTeam, &sys.Tier, &sys.Title)
		return notFound(err, "system", name)
	})
	return sys, err
}

// Systems implements bulwark.InventoryService.
func (s *InventoryService) Systems(ctx context.Context) (out []bulwark.System, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, owner_team, tier, title FROM systems ORDER BY name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sys bulwark.System
			if err := rows.Scan(&sys.Name, &sys.OwnerTeam, &sys.Tier, &sys.Title); err != nil {
				return err
			}
			out = append(out, sys)
		}
		return rows.Err()
	})
	return out, err
}

// PutUnit implements bulwark.InventoryService.
func (s *InventoryService) PutUnit(ctx context.Context, u bulwark.Unit) error {
	return s.db.write(ctx, func(tx *Tx) error { return putUnit(ctx, tx, u) })
}

func putUnit(ctx context.Context, tx *Tx, u bulwark.Unit) error {
	if err := mustExist(ctx, tx, "systems", u.System, fmt.Sprintf("unit %q: system", u.Name)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO units (name, system, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET system = excluded.system, updated_at = excluded.updated_at`,
		u.Name, u.System, bulwark.FormatTime(tx.now))
	return err
}

// Units implements bulwark.InventoryService; an empty system lists all.
func (s *InventoryService) Units(ctx context.Context, system string) (out []bulwark.Unit, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, system FROM units WHERE ? = '' OR system = ? ORDER BY name`, system, system)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var u bulwark.Unit
			if err := rows.Scan(&u.Name, &u.System); err != nil {
				return err
			}
			out = append(out, u)
		}
		return rows.Err()
	})
	return out, err
}

// mustExist reports EINVALID naming field when table has no row named name.
func mustExist(ctx context.Context, tx *Tx, table, name, field string) error {
	var n int
	// table is one of this file's constants, never input.
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return bulwark.Errorf(bulwark.EINVALID, "%s: %q is not in the inventory", field, name)
	}
	return nil
}

// notFound maps sql.ErrNoRows to ENOTFOUND naming what was looked for.
func notFound(err error, what, name string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return bulwark.Errorf(bulwark.ENOTFOUND, "%s %q not found", what, name)
	}
	return err
}

// Import implements bulwark.InventoryService: one transaction, in dependency
// order, so a bad entry anywhere leaves the store untouched.
func (s *InventoryService) Import(ctx context.Context, inv *bulwark.Inventory) (res bulwark.ImportResult, err error) {
	err = s.db.write(ctx, func(tx *Tx) error {
		for _, e := range inv.Environments {
			if err := putEnvironment(ctx, tx, e); err != nil {
				return err
			}
		}
		for _, sys := range inv.Systems {
			if err := putSystem(ctx, tx, sys); err != nil {
				return err
			}
		}
		for _, u := range inv.Units {
			if err := putUnit(ctx, tx, u); err != nil {
				return err
			}
		}
		for _, h := range inv.Hosts {
			if h.ID == "" {
				if old, err := findHostBy(ctx, tx, "hostname", h.Hostname); err == nil {
					h.ID = old.ID
				}
			}
			if _, err := putHost(ctx, tx, h); err != nil {
				return err
			}
		}
		res = bulwark.ImportResult{Environments: len(inv.Environments), Systems: len(inv.Systems),
			Units: len(inv.Units), Hosts: len(inv.Hosts)}
		return nil
	})
	return res, err
}

// labelsJSON encodes labels for the labels column.
func labelsJSON(l map[string]string) string {
	if len(l) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(l)
	return string(b)
}
