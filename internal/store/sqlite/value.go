package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Stored timestamps are TEXT in bulwark.TimeLayout (contract 12) and spans
// are INTEGER nanoseconds; SQL NULL stands for a nil pointer, which in the
// measures means "not detected".

// timeArg returns t as stored.
func timeArg(t time.Time) string { return bulwark.FormatTime(t) }

// ptrTimeArg returns t as stored, or NULL for nil.
func ptrTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return bulwark.FormatTime(*t)
}

// durArg returns d in nanoseconds, or NULL for nil.
func durArg(d *bulwark.Duration) any {
	if d == nil {
		return nil
	}
	return int64(*d)
}

// timeCol scans a NOT NULL timestamp column.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("scan time: got %T, want text", v)
	}
	t, err := bulwark.ParseTime(s)
	*c.t = t
	return err
}

// ptrTimeCol scans a nullable timestamp column into a *time.Time.
type ptrTimeCol struct{ t **time.Time }

// Scan implements sql.Scanner.
func (c ptrTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// durCol scans a nullable nanosecond column into a *bulwark.Duration.
type durCol struct{ d **bulwark.Duration }

// Scan implements sql.Scanner.
func (c durCol) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return fmt.Errorf("scan duration: %w", err)
	}
	if !n.Valid {
		*c.d = nil
		return nil
	}
	d := bulwark.Duration(n.Int64)
	*c.d = &d
	return nil
}

// measureCols are the measure columns shared by runs and run_step_measures,
// in the order of measureArgs and measureDest.
const measureCols = `t_active, t_effect, t_alert, t_ack, t_end, t_restored,
	time_to_effect_ns, mttd_ns, mtta_ns, mttr_ns, recovery_after_end_ns, rto_ns, rpo_ns, mttd_source`

// measureArgs returns m's values for measureCols.
func measureArgs(m *bulwark.Measures) []any {
	return []any{
		ptrTimeArg(m.TActive), ptrTimeArg(m.TEffect), ptrTimeArg(m.TAlert),
		ptrTimeArg(m.TAck), ptrTimeArg(m.TEnd), ptrTimeArg(m.TRestored),
		durArg(m.TimeToEffect), durArg(m.MTTD), durArg(m.MTTA), durArg(m.MTTR),
		durArg(m.RecoveryAfterEnd), durArg(m.RTO), durArg(m.RPO), string(m.MTTDSource),
	}
}

// measureDest returns scan destinations into m for measureCols.
func measureDest(m *bulwark.Measures) []any {
	return []any{
		ptrTimeCol{&m.TActive}, ptrTimeCol{&m.TEffect}, ptrTimeCol{&m.TAlert},
		ptrTimeCol{&m.TAck}, ptrTimeCol{&m.TEnd}, ptrTimeCol{&m.TRestored},
		durCol{&m.TimeToEffect}, durCol{&m.MTTD}, durCol{&m.MTTA}, durCol{&m.MTTR},
		durCol{&m.RecoveryAfterEnd}, durCol{&m.RTO}, durCol{&m.RPO}, (*string)(&m.MTTDSource),
	}
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}

// utcPtr returns a copy of t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// normaliseMeasures puts every time in m into UTC, as it will read back.
func normaliseMeasures(m *bulwark.Measures) {
	for _, p := range []**time.Time{&m.TActive, &m.TEffect, &m.TAlert, &m.TAck, &m.TEnd, &m.TRestored} {
		*p = utcPtr(*p)
	}
}
