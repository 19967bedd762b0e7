package probe_test

import (
	"math"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/probe"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestNearestRank(t *testing.T) {
	ten := []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9), ms(10)}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", []time.Duration{ms(7)}, 50, ms(7)},
		{"p50 of 10", ten, 50, ms(5)},
		{"p90 of 10", ten, 90, ms(9)},
		{"p99 of 10", ten, 99, ms(10)},
		{"p100 of 10", ten, 100, ms(10)},
		{"p1 of 10", ten, 1, ms(1)},
		{"p50 of 4", ten[:4], 50, ms(2)},
		{"p51 of 4", ten[:4], 51, ms(3)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := probe.NearestRank(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("NearestRank(p%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	var rs []probe.Result
	// 100 samples: 1..100 ms; every 10th fails (with a huge latency that must
	// not count in the percentiles); the last one is OK.
	for i := 1; i <= 100; i++ {
		r := probe.Result{Time: t0.Add(time.Duration(i) * time.Second), OK: i%10 != 5, Latency: ms(i)}
		if !r.OK {
			r.Latency = time.Hour
		}
		rs = append(rs, r)
	}
	m := probe.Summarize(rs)
	// 90 successes: nearest ranks ceil(0.5·90)=45, ceil(0.9·90)=81, ceil(0.99·90)=90.
	want := probe.Metrics{Count: 100, Successes: 90, SuccessRate: 0.9, ErrorRate: 0.1,
		P50: okLatency(rs, 45), P90: okLatency(rs, 81), P99: okLatency(rs, 90), LastOK: true}
	if want.P50 != ms(50) || want.P90 != ms(90) || want.P99 != ms(100) {
		t.Fatalf("test data: p50 %v p90 %v p99 %v", want.P50, want.P90, want.P99)
	}
	if math.Abs(m.ErrorRate-want.ErrorRate) < 1e-12 {
		m.ErrorRate = want.ErrorRate
	}
	if m != want {
		t.Fatalf("Summarize = %+v\nwant        %+v", m, want)
	}
	if got := probe.Summarize(nil); got != (probe.Metrics{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
	for _, name := range probe.MetricNames {
		if _, ok := m.Metric(name); !ok {
			t.Errorf("Metric(%q) unknown", name)
		}
	}
	if _, ok := m.Metric("p95"); ok {
		t.Error("Metric(p95) known")
	}
}

// okLatency returns the latency of the rank-th OK sample in latency order
// (the samples are already in latency order).
func okLatency(rs []probe.Result, rank int) time.Duration {
	n := 0
	for _, r := range rs {
		if r.OK {
			n++
			if n == rank {
				return r.Latency
			}
		}
	}
	return 0
}

func TestWindowTrailing(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	w := probe.NewWindow(5*time.Second, func() time.Time { return now })
	for i := 0; i < 10; i++ {
		w.Add(probe.Result{Time: now.Add(time.Duration(i-9) * time.Second), OK: i >= 5, Latency: ms(10)})
	}
	// Samples at now-9s … now: the window keeps now-5s … now (6 samples, 5 OK).
	m := w.Metrics()
	if m.Count != 6 || m.Successes != 5 || !m.LastOK {
		t.Fatalf("Metrics = %+v, want 6 samples, 5 OK, lastOK", m)
	}
	now = now.Add(10 * time.Second)
	if m := w.Metrics(); m.Count != 0 || len(w.Samples()) != 0 {
		t.Fatalf("after 10s: %+v, want empty", m)
	}
	phase := probe.NewWindow(0, nil)
	for i := 0; i < 3; i++ {
		phase.Add(probe.Result{Time: now.Add(-time.Duration(i) * time.Hour), OK: true})
	}
	if n := phase.Metrics().Count; n != 3 {
		t.Fatalf("unbounded window kept %d samples, want 3", n)
	}
}
