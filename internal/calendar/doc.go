// Package calendar reads trading calendars (kind: Calendar, DESIGN §5.1
// contract 11) and says what a planned interval touches: which exchange
// sessions and firm-defined windows, whether part of it falls outside all of
// them, and whether any of it is after the calendar's validThrough.
//
// A calendar has a time zone, a validThrough instant, closed dates (public
// holidays), make-up working weekend days, named sessions (call-open
// 09:15–09:25, continuous-am 09:30–11:30, …) and windows (clearing, day-end
// batch, month end). Trading days are weekdays that are not closed; a
// make-up working Saturday or Sunday is never a trading day. A night session
// (nextTradingDay: true) is held on the evening of a trading day and belongs
// to the next trading day; with cancelBeforeHoliday it is not held when a
// closed date lies between that evening and the next trading day, as
// futures exchanges do before public holidays.
//
// Evaluate works on absolute instants: each session is placed with
// time.Date in the calendar's zone, so intervals across a DST change are
// exact. The tz database is embedded (time/tzdata), so hosts without
// zoneinfo load calendars too.
//
// # Loading next year's holidays
//
// Chinese exchanges publish the next year's closing notice (上交所/深交所
// 关于XXXX年部分节假日休市安排的通知) in December, after the State Council's
// holiday arrangement (国务院办公厅关于XXXX年部分节假日安排的通知). Each
// December copy the current calendar, replace spec.closed with the notice's
// closed dates and spec.makeUpWorkdays with the arrangement's make-up
// working days, set validThrough to 31 December 23:59:59 of the new year,
// check the file with the server and load it before the old one expires.
// An expired calendar is not an error: every instant after validThrough
// counts as blackout, so every production-class fault is refused until a
// current calendar is loaded.
//
// The package imports neither the server nor the store: the agent embeds it
// to refuse production-class faults in a blackout on its own.
package calendar
