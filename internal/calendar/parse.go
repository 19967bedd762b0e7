package calendar

import (
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"
	_ "time/tzdata" // hosts without zoneinfo (minimal containers, Windows) still load zones

	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// Limits that keep a hostile or mistyped file cheap to evaluate.
const (
	maxClosureDays = 366 // one closed range
	maxEntries     = 1000
)

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`) })

// ParseFile reads and parses the calendar file at path.
func ParseFile(path string) (*Calendar, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read calendar file: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and checks one calendar file; name is used in problem
// positions. Every problem is reported at once as a *yamldoc.Error, each as
// "file:line:col: field: problem".
func Parse(name string, data []byte) (*Calendar, error) {
	var f File
	doc := yamldoc.Decode(name, data, &f)
	c := &Calendar{File: f, src: append([]byte(nil), data...)}
	c.check(doc)
	if err := doc.Err(); err != nil {
		return nil, err
	}
	c.index()
	return c, nil
}

// check validates the decoded file, recording problems in doc.
func (c *Calendar) check(doc *yamldoc.Doc) {
	f := &c.File
	if f.APIVersion != APIVersion && !doc.Bad("apiVersion") {
		doc.Errorf("apiVersion", "must be %s, not %q", APIVersion, f.APIVersion)
	}
	if f.Kind != KindCalendar && !doc.Bad("kind") {
		doc.Errorf("kind", "must be %s, not %q", KindCalendar, f.Kind)
	}
	if !namePattern().MatchString(f.Metadata.Name) {
		doc.Errorf("metadata.name", "is required: lower-case letters, digits and dashes, not %q", f.Metadata.Name)
	}
	s := &f.Spec
	if s.TimeZone == "" {
		doc.Errorf("spec.timeZone", "is required (an IANA zone such as Asia/Shanghai)")
	} else if loc, err := time.LoadLocation(s.TimeZone); err != nil {
		doc.Errorf("spec.timeZone", "%q is not a known time zone", s.TimeZone)
	} else {
		c.loc = loc
	}
	if s.ValidThrough.IsZero() && !doc.Bad("spec.validThrough") {
		doc.Errorf("spec.validThrough", "is required: the last instant the calendar covers (RFC 3339, e.g. 2026-12-31T23:59:59+08:00)")
	}
	if len(s.Closed)+len(s.MakeUpWorkdays)+len(s.Sessions)+len(s.Windows) > maxEntries {
		doc.Errorf("spec", "more than %d entries", maxEntries)
		return
	}
	c.checkClosed(doc)
	names := map[string]string{}
	for i, ss := range s.Sessions {
		p := yamldoc.Elem("spec.sessions", i)
		checkName(doc, p, ss.Name, names)
		checkSpan(doc, p, ss.Start, ss.End)
		if ss.CancelBeforeHoliday && !ss.NextTradingDay {
			doc.Errorf(yamldoc.Join(p, "cancelBeforeHoliday"), "applies only to a night session (nextTradingDay: true)")
		}
	}
	for i, w := range s.Windows {
		p := yamldoc.Elem("spec.windows", i)
		checkName(doc, p, w.Name, names)
		checkSpan(doc, p, w.Start, w.End)
		switch w.Days {
		case "":
			s.Windows[i].Days = DaysTrading
		case DaysTrading, DaysEvery, DaysNonTrading, DaysMonthEnd, DaysQuarterEnd, DaysYearEnd:
		default:
			doc.Errorf(yamldoc.Join(p, "days"), "%q is not one of %s, %s, %s, %s, %s, %s", w.Days,
				DaysTrading, DaysEvery, DaysNonTrading, DaysMonthEnd, DaysQuarterEnd, DaysYearEnd)
		}
	}
}

func (c *Calendar) checkClosed(doc *yamldoc.Doc) {
	s := &c.File.Spec
	for i, cl := range s.Closed {
		p := yamldoc.Elem("spec.closed", i)
		if cl.Date.IsZero() {
			doc.Errorf(yamldoc.Join(p, "date"), "is required")
			continue
		}
		if cl.Through.IsZero() {
			continue
		}
		if cl.Through.Compare(cl.Date) < 0 {
			doc.Errorf(yamldoc.Join(p, "through"), "%s is before date %s", cl.Through, cl.Date)
		} else if cl.Through.Compare(cl.Date.AddDays(maxClosureDays)) > 0 {
			doc.Errorf(yamldoc.Join(p, "through"), "a closed range may span at most %d days", maxClosureDays)
		}
	}
	closed := c.closedSet()
	seen := map[Date]bool{}
	for i, d := range s.MakeUpWorkdays {
		p := yamldoc.Elem("spec.makeUpWorkdays", i)
		switch {
		case d.Weekday() != time.Saturday && d.Weekday() != time.Sunday:
			doc.Errorf(p, "%s is a %s: a make-up workday is a Saturday or Sunday", d, d.Weekday())
		case closed[d] != "":
			doc.Errorf(p, "%s is also a closed date (%s)", d, closed[d])
		case seen[d]:
			doc.Errorf(p, "%s is listed twice", d)
		}
		seen[d] = true
	}
}

func checkName(doc *yamldoc.Doc, path, name string, seen map[string]string) {
	p := yamldoc.Join(path, "name")
	switch {
	case !namePattern().MatchString(name):
		doc.Errorf(p, "is required: lower-case letters, digits and dashes, not %q", name)
	case name == Outside:
		doc.Errorf(p, "%q is reserved for time outside every session and window", name)
	case seen[name] != "":
		doc.Errorf(p, "%q is already used at %s", name, seen[name])
	default:
		seen[name] = path
	}
}

func checkSpan(doc *yamldoc.Doc, path string, start, end Clock) {
	ps, pe := yamldoc.Join(path, "start"), yamldoc.Join(path, "end")
	for _, p := range []string{ps, pe} {
		if !doc.Has(p) {
			doc.Errorf(p, "is required (HH:MM)")
		}
	}
	if start == 24*60 {
		doc.Errorf(ps, "24:00 may only end a span")
	}
	if start == end && doc.Has(ps) && doc.Has(pe) && !doc.Bad(ps) && !doc.Bad(pe) {
		doc.Errorf(pe, "equals start (%s): use 00:00 to 24:00 for a whole day", start)
	}
}

// Source returns the document the calendar was parsed from, which the
// server sends to its agents for their own gate (DESIGN §4.1).
func (c *Calendar) Source() []byte { return c.src }
