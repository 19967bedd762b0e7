package calendar

import (
	"slices"
	"time"
)

// maxEvaluateDays bounds the days Evaluate walks; a longer interval is
// reported as expired (no calendar is valid that far ahead).
const maxEvaluateDays = 3660

// Evaluation is what a planned interval touches in a calendar.
type Evaluation struct {
	Calendar     string    `json:"calendar"`
	TimeZone     string    `json:"timeZone"`
	Start        time.Time `json:"start"` // UTC
	End          time.Time `json:"end"`   // UTC
	ValidThrough time.Time `json:"validThrough"`
	// Expired is true when any part of the interval is after ValidThrough:
	// such time counts as blackout for production-class faults.
	Expired bool `json:"expired"`
	// Touches lists every session and window instance the interval
	// overlaps, in time order.
	Touches []Touch `json:"touches,omitempty"`
	// Outside is true when some of the interval lies outside every session
	// and window (including all of a non-trading day).
	Outside bool `json:"outside"`
}

// Touch is one session or window instance that an interval overlaps.
type Touch struct {
	Name string `json:"name"`
	Type string `json:"type"` // session | window
	// Day is the trading day a session belongs to (for a night session,
	// the next trading day) or the date a window is held on.
	Day   Date      `json:"day"`
	Start time.Time `json:"start"` // local time in the calendar's zone
	End   time.Time `json:"end"`
}

// Evaluate lists every session and window that the interval [start, end)
// touches (a zero-length interval is the instant start), whether part of it
// lies outside all of them, and whether any of it is after ValidThrough.
// Evaluation is in absolute time, so intervals across a DST change are
// exact.
func (c *Calendar) Evaluate(start, end time.Time) Evaluation {
	if end.Before(start) {
		start, end = end, start
	}
	ev := Evaluation{Calendar: c.Name(), TimeZone: c.File.Spec.TimeZone, Start: start.UTC(), End: end.UTC(),
		ValidThrough: c.File.Spec.ValidThrough.UTC()}
	ev.Expired = end.After(c.File.Spec.ValidThrough)
	if end.Sub(start) > maxEvaluateDays*24*time.Hour {
		ev.Expired, ev.Outside = true, true
		return ev
	}
	qEnd := end
	if qEnd.Equal(start) {
		qEnd = start.Add(1) // an instant overlaps the span holding it
	}
	first := DateOf(start.In(c.loc)).AddDays(-2) // a night span began up to a day before
	last := DateOf(qEnd.In(c.loc))
	var covered [][2]time.Time
	for d := first; d.Compare(last) <= 0; d = d.AddDays(1) {
		for _, in := range c.instancesOn(d) {
			s, e := in.Start, in.End
			if !s.Before(qEnd) || !e.After(start) {
				continue
			}
			ev.Touches = append(ev.Touches, in)
			covered = append(covered, [2]time.Time{maxTime(s, start), minTime(e, qEnd)})
		}
	}
	slices.SortStableFunc(ev.Touches, func(a, b Touch) int { return a.Start.Compare(b.Start) })
	ev.Outside = !covers(covered, start, qEnd)
	return ev
}

// instancesOn returns the sessions and windows that begin on local date d.
func (c *Calendar) instancesOn(d Date) []Touch {
	var out []Touch
	trading := c.IsTradingDay(d)
	for _, s := range c.File.Spec.Sessions {
		day := d
		if s.NextTradingDay {
			if !trading {
				continue
			}
			next, ok := c.NextTradingDay(d)
			if !ok || (s.CancelBeforeHoliday && c.closedBetween(d, next)) {
				continue
			}
			day = next
		} else if !trading {
			continue
		}
		out = append(out, c.instance(s.Name, TypeSession, day, d, s.Start, s.End))
	}
	for _, w := range c.File.Spec.Windows {
		if c.windowOn(w, d) {
			out = append(out, c.instance(w.Name, TypeWindow, d, d, w.Start, w.End))
		}
	}
	return out
}

// instance places a span starting at local clock start on date on; an end
// at or before start is on the next day.
func (c *Calendar) instance(name, typ string, day, on Date, start, end Clock) Touch {
	endDate := on
	if end <= start {
		endDate = on.AddDays(1)
	}
	return Touch{Name: name, Type: typ, Day: day, Start: on.At(start, c.loc), End: endDate.At(end, c.loc)}
}

// covers reports whether the union of spans covers [start, end).
func covers(spans [][2]time.Time, start, end time.Time) bool {
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
	at := start
	for _, s := range spans {
		if s[0].After(at) {
			return false
		}
		if s[1].After(at) {
			at = s[1]
		}
	}
	return !at.Before(end)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
