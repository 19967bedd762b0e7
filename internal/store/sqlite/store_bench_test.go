package sqlite_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// benchRun opens a file-backed store with one running run.
func benchRun(b *testing.B) (*sqlite.RunStore, string) {
	b.Helper()
	s := sqlite.NewRunStore(MustOpenDB(b))
	r := &bulwark.Run{ID: bulwark.NewID(), DrillName: "bench", State: bulwark.RunRunning}
	if err := s.CreateRun(context.Background(), r); err != nil {
		b.Fatal(err)
	}
	return s, r.ID
}

// BenchmarkAppendEvent measures one committed event per op: what the engine
// pays before each transition.
func BenchmarkAppendEvent(b *testing.B) {
	ctx := context.Background()
	s, runID := benchRun(b)
	data := json.RawMessage(`{"faultID":"0194f3c2-7b1e-7c3a-9d2e-5a6b7c8d9e0f","kind":"dep.slow","host":"app-01"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: runID, Type: bulwark.EventFaultActive, Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendEventParallel appends from GOMAXPROCS goroutines to one run.
func BenchmarkAppendEventParallel(b *testing.B) {
	ctx := context.Background()
	s, runID := benchRun(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: runID, Type: bulwark.EventProbeFailed}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendSamples measures one committed batch of 100 samples per op.
func BenchmarkAppendSamples(b *testing.B) {
	const batch = 100
	ctx := context.Background()
	s, runID := benchRun(b)
	start := time.Now()
	samples := make([]bulwark.Sample, batch)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for j := range samples {
			v := float64(j)
			samples[j] = bulwark.Sample{RunID: runID, Probe: "order-api", Time: start.Add(time.Duration(i) * time.Millisecond),
				Phase: bulwark.StepPhase(1), OK: true, LatencyNS: 1_500_000, Value: &v}
			i++
		}
		if err := s.AppendSamples(ctx, samples); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}
