package calendar_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/calendar"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

func loadAShare(t *testing.T) *calendar.Calendar {
	t.Helper()
	c, err := calendar.ParseFile("../../examples/calendars/cn-a-share.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// names returns "type:name@day" for every touch, in order.
func names(ev calendar.Evaluation) string {
	var out []string
	for _, tc := range ev.Touches {
		out = append(out, tc.Type+":"+tc.Name+"@"+tc.Day.String())
	}
	return strings.Join(out, " ")
}

func TestAShareTradingDays(t *testing.T) {
	c := loadAShare(t)
	for _, tc := range []struct {
		day  string
		want bool
		why  string
	}{
		{"2026-03-03", true, "an ordinary Tuesday"},
		{"2026-03-07", false, "an ordinary Saturday"},
		{"2026-02-14", false, "make-up working Saturday before the Spring Festival"},
		{"2026-02-28", false, "make-up working Saturday after the Spring Festival"},
		{"2026-01-04", false, "make-up working Sunday"},
		{"2026-01-01", false, "New Year"},
		{"2026-01-05", true, "first trading day of 2026"},
		{"2026-02-16", false, "Spring Festival Monday"},
		{"2026-02-23", false, "Spring Festival last day (Monday)"},
		{"2026-02-24", true, "first trading day after the Spring Festival"},
		{"2026-04-06", false, "Qingming Monday"},
		{"2026-05-05", false, "Labour Day Tuesday"},
		{"2026-05-06", true, "after Labour Day"},
		{"2026-06-19", false, "Dragon Boat"},
		{"2026-09-25", false, "Mid-Autumn"},
		{"2026-10-07", false, "National Day Wednesday"},
		{"2026-10-08", true, "after National Day"},
		{"2026-10-10", false, "make-up working Saturday after National Day"},
	} {
		d := date(tc.day)
		if got := c.IsTradingDay(d); got != tc.want {
			t.Errorf("IsTradingDay(%s) (%s) = %v, want %v", tc.day, tc.why, got, tc.want)
		}
	}
	if !c.IsMakeUpWorkday(date("2026-02-14")) || c.IsMakeUpWorkday(date("2026-02-21")) {
		t.Error("make-up workdays not indexed")
	}
}

func TestAShareEvaluate(t *testing.T) {
	c := loadAShare(t)
	sh := c.Location()
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, sh) }
	for _, tc := range []struct {
		name         string
		start        time.Time
		dur          time.Duration
		want         string
		outside, exp bool
	}{
		{"tuesday 10:00 is continuous trading", at(2026, 3, 3, 10, 0), 5 * time.Minute,
			"session:continuous-am@2026-03-03", false, false},
		{"instant at 10:00", at(2026, 3, 3, 10, 0), 0, "session:continuous-am@2026-03-03", false, false},
		{"lunch break is outside", at(2026, 3, 3, 11, 40), 10 * time.Minute, "", true, false},
		{"11:25 for 10m runs into the break", at(2026, 3, 3, 11, 25), 10 * time.Minute,
			"session:continuous-am@2026-03-03", true, false},
		{"closing call then clearing", at(2026, 3, 3, 14, 58), 5 * time.Minute,
			"session:call-close@2026-03-03 window:clearing@2026-03-03", false, false},
		{"gap between calls 09:25-09:30", at(2026, 3, 3, 9, 24), 3 * time.Minute,
			"session:call-open@2026-03-03", true, false},
		{"saturday make-up day is outside every session", at(2026, 2, 14, 10, 0), time.Hour, "", true, false},
		{"tuesday night session belongs to wednesday", at(2026, 3, 3, 22, 0), time.Hour,
			"session:night@2026-03-04", false, false},
		{"friday night session belongs to monday", at(2026, 3, 6, 23, 0), time.Hour,
			"session:night@2026-03-09", false, false},
		{"friday night after midnight still belongs to monday", at(2026, 3, 7, 1, 0), time.Hour,
			"session:night@2026-03-09", false, false},
		{"no night session before Labour Day (30 April is month end)", at(2026, 4, 30, 22, 0), time.Hour,
			"window:month-end@2026-04-30", false, false},
		{"no night session before Qingming (Monday holiday)", at(2026, 4, 3, 22, 0), time.Hour, "", true, false},
		{"no night session before the Spring Festival", at(2026, 2, 13, 22, 0), time.Hour, "", true, false},
		{"month end is the last trading day (Friday 30 Jan)", at(2026, 1, 30, 16, 0), 30 * time.Minute,
			"window:month-end@2026-01-30 window:clearing@2026-01-30", false, false},
		{"quarter end is Tuesday 30 June", at(2026, 6, 30, 12, 0), 30 * time.Minute,
			"window:month-end@2026-06-30 window:quarter-end@2026-06-30", false, false},
		{"after validThrough is expired", at(2027, 1, 4, 10, 0), 5 * time.Minute,
			"session:continuous-am@2027-01-04", false, true},
		{"interval crossing validThrough is expired", at(2026, 12, 31, 23, 55), 10 * time.Minute,
			"window:month-end@2026-12-31 window:quarter-end@2026-12-31 session:night@2027-01-01", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := c.Evaluate(tc.start, tc.start.Add(tc.dur))
			if got := names(ev); got != tc.want {
				t.Errorf("touches = %q, want %q", got, tc.want)
			}
			if ev.Outside != tc.outside {
				t.Errorf("outside = %v, want %v", ev.Outside, tc.outside)
			}
			if ev.Expired != tc.exp {
				t.Errorf("expired = %v, want %v", ev.Expired, tc.exp)
			}
		})
	}
}

func TestEvaluateJSON(t *testing.T) {
	c := loadAShare(t)
	start := time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)
	b, err := json.Marshal(c.Evaluate(start, start.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"calendar":"cn-a-share","timeZone":"Asia/Shanghai","start":"2026-03-03T02:00:00Z","end":"2026-03-03T02:01:00Z",` +
		`"validThrough":"2026-12-31T15:59:59Z","expired":false,"touches":[{"name":"continuous-am","type":"session","day":"2026-03-03",` +
		`"start":"2026-03-03T09:30:00+08:00","end":"2026-03-03T11:30:00+08:00"}],"outside":false}`
	if string(b) != want {
		t.Errorf("json =\n%s\nwant\n%s", b, want)
	}
}

const nyCalendar = `apiVersion: bulwark/v1
kind: Calendar
metadata: { name: nyse }
spec:
  timeZone: America/New_York
  validThrough: 2026-12-31T23:59:59-05:00
  sessions:
    - { name: regular, start: "09:30", end: "16:00" }
  windows:
    - { name: overnight, start: "01:00", end: "04:00", days: everyDay }
`

func TestDST(t *testing.T) {
	c, err := calendar.Parse("nyse.yaml", []byte(nyCalendar))
	if err != nil {
		t.Fatal(err)
	}
	// 9:30 New York is 14:30 UTC in winter and 13:30 UTC in summer.
	for _, tc := range []struct {
		utc  time.Time
		want string
	}{
		{time.Date(2026, 3, 6, 14, 30, 0, 0, time.UTC), "session:regular@2026-03-06"},
		{time.Date(2026, 3, 6, 13, 30, 0, 0, time.UTC), ""},
		{time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC), "session:regular@2026-03-09"},
		{time.Date(2026, 3, 9, 13, 29, 0, 0, time.UTC), ""},
	} {
		if got := names(c.Evaluate(tc.utc, tc.utc)); got != tc.want {
			t.Errorf("at %s: %q, want %q", tc.utc, got, tc.want)
		}
	}
	// On 8 March 2026 clocks jump from 02:00 to 03:00: the 01:00-04:00
	// window lasts two hours.
	ev := c.Evaluate(time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC))
	if len(ev.Touches) != 1 || ev.Touches[0].End.Sub(ev.Touches[0].Start) != 2*time.Hour {
		t.Errorf("spring-forward window = %+v, want one touch of 2h", ev.Touches)
	}
}

func TestParseProblems(t *testing.T) {
	const bad = `apiVersion: bulwark/v1
kind: Calendar
metadata: { name: Bad_Name }
spec:
  timeZone: Mars/Olympus
  validThrough: next year
  colour: red
  closed:
    - { date: 2026-13-01 }
    - { date: 2026-05-05, through: 2026-05-01 }
  makeUpWorkdays: [2026-03-04]
  sessions:
    - { name: am, start: "09:61", end: "11:30" }
    - { name: am, start: "13:00", end: "13:00" }
    - { name: pm, start: "13:00", end: "14:00", cancelBeforeHoliday: true }
  windows:
    - { name: batch, start: "17:00" , days: weekly }
`
	_, err := calendar.Parse("bad.yaml", []byte(bad))
	var ye *yamldoc.Error
	if !errors.As(err, &ye) {
		t.Fatalf("want *yamldoc.Error, got %v", err)
	}
	want := []string{
		`bad.yaml:3:19: metadata.name: is required: lower-case letters, digits and dashes, not "Bad_Name"`,
		`bad.yaml:5:13: spec.timeZone: "Mars/Olympus" is not a known time zone`,
		`bad.yaml:6:17: spec.validThrough: `,
		`bad.yaml:7:3: spec.colour: unknown field "colour"`,
		`bad.yaml:9:15: spec.closed[0].date: "2026-13-01" is not a date (use YYYY-MM-DD)`,
		`bad.yaml:10:36: spec.closed[1].through: 2026-05-01 is before date 2026-05-05`,
		`bad.yaml:11:20: spec.makeUpWorkdays[0]: 2026-03-04 is a Wednesday: a make-up workday is a Saturday or Sunday`,
		`bad.yaml:13:26: spec.sessions[0].start: "09:61" is not a time of day (use HH:MM, 00:00 to 24:00)`,
		`bad.yaml:14:15: spec.sessions[1].name: "am" is already used at spec.sessions[0]`,
		`bad.yaml:14:40: spec.sessions[1].end: equals start (13:00): use 00:00 to 24:00 for a whole day`,
		`bad.yaml:15:70: spec.sessions[2].cancelBeforeHoliday: applies only to a night session (nextTradingDay: true)`,
		`bad.yaml:17:7: spec.windows[0].end: is required (HH:MM)`,
		`bad.yaml:17:45: spec.windows[0].days: "weekly" is not one of`,
	}
	lines := strings.Split(ye.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), ye)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestParseRejectsShapes(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":      ``,
		"two docs":   "kind: Calendar\n---\nkind: Calendar\n",
		"list":       "- a\n",
		"merge key":  "apiVersion: bulwark/v1\nkind: Calendar\nmetadata: &m { name: x }\nspec:\n  <<: *m\n",
		"duplicate":  "kind: Calendar\nkind: Calendar\n",
		"wrong kind": "apiVersion: bulwark/v1\nkind: Policy\nmetadata: {name: x}\nspec: {timeZone: UTC, validThrough: 2026-01-01T00:00:00Z}\n",
	} {
		if _, err := calendar.Parse(name, []byte(doc)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
}

// TestUnquotedClock: times of day may be written without quotes.
func TestUnquotedClock(t *testing.T) {
	c, err := calendar.Parse("u.yaml", []byte("apiVersion: bulwark/v1\nkind: Calendar\nmetadata: {name: u}\nspec:\n  timeZone: Asia/Shanghai\n  validThrough: 2026-12-31T23:59:59+08:00\n  sessions:\n    - name: am\n      start: 09:30\n      end: 11:30\n    - {name: pm, start: 13:00, end: 15:00}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.File.Spec.Sessions; s[0].Start.String() != "09:30" || s[1].End.String() != "15:00" {
		t.Errorf("sessions = %v", s)
	}
}
