package bulwark

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
