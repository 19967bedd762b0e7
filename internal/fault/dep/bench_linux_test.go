//go:build linux

package dep_test

import (
	"slices"
	"testing"
	"time"
)

// TestBenchSlowAccuracy measures, through transparent mode, the latency
// dep.slow --delay 300ms adds (p50/p99 over fresh connections) and the
// pass-through cost of a 0-delay-equivalent fault (1ns delay) against
// direct. Run with BULWARK_BENCH=1; it reports figures, it asserts little.
func TestBenchSlowAccuracy(t *testing.T) {
	benchOnly(t)
	h, ok := sandbox(t)
	if !ok {
		return
	}
	serveHTTP(t, httpTarget)
	m := openManager(t, h)
	url := "http://" + httpTarget + "/"
	sample := func(n int) (p50, p99 time.Duration) {
		var ds []time.Duration
		for range n {
			_, took, err := get(url, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, took)
		}
		slices.Sort(ds)
		return ds[n/2], ds[(n*99)/100]
	}
	d50, d99 := sample(200)
	f := inject(t, m, "dep.slow", map[string]string{"target": httpTarget, "delay": "1ns"})
	z50, z99 := sample(200)
	recoverFault(t, m, f)
	f = inject(t, m, "dep.slow", map[string]string{"target": httpTarget, "delay": "300ms"})
	s50, s99 := sample(40)
	recoverFault(t, m, f)
	t.Logf("direct: p50 %s p99 %s", d50, d99)
	t.Logf("transparent, delay 1ns: p50 %s (+%s) p99 %s (+%s)", z50, z50-d50, z99, z99-d99)
	t.Logf("transparent, delay 300ms: p50 %s (added %s) p99 %s (added %s)", s50, s50-d50, s99, s99-d99)
	if s50-d50 < 300*time.Millisecond {
		t.Errorf("added p50 %s is under the requested 300ms", s50-d50)
	}
}

func benchOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark-style test")
	}
}
