package bulwark

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where a fault is in its life (DESIGN §4.1.1).
type State string

// The states of a fault. A fault moves injecting → active → recovering →
// recovered; an inject that fails ends failed with nothing applied; a recovery
// that keeps failing is stuck and is retried with backoff until it succeeds.
const (
	StateInjecting  State = "injecting"
	StateActive     State = "active"
	StateRecovering State = "recovering"
	StateRecovered  State = "recovered"
	StateFailed     State = "failed"
	StateStuck      State = "stuck"
)

// Live reports whether a fault in state s may still have an effect on the host
// and so must be recovered eventually.
func (s State) Live() bool {
	switch s {
	case StateInjecting, StateActive, StateRecovering, StateStuck:
		return true
	}
	return false
}

// Evidence is one observation that shows a fault took effect or was undone:
// what was read back or measured, and whether it matched what was expected.
type Evidence struct {
	Time   time.Time `json:"time"`
	Check  string    `json:"check"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail,omitempty"`
}

// Fault is one injected instance of a fault kind.
type Fault struct {
	ID        string            `json:"id"`
	Kind      string            `json:"kind"`
	Params    map[string]string `json:"params"`
	Target    map[string]string `json:"target,omitempty"`
	State     State             `json:"state"`
	Resource  string            `json:"resource,omitempty"`
	Duration  Duration          `json:"duration"`
	CreatedAt time.Time         `json:"createdAt"`
	ActiveAt  *time.Time        `json:"activeAt,omitempty"`
	ExpiresAt *time.Time        `json:"expiresAt,omitempty"`
	EndedAt   *time.Time        `json:"endedAt,omitempty"`
	// EndReason says why a fault ended: "recovered", "expired", "reboot",
	// "verify failed", and so on.
	EndReason string     `json:"endReason,omitempty"`
	Error     string     `json:"error,omitempty"`
	Attempts  int        `json:"attempts,omitempty"`
	Evidence  []Evidence `json:"evidence,omitempty"`
}

// FaultSpec is a request to inject one fault on one host. Params and Target
// are text as written by the user; the kind's schema decodes them.
//
// ID is normally empty and the host manager assigns a new one. A caller that
// already named the fault (the agent, with the server's id) sets it: it must
// have the shape of NewID's ids and must not be in the host's journal yet.
type FaultSpec struct {
	ID       string            `json:"id,omitempty"`
	Kind     string            `json:"kind"`
	Params   map[string]string `json:"params,omitempty"`
	Target   map[string]string `json:"target,omitempty"`
	Duration Duration          `json:"duration"`
}

// Selector chooses hosts by their labels (DESIGN §5.1 contract 1). It is
// distinct from a fault's target, which is kind-specific.
type Selector struct {
	Labels map[string]string `json:"labels" yaml:"labels"`
	Mode   SelectMode        `json:"mode,omitempty" yaml:"mode,omitempty"`
}

// SelectMode is "all", "count:N" or "percent:P".
type SelectMode string

// Validate checks that the selector is not empty and its mode is well formed.
func (s Selector) Validate() error {
	if len(s.Labels) == 0 {
		return Errorf(EINVALID, "select: an empty selector is not allowed; name at least one label")
	}
	_, _, err := s.Mode.Parse()
	return err
}

// Parse returns the mode's name ("all", "count" or "percent") and its number.
// An empty mode means "all".
func (m SelectMode) Parse() (name string, n float64, err error) {
	s := string(m)
	if s == "" || s == "all" {
		return "all", 0, nil
	}
	name, arg, ok := strings.Cut(s, ":")
	if !ok || (name != "count" && name != "percent") {
		return "", 0, Errorf(EINVALID, "select.mode: %q is not all, count:N or percent:P", s)
	}
	n, perr := strconv.ParseFloat(arg, 64)
	switch {
	case perr != nil:
		return "", 0, Errorf(EINVALID, "select.mode: %q has no number after %q", s, name+":")
	case name == "count" && (n < 1 || n != float64(int(n))):
		return "", 0, Errorf(EINVALID, "select.mode: count must be a whole number of at least 1, not %s", arg)
	case name == "percent" && (n <= 0 || n > 100):
		return "", 0, Errorf(EINVALID, "select.mode: percent must be above 0 and at most 100, not %s", arg)
	}
	return name, n, nil
}

// FaultFilter narrows a listing of faults.
type FaultFilter struct {
	ID    *string
	Live  bool // only faults that may still have an effect
	Limit int
}

// FaultService injects, lists and recovers faults on one host. The host
// manager implements it directly; the agent and the server implement it over
// their transports, so the CLI and tests use one interface.
type FaultService interface {
	// Inject applies the fault and returns once it is verified active, or
	// returns an error with nothing left applied.
	Inject(ctx context.Context, spec FaultSpec) (*Fault, error)
	// Faults lists faults, newest first.
	Faults(ctx context.Context, filter FaultFilter) ([]*Fault, error)
	// Recover undoes the named faults; recovering a recovered fault is not an
	// error.
	Recover(ctx context.Context, ids ...string) ([]*Fault, error)
	// RecoverAll undoes every live fault.
	RecoverAll(ctx context.Context) ([]*Fault, error)
	// Sweep recovers what has expired and retries what is stuck.
	Sweep(ctx context.Context) ([]*Fault, error)
}

// String returns "id (kind, state)".
func (f *Fault) String() string { return fmt.Sprintf("%s (%s, %s)", f.ID, f.Kind, f.State) }
