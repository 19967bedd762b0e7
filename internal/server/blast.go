package server

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark"
)

// checkUnits enforces DESIGN §6.4 on a resolved selection: at most N−1 of a
// deployment unit's N hosts, and never a primary together with its standby.
// A selection that breaks it is refused, never truncated (contract 1).
func (s *Server) checkUnits(ctx context.Context, targets []GateTarget) error {
	byUnit := map[string][]GateTarget{}
	for _, t := range targets {
		if t.Unit != "" {
			byUnit[t.Unit] = append(byUnit[t.Unit], t)
		}
	}
	for unit, sel := range byUnit {
		all, err := s.Inventory.Hosts(ctx, bulwark.HostFilter{Unit: unit})
		if err != nil {
			return err
		}
		if err := unitRule(unit, sel, all); err != nil {
			return err
		}
	}
	return nil
}

// unitRule is checkUnits for one unit: sel are the selected hosts of it,
// all its hosts in the inventory.
func unitRule(unit string, sel []GateTarget, all []bulwark.InventoryHost) error {
	selected := map[string]bool{}
	for _, t := range sel {
		selected[t.HostID] = true
	}
	if len(all) > 0 && len(selected) >= len(all) {
		return bulwark.Errorf(bulwark.EFORBIDDEN,
			"blast radius: the selection covers all %d hosts of deployment unit %q; at most %d may be faulted at once",
			len(all), unit, len(all)-1)
	}
	var primary, standby string
	for _, h := range all {
		if !selected[h.ID] {
			continue
		}
		switch h.Role {
		case "primary":
			primary = h.Hostname
		case "standby":
			standby = h.Hostname
		}
	}
	if primary != "" && standby != "" {
		return bulwark.Errorf(bulwark.EFORBIDDEN, "%s",
			fmt.Sprintf("blast radius: the selection holds the primary %s and the standby %s of unit %q together", primary, standby, unit))
	}
	return nil
}
