package calendar

import "time"

// APIVersion and KindCalendar are the only values apiVersion and kind take.
const (
	APIVersion   = "bulwark/v1"
	KindCalendar = "Calendar"
)

// Which days a window is held on (Window.Days).
const (
	DaysTrading    = "tradingDays"    // every trading day (the default)
	DaysEvery      = "everyDay"       // every calendar day
	DaysNonTrading = "nonTradingDays" // weekends, closed dates, make-up workdays
	DaysMonthEnd   = "monthEnd"       // the last trading day of each month
	DaysQuarterEnd = "quarterEnd"     // the last trading day of March, June, September, December
	DaysYearEnd    = "yearEnd"        // the last trading day of the year
)

// Touch types (Touch.Type).
const (
	TypeSession = "session"
	TypeWindow  = "window"
)

// File is a calendar file (kind: Calendar).
type File struct {
	APIVersion string   `yaml:"apiVersion" json:"apiVersion"`
	Kind       string   `yaml:"kind" json:"kind"`
	Metadata   Metadata `yaml:"metadata" json:"metadata"`
	Spec       Spec     `yaml:"spec" json:"spec"`
}

// Metadata names the calendar; policies refer to it by Name.
type Metadata struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	Source      string `yaml:"source,omitempty" json:"source,omitempty"` // where the closed dates come from
}

// Spec is the calendar proper.
type Spec struct {
	// TimeZone is an IANA zone name (Asia/Shanghai); sessions and windows
	// are local clock times in it.
	TimeZone string `yaml:"timeZone" json:"timeZone"`
	// ValidThrough is the last instant the calendar knows about; every
	// later instant counts as blackout for production-class faults.
	ValidThrough time.Time `yaml:"validThrough" json:"validThrough"`
	// Closed lists exchange-closed dates and ranges (public holidays).
	Closed []Closure `yaml:"closed,omitempty" json:"closed,omitempty"`
	// MakeUpWorkdays are weekend days that are working days (调休上班):
	// offices open, exchanges closed. They are never trading days; listing
	// them lets windows on nonTradingDays and reports say so.
	MakeUpWorkdays []Date `yaml:"makeUpWorkdays,omitempty" json:"makeUpWorkdays,omitempty"`
	// Sessions are the exchange's trading sessions, held on trading days.
	Sessions []Session `yaml:"sessions,omitempty" json:"sessions,omitempty"`
	// Windows are firm-defined periods: clearing, day-end batch, month end.
	Windows []Window `yaml:"windows,omitempty" json:"windows,omitempty"`
}

// Closure is one closed date, or a range of them with Through.
type Closure struct {
	Date    Date   `yaml:"date" json:"date"`
	Through Date   `yaml:"through,omitempty" json:"through,omitempty"`
	Name    string `yaml:"name,omitempty" json:"name,omitempty"`
}

// Session is a named trading session from Start to End local time; an End
// at or before Start ends on the next calendar day.
type Session struct {
	Name  string `yaml:"name" json:"name"`
	Start Clock  `yaml:"start" json:"start"`
	End   Clock  `yaml:"end" json:"end"`
	// NextTradingDay marks a night session: it is held on the evening of a
	// trading day and belongs to the next trading day (a Friday night
	// session belongs to Monday).
	NextTradingDay bool `yaml:"nextTradingDay,omitempty" json:"nextTradingDay,omitempty"`
	// CancelBeforeHoliday drops the session when a closed date lies
	// between its evening and the trading day it belongs to: futures
	// exchanges hold no night session before a public holiday.
	CancelBeforeHoliday bool `yaml:"cancelBeforeHoliday,omitempty" json:"cancelBeforeHoliday,omitempty"`
}

// Window is a firm-defined period from Start to End local time on the days
// Days names; an End at or before Start ends on the next calendar day.
type Window struct {
	Name  string `yaml:"name" json:"name"`
	Start Clock  `yaml:"start" json:"start"`
	End   Clock  `yaml:"end" json:"end"`
	Days  string `yaml:"days,omitempty" json:"days,omitempty"`
}
