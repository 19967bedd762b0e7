package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/audit"
)

// BenchmarkRecord: one Record (one SQLite transaction on a file in WAL
// mode, synchronous=NORMAL) per op, with a signed checkpoint every 100
// entries exported to an fsynced file.
func BenchmarkRecord(b *testing.B) {
	for _, alg := range []string{audit.AlgSHA256, audit.AlgSM3} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b)
			l := f.log(100, func(o *audit.Options) { o.Alg = alg })
			e := entry(1)
			b.ResetTimer()
			for b.Loop() {
				if _, err := l.Record(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkVerify: Verify over a chain of 10,000 entries with 10
// checkpoints in the database and 10 in the exported file.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{audit.AlgSHA256, audit.AlgSM3} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b)
			l := f.log(1000, func(o *audit.Options) { o.Alg = alg })
			for range 10 {
				for range 1000 {
					if _, err := l.Record(context.Background(), entry(1)); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			start := time.Now()
			for b.Loop() {
				if rep := f.verify(b); !rep.OK || rep.Entries != 10000 || rep.Checkpoints != 20 {
					b.Fatalf("report %+v", rep)
				}
			}
			b.ReportMetric(float64(10000*b.N)/time.Since(start).Seconds(), "entries/s")
		})
	}
}

// BenchmarkComputeHash: one entry hash (canonical JSON and digest).
func BenchmarkComputeHash(b *testing.B) {
	for _, alg := range []string{audit.AlgSHA256, audit.AlgSM3} {
		b.Run(alg, func(b *testing.B) {
			e := sampleEntry()
			e.Alg = alg
			for b.Loop() {
				if _, err := audit.ComputeHash(&e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
