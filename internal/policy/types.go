package policy

import (
	"github.com/bulwarkhq/bulwark"
)

// APIVersion and KindPolicy are the only values apiVersion and kind take.
const (
	APIVersion = "bulwark/v1"
	KindPolicy = "Policy"
)

// Fallback classes (Spec.Default): which environments a policy covers when
// no policy names them.
const (
	DefaultProductionClass = "productionClass"
	DefaultOther           = "other"
)

// Calendar rules (CalendarRules.Rules values and Outside).
const (
	RuleBlackout = "blackout"
	RuleAllowed  = "allowed"
)

// File is a policy file (kind: Policy).
type File struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion"`
	Kind       string   `yaml:"kind" json:"kind"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	Spec       Spec     `yaml:"spec" json:"spec"`
}

// Metadata names the policy; decisions quote the name.
type Metadata struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Spec is the policy for the environments it covers.
type Spec struct {
	// Environments names the environments this policy covers.
	Environments []string `yaml:"environments,omitempty" json:"environments,omitempty"`
	// Default makes this the policy for every environment no policy names,
	// of one class: productionClass or other.
	Default string `yaml:"default,omitempty" json:"default,omitempty"`
	// Kinds says which fault kinds may run, by glob ("net.*").
	Kinds KindRules `yaml:"kinds,omitempty" json:"kinds"`
	// Caps bound hosts, duration and parameters.
	Caps Caps `yaml:"caps,omitempty" json:"caps"`
	// Approvals required before a run may start. Production-class
	// environments always need at least one (DESIGN §6.5).
	Approvals Approvals `yaml:"approvals,omitempty" json:"approvals"`
	// Calendar names a calendar and says which of its sessions and windows
	// are blackout.
	Calendar CalendarRules `yaml:"calendar,omitempty" json:"calendar"`
	// RecoveryMargin is added to a fault's duration when checking the
	// calendar: recovery must also end outside a blackout.
	RecoveryMargin bulwark.Duration `yaml:"recoveryMargin,omitempty" json:"recoveryMargin"`
	// ChangeTicket requires a change ticket, checked with the change gate
	// when one is configured.
	ChangeTicket bool `yaml:"changeTicket,omitempty" json:"changeTicket"`
}

// KindRules allow and deny fault kinds by glob. A kind must match an Allow
// pattern (when any are given) and no Deny pattern; Deny wins.
type KindRules struct {
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	Deny  []string `yaml:"deny,omitempty" json:"deny,omitempty"`
}

// Caps bound what one request may do. Zero means no cap.
type Caps struct {
	MaxHosts    int              `yaml:"maxHosts,omitempty" json:"maxHosts,omitempty"`
	MaxDuration bulwark.Duration `yaml:"maxDuration,omitempty" json:"maxDuration,omitempty"`
	Params      []ParamCap       `yaml:"params,omitempty" json:"params,omitempty"`
}

// ParamCap is an upper bound on one parameter of the kinds matching Kind.
// Max is written in the parameter's unit ("200ms", "10mbit", "50%",
// "1GiB", "100"); the value is read with the same unit's parser.
type ParamCap struct {
	Kind  string `yaml:"kind" json:"kind"`
	Param string `yaml:"param" json:"param"`
	Max   string `yaml:"max" json:"max"`

	max quantity
}

// Approvals is how many distinct people holding Role must approve.
type Approvals struct {
	Count int          `yaml:"count,omitempty" json:"count"`
	Role  bulwark.Role `yaml:"role,omitempty" json:"role,omitempty"`
}

// CalendarRules name a calendar and give each session or window a rule:
// blackout or allowed. "*" gives the rule for every session and window not
// named; Outside is the rule for time outside all of them.
type CalendarRules struct {
	Name    string            `yaml:"name,omitempty" json:"name,omitempty"`
	Rules   map[string]string `yaml:"rules,omitempty" json:"rules,omitempty"`
	Outside string            `yaml:"outside,omitempty" json:"outside,omitempty"`
}
