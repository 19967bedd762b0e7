package timeskew

import "time"

// sample is one reading of the two clocks: CLOCK_REALTIME and
// CLOCK_BOOTTIME in nanoseconds, and how far apart the two boot-time reads
// around the real-time read were (the reading's uncertainty).
type sample struct {
	Real   int64         `json:"real"`
	Boot   int64         `json:"boot"`
	Spread time.Duration `json:"spread"`
}

// diff is the wall clock's position on the boot-time line: real − boot. It
// changes only when someone steps or slews the wall clock.
func (s sample) diff() int64 { return s.Real - s.Boot }

// shift returns how far the wall clock now stands from the anchored time
// line: positive when it runs ahead.
func shift(anchor, now sample) time.Duration { return time.Duration(now.diff() - anchor.diff()) }

// stepFor returns the relative step that puts the wall clock at offset from
// the anchored time line: offset for Apply, zero for Recover. The wall time
// it aims at is the anchored wall time plus the boot time elapsed since the
// anchor, plus offset; time that passed meanwhile is kept.
func stepFor(anchor, now sample, offset time.Duration) time.Duration {
	return offset - shift(anchor, now)
}

// target returns the wall time stepFor aims at, for evidence.
func target(anchor, now sample, offset time.Duration) time.Time {
	return time.Unix(0, anchor.Real+(now.Boot-anchor.Boot)).Add(offset)
}
