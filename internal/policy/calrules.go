package policy

import (
	"path"
	"time"

	"github.com/bulwarkhq/bulwark/internal/calendar"
)

// checkCalendar evaluates [start, end] against the group's calendar and
// returns the evaluation and any blackout reasons. A production-class
// environment without a calendar is denied; an expired calendar is
// blackout.
func (g *Gate) checkCalendar(gr group, start, end time.Time) (*calendar.Evaluation, []Reason) {
	cr := gr.policy.File.Spec.Calendar
	name := cr.Name
	if name == "" {
		name = g.DefaultCalendar
	}
	if name == "" {
		if gr.env.ProductionClass {
			return nil, []Reason{newReason("policy.calendar.none", "start", gr.env.Name)}
		}
		return nil, nil
	}
	cal := g.Calendars[name]
	if cal == nil {
		return nil, []Reason{newReason("policy.calendar.missing", "start", gr.env.Name, name)}
	}
	ev := cal.Evaluate(start, end)
	var out []Reason
	if ev.Expired {
		out = append(out, newReason("policy.calendar.expired", "start", name, stamp(cal.ValidThrough()), stamp(end)))
	}
	for _, t := range ev.Touches {
		if ruleFor(cr, t.Name) != RuleBlackout {
			continue
		}
		layout := "2006-01-02 15:04 MST"
		out = append(out, newReason("policy.calendar.blackout", "start", t.Name, t.Day.String(),
			t.Start.Format(layout), t.End.Format(layout), gr.env.Name))
	}
	if ev.Outside && cr.Outside == RuleBlackout {
		out = append(out, newReason("policy.calendar.outside", "start", gr.env.Name))
	}
	return &ev, out
}

// ruleFor returns the rule for a session or window: its own, else "*",
// else allowed.
func ruleFor(cr CalendarRules, name string) string {
	if r, ok := cr.Rules[name]; ok {
		return r
	}
	if r, ok := cr.Rules["*"]; ok {
		return r
	}
	return RuleAllowed
}

func globMatch(pattern, s string) bool {
	ok, _ := path.Match(pattern, s)
	return ok
}
