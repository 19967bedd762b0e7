package report

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// DefaultZone is the deployment zone reports use unless told otherwise.
const DefaultZone = "Asia/Shanghai"

// DefaultLocation returns Asia/Shanghai. Where the host has no zone database
// (a minimal container, Windows without Go's zoneinfo) it falls back to a
// fixed UTC+8 zone of the same name: China has kept no daylight saving time
// since 1991, so the two agree for every time a report shows.
func DefaultLocation() *time.Location {
	if loc, err := time.LoadLocation(DefaultZone); err == nil {
		return loc
	}
	return time.FixedZone(DefaultZone, 8*3600)
}

// fmtDur formats d for people: 850µs, 1.25ms, 320ms, 1.25s, 2m5s, 1h2m.
func fmtDur(d time.Duration) string {
	if d < 0 {
		return "-" + fmtDur(-d)
	}
	switch {
	case d == 0:
		return "0s"
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return trimFloat(float64(d)/1e3, 0) + "µs"
	case d < time.Second:
		ms := float64(d) / 1e6
		return trimFloat(ms, decimals(ms)) + "ms"
	case d < time.Minute:
		return trimFloat(d.Seconds(), 2) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
}

// decimals keeps about three significant digits below 1000.
func decimals(v float64) int {
	switch {
	case v < 10:
		return 2
	case v < 100:
		return 1
	}
	return 0
}

// trimFloat formats v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtRate formats a 0–1 ratio as a percentage: 99.5%, 100%. It floors
// rather than rounds, so a rate just under a tolerance never shows as
// equal to it.
func fmtRate(r float64) string {
	return trimFloat(math.Floor(r*10000+1e-6)/100, 2) + "%"
}

// fmtTime formats t in loc to the second, as a date and a time.
func fmtTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05")
}

// fmtClock formats t in loc as a time of day to the millisecond.
func fmtClock(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("15:04:05.000")
}

// fmtOffset formats t relative to the run's start as "T+12.5s".
func fmtOffset(t, start time.Time) string {
	if start.IsZero() {
		return ""
	}
	d := t.Sub(start)
	if d < 0 {
		return "T-" + fmtDur(-d)
	}
	return "T+" + fmtDur(d)
}

// zoneLabel names loc with its offset at t: "Asia/Shanghai (UTC+08:00)".
func zoneLabel(loc *time.Location, t time.Time) string {
	_, off := t.In(loc).Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s (UTC%c%02d:%02d)", loc.String(), sign, off/3600, off%3600/60)
}

// runStart is the instant offsets in the timeline count from.
func runStart(r *bulwark.Run) time.Time {
	if r.StartedAt != nil {
		return *r.StartedAt
	}
	return r.CreatedAt
}

// kvs formats a string map as "k=v, k=v" in key order.
func kvs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

// eventDetail summarises an event's JSON payload as "k=v" pairs in key
// order, scalars only, cut to a readable length.
func eventDetail(data json.RawMessage) string {
	var m map[string]any
	if len(data) == 0 || json.Unmarshal(data, &m) != nil {
		return ""
	}
	flat := map[string]string{}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			flat[k] = v
		case float64:
			flat[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			flat[k] = strconv.FormatBool(v)
		}
	}
	s := kvs(flat)
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}

// itoa64 formats an int64 without locale grouping.
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
