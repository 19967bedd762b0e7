package bulwark

import (
	"context"
	"fmt"
	"strings"
)

// Inventory vocabulary (DESIGN §11: systems, deployment units, hosts,
// environments), owned by the control plane and importable from a CMDB export.

// Environment is where hosts run. Production-class environments (production
// and DR) need approvals and obey the calendar's blackouts (DESIGN §6.5, §6.8).
type Environment struct {
	Name            string `json:"name" yaml:"name"`
	ProductionClass bool   `json:"productionClass" yaml:"productionClass"`
	Description     string `json:"description,omitempty" yaml:"description,omitempty"`
}

// System is a business system with an owning team and a criticality tier
// (1 is the most critical).
type System struct {
	Name      string `json:"name" yaml:"name"`
	OwnerTeam string `json:"ownerTeam" yaml:"ownerTeam"`
	Tier      int    `json:"tier" yaml:"tier"`
	Title     string `json:"title,omitempty" yaml:"title,omitempty"`
}

// Unit is a deployment unit of a system: a set of interchangeable instances.
// A drill may fault at most N−1 of its hosts (DESIGN §6.4).
type Unit struct {
	Name   string `json:"name" yaml:"name"`
	System string `json:"system" yaml:"system"`
}

// InventoryHost is a host in the inventory. Its reserved labels (env, system,
// unit, zone) come from here, never from the agent (DESIGN §4.1).
type InventoryHost struct {
	ID          string            `json:"id" yaml:"id"`
	Hostname    string            `json:"hostname" yaml:"hostname"`
	System      string            `json:"system" yaml:"system"`
	Unit        string            `json:"unit" yaml:"unit"`
	Environment string            `json:"environment" yaml:"environment"`
	Zone        string            `json:"zone,omitempty" yaml:"zone,omitempty"`
	Role        string            `json:"role,omitempty" yaml:"role,omitempty"` // primary | standby | "" (DESIGN §6.4)
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
}

// Reserved label keys that only the server sets (DESIGN §4.1).
const (
	LabelEnv    = "env"
	LabelSystem = "system"
	LabelUnit   = "unit"
	LabelZone   = "zone"
)

// ReservedLabel reports whether key is server-owned.
func ReservedLabel(key string) bool {
	switch key {
	case LabelEnv, LabelSystem, LabelUnit, LabelZone:
		return true
	}
	return false
}

// Inventory is a whole inventory document (`kind: Inventory`), as imported
// from YAML or a CMDB export.
type Inventory struct {
	APIVersion   string          `json:"apiVersion" yaml:"apiVersion"`
	Kind         string          `json:"kind" yaml:"kind"`
	Environments []Environment   `json:"environments,omitempty" yaml:"environments,omitempty"`
	Systems      []System        `json:"systems,omitempty" yaml:"systems,omitempty"`
	Units        []Unit          `json:"units,omitempty" yaml:"units,omitempty"`
	Hosts        []InventoryHost `json:"hosts,omitempty" yaml:"hosts,omitempty"`
}

// HostFilter selects inventory hosts; empty fields match everything.
type HostFilter struct {
	System      string
	Unit        string
	Environment string
	Hostname    string
}

// InventoryService keeps the inventory. Implementations pass the contract
// suite in internal/store/storetest (InventoryRun).
//
// Contract: names are unique per kind; a unit names an existing system, a
// host an existing environment, system and unit of that system (else
// EINVALID naming the field); Put* insert or replace by name (hosts by id,
// and a hostname belongs to one host: ECONFLICT otherwise); Find* of a
// missing name is ENOTFOUND; Import applies a whole document in one
// transaction — all of it or nothing.
type InventoryService interface {
	PutEnvironment(ctx context.Context, e Environment) error
	FindEnvironment(ctx context.Context, name string) (Environment, error)
	Environments(ctx context.Context) ([]Environment, error)

	PutSystem(ctx context.Context, s System) error
	FindSystem(ctx context.Context, name string) (System, error)
	Systems(ctx context.Context) ([]System, error)

	PutUnit(ctx context.Context, u Unit) error
	Units(ctx context.Context, system string) ([]Unit, error)

	// PutHost stores h; an empty ID is assigned (and returned).
	PutHost(ctx context.Context, h InventoryHost) (InventoryHost, error)
	FindHost(ctx context.Context, id string) (InventoryHost, error)
	FindHostByName(ctx context.Context, hostname string) (InventoryHost, error)
	Hosts(ctx context.Context, f HostFilter) ([]InventoryHost, error)
	DeleteHost(ctx context.Context, id string) error

	// Import upserts every entry of inv in one transaction.
	Import(ctx context.Context, inv *Inventory) (ImportResult, error)
}

// ImportResult counts what an import stored.
type ImportResult struct {
	Environments int `json:"environments"`
	Systems      int `json:"systems"`
	Units        int `json:"units"`
	Hosts        int `json:"hosts"`
}

// ReservedLabels returns the server-owned labels of h (DESIGN §4.1).
func (h InventoryHost) ReservedLabels() map[string]string {
	l := map[string]string{LabelEnv: h.Environment, LabelSystem: h.System, LabelUnit: h.Unit}
	if h.Zone != "" {
		l[LabelZone] = h.Zone
	}
	return l
}

// ParseLabels reads "k=v,k=v" (the --labels and --select syntax); an empty
// string is no labels. Keys and values may not be empty.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}
