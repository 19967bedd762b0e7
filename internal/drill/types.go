package drill

import (
	"github.com/bulwarkhq/bulwark"
)

// APIVersion and KindDrill are the only values apiVersion and kind take.
const (
	APIVersion = "bulwark/v1"
	KindDrill  = "Drill"
)

// Drill types (metadata.type).
const (
	TypeSpecial  = "special"
	TypeSurprise = "surprise"
	TypeRedBlue  = "red-blue"
	TypeReplay   = "replay"
	TypeAdhoc    = "adhoc"
)

// Defaults applied by Parse where the file says nothing.
const (
	DefaultSettle     = bulwark.Duration(30e9)   // contract 4
	DefaultBefore     = bulwark.Duration(10e9)   // contract 5
	DefaultGrace      = bulwark.Duration(300e9)  // contract 4
	DefaultInterval   = bulwark.Duration(1e9)    // probe interval
	DefaultTimeout    = bulwark.Duration(1e9)    // probe and check timeout
	DefaultMinSamples = 5                        // contract 5
	DefaultManualWait = bulwark.Duration(1800e9) // manual step timeout
	DefaultMaxHosts   = 1                        // blastRadius when absent
)

// DefaultHostLabels are the alert labels matched against selected hosts
// (contract 4).
var DefaultHostLabels = []string{"instance", "host", "hostname"}

// Drill is one drill file.
type Drill struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion" doc:"always bulwark/v1" req:"true"`
	Kind       string   `yaml:"kind" json:"kind" doc:"always Drill" req:"true"`
	Metadata   Metadata `yaml:"metadata" json:"metadata" req:"true"`
	Spec       Spec     `yaml:"spec" json:"spec" req:"true"`

	// Warnings are problems Parse was told to tolerate (unknown
	// scenarios under AllowUnknownScenarios).
	Warnings []Problem `yaml:"-" json:"-"`
}

// Metadata names the drill and says what it is about.
type Metadata struct {
	Name        string            `yaml:"name" json:"name" req:"true" pattern:"^[a-z0-9][a-z0-9.-]*$" doc:"lower-case name: letters, digits, dots and dashes"`
	System      string            `yaml:"system" json:"system" req:"true" doc:"the business system the drill exercises"`
	Environment string            `yaml:"environment" json:"environment" req:"true" doc:"environment name; production-class environments need approval"`
	Type        string            `yaml:"type,omitempty" json:"type,omitempty" enum:"special,surprise,red-blue,replay,adhoc" doc:"drill type (default adhoc)"`
	Risk        string            `yaml:"risk,omitempty" json:"risk,omitempty" doc:"risk taxonomy id category/sub (DESIGN §2.1)"`
	Owner       string            `yaml:"owner,omitempty" json:"owner,omitempty" doc:"owning team or person"`
	Change      *Change           `yaml:"change,omitempty" json:"change,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// Change is the change-management record the drill runs under.
type Change struct {
	Ticket string `yaml:"ticket" json:"ticket" req:"true" doc:"change ticket id, checked by the change gate"`
}

// Spec is what the drill does and how it is judged.
type Spec struct {
	SteadyState []Probe          `yaml:"steadyState,omitempty" json:"steadyState,omitempty" doc:"probes checked before, continuously during, and after the steps"`
	Abort       []Abort          `yaml:"abort,omitempty" json:"abort,omitempty" doc:"any condition true: stop, recover everything, verdict aborted"`
	Steps       []Step           `yaml:"steps" json:"steps" req:"true" doc:"run in order; a parallel group runs its members together"`
	BlastRadius *BlastRadius     `yaml:"blastRadius,omitempty" json:"blastRadius,omitempty" doc:"limits on the hosts selected (default maxHosts 1)"`
	Settle      bulwark.Duration `yaml:"settle,omitempty" json:"settle,omitempty" doc:"window with every probe within tolerance that counts as restored (default 30s)"`
	Before      bulwark.Duration `yaml:"before,omitempty" json:"before,omitempty" doc:"steady-state check before the steps (default 10s)"`
	Alerts      *Alerts          `yaml:"alerts,omitempty" json:"alerts,omitempty"`
}

// BlastRadius bounds the hosts one run may select; a selection over it is
// refused, never truncated (contract 1).
type BlastRadius struct {
	MaxHosts   int              `yaml:"maxHosts" json:"maxHosts" req:"true" min:"1"`
	MaxPercent *bulwark.Percent `yaml:"maxPercent,omitempty" json:"maxPercent,omitempty" doc:"at most this share of the hosts matching a selector"`
}

// Alerts configures which incoming alerts correlate with the run
// (contract 4).
type Alerts struct {
	Grace      bulwark.Duration `yaml:"grace,omitempty" json:"grace,omitempty" doc:"alerts up to this long after a fault ends still count (default 5m)"`
	HostLabels []string         `yaml:"hostLabels,omitempty" json:"hostLabels,omitempty" doc:"alert labels holding a host name or IP (default instance, host, hostname)"`
}

// Abort is one abort condition.
type Abort struct {
	When string           `yaml:"when" json:"when" req:"true" doc:"expression over probe metrics, e.g. order-api.successRate < 0.5"`
	For  bulwark.Duration `yaml:"for,omitempty" json:"for,omitempty" doc:"true at every evaluation for this long"`
	// Cond is When compiled; Parse sets it.
	Cond *Condition `yaml:"-" json:"-"`
}
