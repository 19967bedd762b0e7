package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

// defaultMinSamples is contract 5's default for tolerance.minSamples.
const defaultMinSamples = 5

// metricsOf computes contract 6's metrics over samples: success and error
// rates over all samples, nearest-rank percentiles over successful ones.
func metricsOf(samples []bulwark.Sample) drill.Metrics {
	var m drill.Metrics
	if len(samples) == 0 {
		return m
	}
	var lat []time.Duration
	for _, s := range samples {
		if s.OK {
			lat = append(lat, time.Duration(s.LatencyNS))
		}
	}
	m.SuccessRate = float64(len(lat)) / float64(len(samples))
	m.ErrorRate = 1 - m.SuccessRate
	m.P50, m.P90, m.P99 = nearestRank(lat, 50), nearestRank(lat, 90), nearestRank(lat, 99)
	m.LastOK = samples[len(samples)-1].OK
	return m
}

// nearestRank returns the p-th percentile of vals by the nearest-rank
// method (contract 5).
func nearestRank(vals []time.Duration, p float64) time.Duration {
	s := slices.Clone(vals)
	slices.Sort(s)
	return probe.NearestRank(s, p)
}

// judgement is a tolerance evaluated over one phase.
type judgement struct {
	Probe   string        `json:"probe"`
	Phase   string        `json:"phase"`
	Samples int           `json:"samples"`
	Metrics drill.Metrics `json:"metrics"`
	OK      bool          `json:"ok"`
	// TooFew is set when there were fewer samples than minSamples, which
	// makes the verdict error (contract 5).
	TooFew bool   `json:"tooFew,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// judge evaluates a probe's tolerance over samples (contract 5).
func judge(p *drill.Probe, phase string, samples []bulwark.Sample) judgement {
	j := judgement{Probe: p.Name, Phase: phase, Samples: len(samples), Metrics: metricsOf(samples), OK: true}
	tol := p.Tolerance
	if tol == nil {
		tol = &drill.Tolerance{}
	}
	minSamples := tol.MinSamples
	if minSamples == 0 {
		minSamples = defaultMinSamples
	}
	switch {
	case len(samples) < minSamples:
		j.OK, j.TooFew = false, true
		j.Reason = fmt.Sprintf("%d samples, fewer than minSamples %d", len(samples), minSamples)
	case tol.MinSuccessRate != nil && j.Metrics.SuccessRate < *tol.MinSuccessRate:
		j.OK = false
		j.Reason = fmt.Sprintf("success rate %.3f below %.3f", j.Metrics.SuccessRate, *tol.MinSuccessRate)
	case tol.MinSuccessRate == nil && j.Metrics.SuccessRate < 1:
		j.OK = false
		j.Reason = fmt.Sprintf("success rate %.3f below 1 (no minSuccessRate set)", j.Metrics.SuccessRate)
	case tol.MaxP99 != 0 && j.Metrics.P99 > tol.MaxP99.Std():
		j.OK = false
		j.Reason = fmt.Sprintf("p99 %s over %s", j.Metrics.P99.Round(time.Millisecond), tol.MaxP99)
	}
	return j
}
