package policy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bulwarkhq/bulwark/internal/calendar"
)

// Check verifies the gate's configuration before use, so that a typo is
// found at start rather than as a denial: every calendar a policy uses is
// loaded, every rule names a session or window of it, and the
// production-class default has a calendar. The gate fails closed either
// way; Check only says why early.
func (g *Gate) Check() error {
	var errs []error
	for _, p := range g.Policies.All() {
		cr := p.File.Spec.Calendar
		name := cr.Name
		if name == "" {
			name = g.DefaultCalendar
		}
		if name == "" {
			if p == g.Policies.prodDefault() {
				errs = append(errs, fmt.Errorf("policy %s: production-class environments need a calendar: name one in spec.calendar.name or set the default calendar", p.Name()))
			}
			continue
		}
		cal := g.Calendars[name]
		if cal == nil {
			errs = append(errs, fmt.Errorf("policy %s: calendar %q is not loaded", p.Name(), name))
			continue
		}
		known := spanNames(cal)
		for rule := range cr.Rules {
			if rule != "*" && !slices.Contains(known, rule) {
				errs = append(errs, fmt.Errorf("policy %s: spec.calendar.rules.%s: calendar %s has no session or window %q (it has %v)", p.Name(), rule, name, rule, known))
			}
		}
	}
	return errors.Join(errs...)
}

func spanNames(c *calendar.Calendar) []string {
	var out []string
	for _, s := range c.File.Spec.Sessions {
		out = append(out, s.Name)
	}
	for _, w := range c.File.Spec.Windows {
		out = append(out, w.Name)
	}
	return out
}

// prodDefault returns the policy for production-class environments that
// no policy names.
func (s *Set) prodDefault() *Policy {
	if s == nil {
		prod, _ := Builtin()
		return prod
	}
	return s.prod
}
