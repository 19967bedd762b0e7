package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bulwarkhq/bulwark"
)

// PutHost implements bulwark.InventoryService.
func (s *InventoryService) PutHost(ctx context.Context, h bulwark.InventoryHost) (out bulwark.InventoryHost, err error) {
	err = s.db.write(ctx, func(tx *Tx) error {
		out, err = putHost(ctx, tx, h)
		return err
	})
	return out, err
}

func putHost(ctx context.Context, tx *Tx, h bulwark.InventoryHost) (bulwark.InventoryHost, error) {
	if h.ID == "" {
		h.ID = bulwark.NewID()
	}
	what := fmt.Sprintf("host %q", h.Hostname)
	for _, ref := range []struct{ table, name, field string }{
		{"environments", h.Environment, what + ": environment"},
		{"systems", h.System, what + ": system"},
		{"units", h.Unit, what + ": unit"},
	} {
		if err := mustExist(ctx, tx, ref.table, ref.name, ref.field); err != nil {
			return h, err
		}
	}
	var unitSystem string
	if err := tx.QueryRowContext(ctx, `SELECT system FROM units WHERE name = ?`, h.Unit).Scan(&unitSystem); err != nil {
		return h, err
	}
	if unitSystem != h.System {
		return h, bulwark.Errorf(bulwark.EINVALID, "%s: unit %q belongs to system %q, not %q", what, h.Unit, unitSystem, h.System)
	}
	for k := range h.Labels {
		if bulwark.ReservedLabel(k) {
			return h, bulwark.Errorf(bulwark.EINVALID, "%s: label %q is reserved; use the host's own field", what, k)
		}
	}
	if other, err := findHostBy(ctx, tx, "hostname", h.Hostname); err == nil && other.ID != h.ID {
		return h, bulwark.Errorf(bulwark.ECONFLICT, "%s: hostname already belongs to host %s", what, other.ID)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO hosts (id, hostname, system, unit, environment, zone, role, labels, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, system = excluded.system, unit = excluded.unit,
			environment = excluded.environment, zone = excluded.zone, role = excluded.role, labels = excluded.labels,
			updated_at = excluded.updated_at`,
		h.ID, h.Hostname, h.System, h.Unit, h.Environment, h.Zone, h.Role, labelsJSON(h.Labels), bulwark.FormatTime(tx.now))
	return h, err
}

const hostColumns = `id, hostname, system, unit, environment, zone, role, labels`

type scanner interface{ Scan(dest ...any) error }

func scanHost(r scanner) (h bulwark.InventoryHost, err error) {
	var labels string
	if err := r.Scan(&h.ID, &h.Hostname, &h.System, &h.Unit, &h.Environment, &h.Zone, &h.Role, &labels); err != nil {
		return h, err
	}
	if labels != "{}" {
		if err := json.Unmarshal([]byte(labels), &h.Labels); err != nil {
			return h, fmt.Errorf("host %s: labels: %w", h.ID, err)
		}
	}
	return h, nil
}

// findHostBy looks a host up by id or hostname (column is a constant).
func findHostBy(ctx context.Context, tx *Tx, column, value string) (bulwark.InventoryHost, error) {
	h, err := scanHost(tx.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE `+column+` = ?`, value))
	return h, notFound(err, "host", value)
}

// FindHost implements bulwark.InventoryService.
func (s *InventoryService) FindHost(ctx context.Context, id string) (h bulwark.InventoryHost, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		h, err = findHostBy(ctx, tx, "id", id)
		return err
	})
	return h, err
}

// FindHostByName implements bulwark.InventoryService (case-insensitive).
func (s *InventoryService) FindHostByName(ctx context.Context, hostname string) (h bulwark.InventoryHost, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		h, err = findHostBy(ctx, tx, "hostname", hostname)
		return err
	})
	return h, err
}

// Hosts implements bulwark.InventoryService, ordered by hostname.
func (s *InventoryService) Hosts(ctx context.Context, f bulwark.HostFilter) (out []bulwark.InventoryHost, err error) {
	err = s.db.read(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts
			WHERE (? = '' OR system = ?) AND (? = '' OR unit = ?) AND (? = '' OR environment = ?) AND (? = '' OR hostname = ?)
			ORDER BY hostname COLLATE NOCASE`,
			f.System, f.System, f.Unit, f.Unit, f.Environment, f.Environment, f.Hostname, f.Hostname)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			h, err := scanHost(rows)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteHost implements bulwark.InventoryService.
func (s *InventoryService) DeleteHost(ctx context.Context, id string) error {
	return s.db.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM hosts WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return bulwark.Errorf(bulwark.ENOTFOUND, "host %q not found", id)
		}
		return nil
	})
}
