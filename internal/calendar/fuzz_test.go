package calendar_test

import (
	"os"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/calendar"
)

// FuzzParse checks that no input panics the decoder or the checks, and that
// every calendar that parses can be evaluated.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../examples/calendars/cn-a-share.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(nyCalendar))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("spec: {sessions: [{name: n, start: \"23:00\", end: \"01:00\", nextTradingDay: true}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := calendar.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		start := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
		ev := c.Evaluate(start, start.Add(36*time.Hour))
		if ev.Start.After(ev.End) {
			t.Fatalf("evaluation %v after %v", ev.Start, ev.End)
		}
	})
}
