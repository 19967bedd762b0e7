package probe

import (
	"math"
	"slices"
	"sync"
	"time"
)

// MetricNames are the metrics of a probe that expressions may use, as
// probe("name").<metric> (DESIGN §5.1 contract 6).
var MetricNames = []string{"successRate", "errorRate", "p50", "p90", "p99", "lastOK"}

// Metrics summarise a set of samples. The expr tags are the names that
// abort and tolerance expressions use (contract 6).
type Metrics struct {
	// Count is the number of samples; Successes of them were OK.
	Count     int `json:"count" expr:"count"`
	Successes int `json:"successes" expr:"successes"`
	// SuccessRate is Successes ÷ Count; ErrorRate is 1 − SuccessRate. Both
	// are 0 when Count is 0: check Count (minSamples) first.
	SuccessRate float64 `json:"successRate" expr:"successRate"`
	ErrorRate   float64 `json:"errorRate" expr:"errorRate"`
	// P50, P90 and P99 are nearest-rank percentiles of the latencies of the
	// successful samples (contract 5); 0 when there are none.
	P50 time.Duration `json:"p50" expr:"p50"`
	P90 time.Duration `json:"p90" expr:"p90"`
	P99 time.Duration `json:"p99" expr:"p99"`
	// LastOK is whether the newest sample was OK.
	LastOK bool `json:"lastOK" expr:"lastOK"`
}

// Metric returns the metric called name (one of MetricNames), durations as
// time.Duration.
func (m Metrics) Metric(name string) (any, bool) {
	switch name {
	case "successRate":
		return m.SuccessRate, true
	case "errorRate":
		return m.ErrorRate, true
	case "p50":
		return m.P50, true
	case "p90":
		return m.P90, true
	case "p99":
		return m.P99, true
	case "lastOK":
		return m.LastOK, true
	}
	return nil, false
}

// Summarize computes the metrics of rs, which are in time order.
func Summarize(rs []Result) Metrics {
	m := Metrics{Count: len(rs)}
	if len(rs) == 0 {
		return m
	}
	lat := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		if r.OK {
			lat = append(lat, r.Latency)
		}
	}
	m.Successes = len(lat)
	m.SuccessRate = float64(m.Successes) / float64(m.Count)
	m.ErrorRate = 1 - m.SuccessRate
	m.LastOK = rs[len(rs)-1].OK
	slices.Sort(lat)
	m.P50, m.P90, m.P99 = NearestRank(lat, 50), NearestRank(lat, 90), NearestRank(lat, 99)
	return m
}

// NearestRank returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the value at rank ceil(p/100 × N). It returns 0 for no
// values.
func NearestRank(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Window keeps the samples of one probe and computes metrics over them. With
// Span 0 it keeps every sample (a phase, contract 5); otherwise it is a
// trailing window: samples older than Span before now are dropped. A Window
// is safe for concurrent use (a Sampler adds while the engine reads).
type Window struct {
	span time.Duration
	now  func() time.Time

	mu      sync.Mutex
	samples []Result
}

// NewWindow returns a window over the trailing span (0: unbounded). now is the
// clock that decides which samples are too old; nil means time.Now.
func NewWindow(span time.Duration, now func() time.Time) *Window {
	if now == nil {
		now = time.Now
	}
	return &Window{span: span, now: now}
}

// Add records a sample. Samples are expected in about time order.
func (w *Window) Add(r Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples = append(w.samples, r)
	w.pruneLocked(r.Time)
}

// Metrics returns the metrics over the samples in the window now.
func (w *Window) Metrics() Metrics {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(w.now())
	return Summarize(w.samples)
}

// Samples returns a copy of the samples in the window.
func (w *Window) Samples() []Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(w.now())
	return slices.Clone(w.samples)
}

// pruneLocked drops samples older than span before t.
func (w *Window) pruneLocked(t time.Time) {
	if w.span <= 0 || len(w.samples) == 0 {
		return
	}
	cut := t.Add(-w.span)
	i := 0
	for i < len(w.samples) && w.samples[i].Time.Before(cut) {
		i++
	}
	if i > 0 {
		w.samples = slices.Delete(w.samples, 0, i)
	}
}
