package drill

import (
	"errors"
	"reflect"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// validator checks a decoded drill and fills in its defaults.
type validator struct {
	o   Options
	doc *yamldoc.Doc
	// unknownScenarios holds the problems that name an unknown scenario
	// (Problem.UnknownScenario).
	unknownScenarios map[yamldoc.Problem]bool
	d                *Drill
	probes           []string
}

func (v *validator) drill(d *Drill) {
	v.d = d
	checkTags(v.doc, reflect.ValueOf(d).Elem(), "")
	if d.APIVersion != "" && d.APIVersion != APIVersion {
		v.doc.Errorf("apiVersion", "%q is not supported (use %s)", d.APIVersion, APIVersion)
	}
	if d.Kind != "" && d.Kind != KindDrill {
		v.doc.Errorf("kind", "%q is not a drill (use kind: %s)", d.Kind, KindDrill)
	}
	v.metadata(&d.Metadata)
	v.spec(&d.Spec)
}

func (v *validator) metadata(m *Metadata) {
	if m.Type == "" {
		m.Type = TypeAdhoc
	}
	if m.Risk != "" {
		if _, _, ok := bulwark.LookupTaxonomy(m.Risk); !ok {
			v.doc.Errorf("metadata.risk", "%q is not a taxonomy id category/sub (for example capacity/network-quality; see DESIGN §2.1)", m.Risk)
		}
	}
	for k := range m.Labels {
		if strings.TrimSpace(k) == "" {
			v.doc.Errorf("metadata.labels", "a label name is empty")
		}
	}
}

func (v *validator) spec(s *Spec) {
	v.steadyState(s.SteadyState)
	for i := range s.Abort {
		v.abort(&s.Abort[i], yamldoc.Elem("spec.abort", i))
	}
	if s.BlastRadius == nil {
		s.BlastRadius = &BlastRadius{MaxHosts: DefaultMaxHosts}
	}
	if p := s.BlastRadius.MaxPercent; p != nil && *p == 0 {
		v.doc.Errorf("spec.blastRadius.maxPercent", "must be above 0")
	}
	if s.Steps != nil && len(s.Steps) == 0 {
		v.doc.Errorf("spec.steps", "needs at least one step")
	}
	for i := range s.Steps {
		v.step(&s.Steps[i], yamldoc.Elem("spec.steps", i))
	}
	if s.Settle == 0 {
		s.Settle = DefaultSettle
	}
	if s.Before == 0 {
		s.Before = DefaultBefore
	}
	if s.Alerts == nil {
		s.Alerts = &Alerts{}
	}
	if s.Alerts.Grace == 0 {
		s.Alerts.Grace = DefaultGrace
	}
	if s.Alerts.HostLabels == nil {
		s.Alerts.HostLabels = DefaultHostLabels
	}
	for i, l := range s.Alerts.HostLabels {
		if strings.TrimSpace(l) == "" {
			v.doc.Errorf(yamldoc.Elem("spec.alerts.hostLabels", i), "a label name is empty")
		}
	}
}

func (v *validator) abort(a *Abort, path string) {
	if a.When == "" {
		return // reported as required
	}
	a.Cond = v.compile(a.When, yamldoc.Join(path, "when"))
}

// compile compiles an expression and reports its problem at the line and
// column inside the YAML value.
func (v *validator) compile(src, path string) *Condition {
	c, err := Compile(src, v.probes)
	var ce *CompileError
	if errors.As(err, &ce) {
		v.doc.OffsetErrorf(path, ce.Offset, "%s", ce.Message)
		return nil
	}
	if err != nil {
		v.doc.Errorf(path, "%v", err)
	}
	return c
}

// selector checks a selector, or returns the drill's default one (contract 1).
func (v *validator) selector(sel *bulwark.Selector, path string) *bulwark.Selector {
	if sel == nil {
		md := v.d.Metadata
		return &bulwark.Selector{Labels: map[string]string{"system": md.System, "env": md.Environment}, Mode: "all"}
	}
	if len(sel.Labels) == 0 {
		v.doc.Errorf(path, "an empty selector is not allowed; name at least one label")
	}
	name, n, err := sel.Mode.Parse()
	if err != nil {
		v.doc.Errorf(yamldoc.Join(path, "mode"), "%s", strings.TrimPrefix(bulwark.ErrorMessage(err), "select.mode: "))
		return sel
	}
	if sel.Mode == "" {
		sel.Mode = "all"
	}
	if br := v.d.Spec.BlastRadius; name == "count" && br != nil && br.MaxHosts > 0 && int(n) > br.MaxHosts {
		v.doc.Errorf(yamldoc.Join(path, "mode"), "%s selects more hosts than spec.blastRadius.maxHosts (%d)", sel.Mode, br.MaxHosts)
	}
	return sel
}

func (v *validator) positive(d bulwark.Duration, path string) {
	if d == 0 {
		v.doc.Errorf(path, "must be longer than 0")
	}
}
