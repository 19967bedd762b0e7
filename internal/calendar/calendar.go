package calendar

import (
	"time"
)

// Outside is the name policies use for time outside every session and
// window, including the whole of non-trading days.
const Outside = "outside"

// searchDays bounds the search for the next or previous trading day.
const searchDays = 60

// Calendar is a parsed, checked calendar. It is immutable and safe for
// concurrent use.
type Calendar struct {
	File   File
	src    []byte
	loc    *time.Location
	closed map[Date]string // closed date → holiday name
	makeUp map[Date]bool
}

// Name returns the calendar's metadata.name.
func (c *Calendar) Name() string { return c.File.Metadata.Name }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// ValidThrough returns the last instant the calendar covers.
func (c *Calendar) ValidThrough() time.Time { return c.File.Spec.ValidThrough }

// Valid reports whether t is within the calendar's validity (not after
// ValidThrough).
func (c *Calendar) Valid(t time.Time) bool { return !t.After(c.File.Spec.ValidThrough) }

func (c *Calendar) index() {
	c.closed = c.closedSet()
	c.makeUp = make(map[Date]bool, len(c.File.Spec.MakeUpWorkdays))
	for _, d := range c.File.Spec.MakeUpWorkdays {
		c.makeUp[d] = true
	}
}

func (c *Calendar) closedSet() map[Date]string {
	out := map[Date]string{}
	for _, cl := range c.File.Spec.Closed {
		if cl.Date.IsZero() {
			continue
		}
		last := cl.Through
		if last.IsZero() || last.Compare(cl.Date) < 0 || last.Compare(cl.Date.AddDays(maxClosureDays)) > 0 {
			last = cl.Date
		}
		name := cl.Name
		if name == "" {
			name = "closed"
		}
		for d := cl.Date; d.Compare(last) <= 0; d = d.AddDays(1) {
			out[d] = name
		}
	}
	return out
}

// IsTradingDay reports whether d is a trading day: a weekday that is not a
// closed date. Make-up working Saturdays and Sundays are not trading days.
// It does not look at ValidThrough; Evaluate does.
func (c *Calendar) IsTradingDay(d Date) bool {
	wd := d.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, closed := c.closed[d]
	return !closed
}

// Closed returns the holiday name if d is a listed closed date.
func (c *Calendar) Closed(d Date) (string, bool) { name, ok := c.closed[d]; return name, ok }

// IsMakeUpWorkday reports whether d is a listed make-up working weekend day.
func (c *Calendar) IsMakeUpWorkday(d Date) bool { return c.makeUp[d] }

// NextTradingDay returns the first trading day after d, and false when
// there is none within searchDays.
func (c *Calendar) NextTradingDay(d Date) (Date, bool) {
	for i := 1; i <= searchDays; i++ {
		if n := d.AddDays(i); c.IsTradingDay(n) {
			return n, true
		}
	}
	return Date{}, false
}

// closedBetween reports whether a closed date lies strictly between a and b.
func (c *Calendar) closedBetween(a, b Date) bool {
	for d := a.AddDays(1); d.Compare(b) < 0; d = d.AddDays(1) {
		if _, ok := c.closed[d]; ok {
			return true
		}
	}
	return false
}

// isLastTradingDayOf reports whether d is a trading day and the next
// trading day falls in a later month (monthEnd), quarter or year.
func (c *Calendar) isLast(d Date, days string) bool {
	if !c.IsTradingDay(d) {
		return false
	}
	next, ok := c.NextTradingDay(d)
	if !ok {
		next = d.AddDays(searchDays) // no trading day ahead: d is the last
	}
	switch days {
	case DaysMonthEnd:
		return next.Month != d.Month || next.Year != d.Year
	case DaysQuarterEnd:
		return (next.Month-1)/3 != (d.Month-1)/3 || next.Year != d.Year
	case DaysYearEnd:
		return next.Year != d.Year
	}
	return false
}

// windowOn reports whether window w is held on date d.
func (c *Calendar) windowOn(w Window, d Date) bool {
	switch w.Days {
	case DaysEvery:
		return true
	case DaysNonTrading:
		return !c.IsTradingDay(d)
	case DaysMonthEnd, DaysQuarterEnd, DaysYearEnd:
		return c.isLast(d, w.Days)
	default:
		return c.IsTradingDay(d)
	}
}
