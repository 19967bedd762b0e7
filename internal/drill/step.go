package drill

import (
	"github.com/bulwarkhq/bulwark"
)

// StepKind says which of its forms a Step takes.
type StepKind string

// The step kinds. A Step is exactly one of them.
const (
	StepFault    StepKind = "fault"
	StepScenario StepKind = "scenario"
	StepSerial   StepKind = "serial"
	StepParallel StepKind = "parallel"
	StepWait     StepKind = "wait"
	StepAction   StepKind = "action"
	StepVerify   StepKind = "verify"
	StepManual   StepKind = "manual"
)

// Step is one node of the step tree. Kind tells which fields apply:
//
//	fault     Fault, Params (decoded: FaultParams), Target, Select, Duration
//	scenario  Scenario, Params, Target, Select, Duration (optional)
//	serial    Serial: run in order
//	parallel  Parallel: run together; the group ends when all have
//	wait      Wait: starts when the previous step ends (contract 3)
//	action    Action
//	verify    Verify
//	manual    Manual
//
// Name and StartDelay apply to every kind.
type Step struct {
	Name       string            `yaml:"name,omitempty" json:"name,omitempty" doc:"shown in the timeline and the report"`
	StartDelay bulwark.Duration  `yaml:"startDelay,omitempty" json:"startDelay,omitempty" doc:"wait this long before the step starts"`
	Fault      string            `yaml:"fault,omitempty" json:"fault,omitempty" doc:"fault kind id area.verb (see bulwark fault kinds)"`
	Scenario   string            `yaml:"scenario,omitempty" json:"scenario,omitempty" doc:"scenario id category/sub/slug from the library"`
	Params     map[string]string `yaml:"params,omitempty" json:"params,omitempty" doc:"the kind's parameters, as on the command line without --"`
	Target     map[string]string `yaml:"target,omitempty" json:"target,omitempty" doc:"the kind's target fields (address, pid, path, …)"`
	Select     *bulwark.Selector `yaml:"select,omitempty" json:"select,omitempty" doc:"hosts to act on (default: labels system and env of the drill, mode all)"`
	Duration   bulwark.Duration  `yaml:"duration,omitempty" json:"duration,omitempty" doc:"how long the fault stays active after it is verified"`
	Serial     []Step            `yaml:"serial,omitempty" json:"serial,omitempty"`
	Parallel   []Step            `yaml:"parallel,omitempty" json:"parallel,omitempty"`
	Wait       *bulwark.Duration `yaml:"wait,omitempty" json:"wait,omitempty"`
	Action     *Action           `yaml:"action,omitempty" json:"action,omitempty"`
	Verify     *Verify           `yaml:"verify,omitempty" json:"verify,omitempty"`
	Manual     *Manual           `yaml:"manual,omitempty" json:"manual,omitempty"`

	// FaultParams is the kind's decoded, validated parameter struct
	// (target fields included); Parse sets it for fault steps.
	FaultParams any `yaml:"-" json:"-"`
	// Path is the step's field path in the file ("spec.steps[2].parallel[0]").
	Path string `yaml:"-" json:"-"`
}

// Kind returns the step's kind, or "" for a step Parse would reject.
func (s *Step) Kind() StepKind {
	for _, f := range s.forms() {
		if f.set {
			return f.kind
		}
	}
	return ""
}

type stepForm struct {
	kind StepKind
	set  bool
}

func (s *Step) forms() []stepForm {
	return []stepForm{
		{StepFault, s.Fault != ""}, {StepScenario, s.Scenario != ""},
		{StepSerial, s.Serial != nil}, {StepParallel, s.Parallel != nil},
		{StepWait, s.Wait != nil}, {StepAction, s.Action != nil},
		{StepVerify, s.Verify != nil}, {StepManual, s.Manual != nil},
	}
}

// Children returns the members of a serial or parallel group, else nil.
func (s *Step) Children() []Step {
	switch s.Kind() {
	case StepSerial:
		return s.Serial
	case StepParallel:
		return s.Parallel
	}
	return nil
}

// Walk calls fn for every step in steps, depth first, parents before their
// members, and stops at the first error.
func Walk(steps []Step, fn func(*Step) error) error {
	for i := range steps {
		if err := fn(&steps[i]); err != nil {
			return err
		}
		if err := Walk(steps[i].Children(), fn); err != nil {
			return err
		}
	}
	return nil
}

// FaultSpec returns the request to inject a fault step's fault on one host.
func (s *Step) FaultSpec() bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: s.Fault, Params: s.Params, Target: s.Target, Duration: s.Duration}
}

// Action runs an allow-listed executable (argv, never a shell) or makes an
// HTTP call, and asserts on the result (contract 9).
type Action struct {
	Argv         []string          `yaml:"argv,omitempty" json:"argv,omitempty"`
	HTTP         *HTTPCheck        `yaml:"http,omitempty" json:"http,omitempty"`
	ExpectExit   *int              `yaml:"expectExit,omitempty" json:"expectExit,omitempty" doc:"argv: required exit code (default 0)"`
	ExpectStatus []int             `yaml:"expectStatus,omitempty" json:"expectStatus,omitempty" doc:"http: accepted statuses (default 200–299)"`
	ExpectOutput string            `yaml:"expectOutput,omitempty" json:"expectOutput,omitempty" doc:"regular expression the output (stdout, or the response body) must match"`
	Timeout      bulwark.Duration  `yaml:"timeout,omitempty" json:"timeout,omitempty" doc:"default 1m"`
	On           *bulwark.Selector `yaml:"on,omitempty" json:"on,omitempty" doc:"agents to run argv on; absent: the engine's host (standalone runs only)"`
}

// Verify asserts once, at the point in the steps where it stands: a
// steady-state probe takes one sample that must succeed, or an expression
// over the probes' metrics must be true.
type Verify struct {
	Probe string `yaml:"probe,omitempty" json:"probe,omitempty" doc:"name of a steady-state probe"`
	Expr  string `yaml:"expr,omitempty" json:"expr,omitempty" doc:"expression over probe metrics, as in abort.when"`
	// Cond is Expr compiled; Parse sets it.
	Cond *Condition `yaml:"-" json:"-"`
}

// Manual is a checkpoint a person confirms or denies.
type Manual struct {
	Title    string           `yaml:"title" json:"title" req:"true"`
	Assignee string           `yaml:"assignee,omitempty" json:"assignee,omitempty"`
	Timeout  bulwark.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty" doc:"no answer by then fails the step (default 30m)"`
}

// DefaultActionTimeout bounds an action step that names no timeout.
const DefaultActionTimeout = bulwark.Duration(60e9)
