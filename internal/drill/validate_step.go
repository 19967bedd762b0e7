package drill

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// scenarioRE is the shape of a scenario id: category/sub/slug.
var scenarioRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]+/[a-z][a-z-]*/[a-z0-9][a-z0-9-]*$`) })

// stepFields lists, per step kind, the fields besides name and startDelay
// that may appear with it.
var stepFields = map[StepKind][]string{
	StepFault:    {"params", "target", "select", "duration"},
	StepScenario: {"params", "target", "select", "duration"},
}

func (v *validator) step(s *Step, path string) {
	s.Path = path
	var kinds []StepKind
	for _, f := range s.forms() {
		if f.set {
			kinds = append(kinds, f.kind)
		}
	}
	switch len(kinds) {
	case 0:
		v.doc.Errorf(path, "a step needs one of fault, scenario, serial, parallel, wait, action, verify or manual")
		return
	case 1:
	default:
		v.doc.Errorf(yamldoc.Join(path, string(kinds[1])), "a step is one thing; this one is %s and %s", kinds[0], kinds[1])
		return
	}
	v.stray(s, path)
	switch s.Kind() {
	case StepFault:
		v.faultStep(s, path)
	case StepScenario:
		v.scenarioStep(s, path)
	case StepSerial, StepParallel:
		kids := s.Children()
		p := yamldoc.Join(path, string(s.Kind()))
		if len(kids) == 0 {
			v.doc.Errorf(p, "needs at least one step")
		}
		for i := range kids {
			v.step(&kids[i], yamldoc.Elem(p, i))
		}
	case StepWait:
		v.positive(*s.Wait, yamldoc.Join(path, "wait"))
	case StepAction:
		v.action(s.Action, yamldoc.Join(path, "action"))
	case StepVerify:
		v.verify(s.Verify, yamldoc.Join(path, "verify"))
	case StepManual:
		if s.Manual.Timeout == 0 {
			s.Manual.Timeout = DefaultManualWait
		}
	}
}

// stray reports fields that do not apply to the step's kind.
func (v *validator) stray(s *Step, path string) {
	given := map[string]bool{
		"params": s.Params != nil, "target": s.Target != nil,
		"select": s.Select != nil, "duration": s.Duration != 0,
	}
	for _, f := range []string{"params", "target", "select", "duration"} {
		if given[f] && !slices.Contains(stepFields[s.Kind()], f) {
			v.doc.KeyErrorf(yamldoc.Join(path, f), "does not apply to a %s step", s.Kind())
		}
	}
}

func (v *validator) faultStep(s *Step, path string) {
	s.Select = v.selector(s.Select, yamldoc.Join(path, "select"))
	if s.Duration == 0 {
		v.doc.Errorf(yamldoc.Join(path, "duration"), "is required: every fault has an expiry")
	}
	k, err := fault.Lookup(s.Fault)
	if err != nil {
		v.doc.Errorf(yamldoc.Join(path, "fault"), "%s", bulwark.ErrorMessage(err))
		return
	}
	info := k.Info()
	schema, err := fault.SchemaOf(info.NewParams())
	if err != nil {
		v.doc.Errorf(yamldoc.Join(path, "fault"), "%v", err)
		return
	}
	values, ok := v.mergeTarget(s, path, info, schema)
	if !ok {
		return
	}
	params, err := fault.Decode(info, values)
	var pe *fault.ParamError
	switch {
	case errors.As(err, &pe):
		v.paramProblem(s, path, pe)
	case err != nil:
		v.doc.Errorf(yamldoc.Join(path, "params"), "%s", bulwark.ErrorMessage(err))
	default:
		s.FaultParams = params
	}
}

// mergeTarget joins the target fields into the params as the host manager
// does; a target key must be one of the kind's target fields.
func (v *validator) mergeTarget(s *Step, path string, info fault.KindInfo, schema []fault.Param) (map[string]string, bool) {
	values := map[string]string{}
	for k, val := range s.Params {
		values[k] = val
	}
	ok := true
	var targets []string
	for _, p := range schema {
		if p.Target {
			targets = append(targets, p.Name)
			targets = append(targets, p.Aliases...)
		}
	}
	for k, val := range s.Target {
		tp := yamldoc.Join(yamldoc.Join(path, "target"), k)
		switch {
		case !slices.Contains(targets, k):
			v.doc.KeyErrorf(tp, "%s has no target field %q (target fields: %s)", info.ID, k, orNone(targets))
			ok = false
		case s.Params != nil && s.Params[k] != "":
			v.doc.KeyErrorf(tp, "given both in params and in target")
			ok = false
		}
		values[k] = val
	}
	return values, ok
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// paramProblem places a fault.ParamError at the key that holds the param.
func (v *validator) paramProblem(s *Step, path string, pe *fault.ParamError) {
	if _, ok := s.Target[pe.Param]; ok {
		v.doc.KeyErrorf(yamldoc.Join(yamldoc.Join(path, "target"), pe.Param), "%s", pe.Message)
		return
	}
	if _, ok := s.Params[pe.Param]; ok {
		v.doc.KeyErrorf(yamldoc.Join(yamldoc.Join(path, "params"), pe.Param), "%s", pe.Message)
		return
	}
	v.doc.Errorf(yamldoc.Join(path, "params"), "%s %s", pe.Param, pe.Message)
}

func (v *validator) scenarioStep(s *Step, path string) {
	p := yamldoc.Join(path, "scenario")
	if s.Select != nil {
		s.Select = v.selector(s.Select, yamldoc.Join(path, "select"))
	}
	if !scenarioRE().MatchString(s.Scenario) {
		v.doc.Errorf(p, "%q is not a scenario id category/sub/slug", s.Scenario)
		return
	}
	tax := s.Scenario[:strings.LastIndexByte(s.Scenario, '/')]
	if _, _, ok := bulwark.LookupTaxonomy(tax); !ok {
		v.doc.Errorf(p, "%q: %q is not a taxonomy id (DESIGN §2.1)", s.Scenario, tax)
		return
	}
	if v.o.Scenario == nil || !v.o.Scenario(s.Scenario) {
		if pr, ok := v.doc.Errorf(p, "unknown scenario %q", s.Scenario); ok {
			v.unknownScenarios[pr] = true
		}
	}
}

func (v *validator) action(a *Action, path string) {
	switch {
	case a.Argv == nil && a.HTTP == nil:
		v.doc.Errorf(path, "needs argv or http")
	case a.Argv != nil && a.HTTP != nil:
		v.doc.Errorf(yamldoc.Join(path, "http"), "an action is argv or http, not both")
	case a.Argv != nil:
		if len(a.Argv) == 0 {
			v.doc.Errorf(yamldoc.Join(path, "argv"), "needs at least the executable")
		}
		v.argv(a.Argv, yamldoc.Join(path, "argv"))
		if a.ExpectStatus != nil {
			v.doc.KeyErrorf(yamldoc.Join(path, "expectStatus"), "applies to http actions; use expectExit")
		}
		if v.o.ForServer && a.On == nil {
			v.doc.Errorf(yamldoc.Join(path, "on"), "is required for a run through the server: argv actions run on agents, never on the server")
		}
	case a.HTTP != nil:
		v.httpCheck(a.HTTP, yamldoc.Join(path, "http"), &From{Local: true})
		if a.ExpectExit != nil {
			v.doc.KeyErrorf(yamldoc.Join(path, "expectExit"), "applies to argv actions; use expectStatus")
		}
		v.statuses(a.ExpectStatus, yamldoc.Join(path, "expectStatus"))
	}
	if a.ExpectOutput != "" {
		if _, err := regexp.Compile(a.ExpectOutput); err != nil {
			v.doc.Errorf(yamldoc.Join(path, "expectOutput"), "is not a regular expression: %v", err)
		}
	}
	if a.On != nil {
		a.On = v.selector(a.On, yamldoc.Join(path, "on"))
	}
	if a.Timeout == 0 {
		a.Timeout = DefaultActionTimeout
	}
}

func (v *validator) verify(vf *Verify, path string) {
	switch {
	case vf.Probe == "" && vf.Expr == "":
		v.doc.Errorf(path, "needs probe (a steady-state probe's name) or expr")
	case vf.Probe != "" && vf.Expr != "":
		v.doc.Errorf(yamldoc.Join(path, "expr"), "a verify step has probe or expr, not both")
	case vf.Probe != "":
		if !slices.Contains(v.probes, vf.Probe) {
			v.doc.Errorf(yamldoc.Join(path, "probe"), "%s", unknownProbe(vf.Probe, v.probes))
		}
	default:
		vf.Cond = v.compile(vf.Expr, yamldoc.Join(path, "expr"))
	}
}

var _ = fmt.Sprint
