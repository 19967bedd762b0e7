package policy_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDecide measures one production-class decision against the
// A-share calendar with the built-in policy (no change gate, no store).
func BenchmarkDecide(b *testing.B) {
	g := gate(b)
	req := prodReq(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		g.Decide(ctx, req)
	}
}

// BenchmarkEvaluateDay measures evaluating a whole trading day.
func BenchmarkEvaluateDay(b *testing.B) {
	c := aShare(b)
	start := time.Date(2026, 3, 3, 0, 0, 0, 0, sh)
	b.ReportAllocs()
	for b.Loop() {
		c.Evaluate(start, start.Add(24*time.Hour))
	}
}
