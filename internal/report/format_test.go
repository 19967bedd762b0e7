package report

import (
	"testing"
	"time"
)

func TestFmtDur(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500, "500ns"},
		{850 * time.Microsecond, "850µs"},
		{1250 * time.Microsecond, "1.25ms"},
		{12300 * time.Microsecond, "12.3ms"},
		{320 * time.Millisecond, "320ms"},
		{time.Second, "1s"},
		{1250 * time.Millisecond, "1.25s"},
		{12345 * time.Millisecond, "12.35s"},
		{125 * time.Second, "2m5s"},
		{62 * time.Minute, "1h2m"},
		{-300 * time.Millisecond, "-300ms"},
	} {
		if got := fmtDur(tc.d); got != tc.want {
			t.Errorf("fmtDur(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFmtRate(t *testing.T) {
	for _, tc := range []struct {
		r    float64
		want string
	}{
		{1, "100%"}, {0, "0%"}, {0.995, "99.5%"}, {0.99, "99%"}, {0.98999, "98.99%"}, {0.5, "50%"}, {2.0 / 3, "66.66%"},
	} {
		if got := fmtRate(tc.r); got != tc.want {
			t.Errorf("fmtRate(%v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestDefaultLocation(t *testing.T) {
	at := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	if got := zoneLabel(DefaultLocation(), at); got != "Asia/Shanghai (UTC+08:00)" {
		t.Errorf("zone = %q", got)
	}
}
