package policy

import (
	"fmt"
	"os"
	"path"
	"regexp"
	"sync"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`) })

// Policy is a parsed, checked policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	File File
	src  []byte
}

// Name returns the policy's metadata.name.
func (p *Policy) Name() string { return p.File.Metadata.Name }

// Source returns the document the policy was parsed from, which the server
// sends to its agents for their own gate (DESIGN §4.1).
func (p *Policy) Source() []byte { return p.src }

// ParseFile reads and parses the policy file at path.
func ParseFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and checks one policy file; name is used in problem
// positions. Every problem is reported at once as a *yamldoc.Error, each as
// "file:line:col: field: problem".
func Parse(name string, data []byte) (*Policy, error) {
	var f File
	doc := yamldoc.Decode(name, data, &f)
	check(doc, &f)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return &Policy{File: f, src: append([]byte(nil), data...)}, nil
}

func check(doc *yamldoc.Doc, f *File) {
	if f.APIVersion != APIVersion && !doc.Bad("apiVersion") {
		doc.Errorf("apiVersion", "must be %s, not %q", APIVersion, f.APIVersion)
	}
	if f.Kind != KindPolicy && !doc.Bad("kind") {
		doc.Errorf("kind", "must be %s, not %q", KindPolicy, f.Kind)
	}
	if !namePattern().MatchString(f.Metadata.Name) {
		doc.Errorf("metadata.name", "is required: lower-case letters, digits, dots and dashes, not %q", f.Metadata.Name)
	}
	s := &f.Spec
	switch s.Default {
	case "", DefaultProductionClass, DefaultOther:
	default:
		doc.Errorf("spec.default", "%q is not %s or %s", s.Default, DefaultProductionClass, DefaultOther)
	}
	if len(s.Environments) == 0 && s.Default == "" {
		doc.Errorf("spec.environments", "name the environments this policy covers, or set spec.default")
	}
	seen := map[string]bool{}
	for i, e := range s.Environments {
		if e == "" || seen[e] {
			doc.Errorf(yamldoc.Elem("spec.environments", i), "empty or repeated environment %q", e)
		}
		seen[e] = true
	}
	checkGlobs(doc, "spec.kinds.allow", s.Kinds.Allow)
	checkGlobs(doc, "spec.kinds.deny", s.Kinds.Deny)
	checkCapsSpec(doc, &s.Caps)
	if s.Approvals.Count < 0 || s.Approvals.Count > 5 {
		doc.Errorf("spec.approvals.count", "must be 0 to 5, not %d", s.Approvals.Count)
	}
	switch s.Approvals.Role {
	case "":
		s.Approvals.Role = bulwark.RoleApprover
	case bulwark.RoleApprover, bulwark.RoleAdmin:
	default:
		doc.Errorf("spec.approvals.role", "%q cannot approve: use %s or %s", s.Approvals.Role, bulwark.RoleApprover, bulwark.RoleAdmin)
	}
	checkCalendar(doc, &s.Calendar)
}

func checkGlobs(doc *yamldoc.Doc, p string, globs []string) {
	for i, g := range globs {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			doc.Errorf(yamldoc.Elem(p, i), "%q is not a glob such as net.* or process.kill", g)
		}
	}
}

func checkCapsSpec(doc *yamldoc.Doc, c *Caps) {
	if c.MaxHosts < 0 {
		doc.Errorf("spec.caps.maxHosts", "must not be negative")
	}
	for i := range c.Params {
		pc := &c.Params[i]
		p := yamldoc.Elem("spec.caps.params", i)
		if _, err := path.Match(pc.Kind, ""); err != nil || pc.Kind == "" {
			doc.Errorf(yamldoc.Join(p, "kind"), "is required: a kind or a glob such as net.*")
		}
		if pc.Param == "" {
			doc.Errorf(yamldoc.Join(p, "param"), "is required: the parameter's name")
		}
		q, err := parseCap(pc.Max)
		if err != nil {
			doc.Errorf(yamldoc.Join(p, "max"), "%s", err)
		}
		pc.max = q
	}
}

func checkCalendar(doc *yamldoc.Doc, c *CalendarRules) {
	for name, rule := range c.Rules {
		if rule != RuleBlackout && rule != RuleAllowed {
			doc.Errorf(yamldoc.Join("spec.calendar.rules", name), "%q is not %s or %s", rule, RuleBlackout, RuleAllowed)
		}
		if name == calendar.Outside {
			doc.KeyErrorf(yamldoc.Join("spec.calendar.rules", name), "use spec.calendar.outside for time outside every session and window")
		}
	}
	switch c.Outside {
	case "":
		c.Outside = RuleAllowed
	case RuleBlackout, RuleAllowed:
	default:
		doc.Errorf("spec.calendar.outside", "%q is not %s or %s", c.Outside, RuleBlackout, RuleAllowed)
	}
	if c.Name != "" && !namePattern().MatchString(c.Name) {
		doc.Errorf("spec.calendar.name", "%q is not a calendar name", c.Name)
	}
}

// kindAllowed reports whether kind passes the allow and deny globs.
func (k KindRules) kindAllowed(kind string) (ok bool, denied string) {
	for _, g := range k.Deny {
		if m, _ := path.Match(g, kind); m {
			return false, g
		}
	}
	if len(k.Allow) == 0 {
		return true, ""
	}
	for _, g := range k.Allow {
		if m, _ := path.Match(g, kind); m {
			return true, ""
		}
	}
	return false, ""
}
