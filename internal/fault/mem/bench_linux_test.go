package mem_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// BenchmarkFillAccuracy fills 64, 128 and 256 MiB and reports how far the
// helper's resident memory is from the request: the filled mapping's Rss
// (from the helper's status, mincore) and the whole helper's RssAnon
// (region plus the Go runtime), in percent, and the time to reach the level.
//
//	go test -run '^$' -bench FillAccuracy -benchtime 3x ./internal/fault/mem
func BenchmarkFillAccuracy(b *testing.B) {
	testutil.Require(b, testutil.CapRoot)
	for _, mib := range []int64{64, 128, 256} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			h := fault.DefaultHost(b.TempDir())
			h.Exe = "/proc/self/exe"
			k, _ := fault.Lookup(mem.FillID)
			want := mib << 20
			var region, whole, took float64
			for range b.N {
				p, err := fault.Decode(k.Info(), map[string]string{"size": fmt.Sprintf("%dMiB", mib)})
				if err != nil {
					b.Fatal(err)
				}
				id := bulwark.NewID()
				r, err := k.Prepare(context.Background(), h, fault.Request{ID: id, Params: p, Deadline: time.Now().Add(time.Minute)})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if err := k.Apply(context.Background(), h, r); err != nil {
					b.Fatal(err)
				}
				if _, err := k.Verify(context.Background(), h, r); err != nil {
					b.Fatal(err)
				}
				took += time.Since(t0).Seconds() * 1000
				s, err := mem.ReadStatus(filepath.Join(h.StateDir, "data", id, "status.json"))
				for err == nil && s.Resident < want*98/100 {
					time.Sleep(100 * time.Millisecond)
					s, err = mem.ReadStatus(filepath.Join(h.StateDir, "data", id, "status.json"))
				}
				if err != nil {
					b.Fatal(err)
				}
				var d struct{ Helper *fault.Proc }
				_ = r.Decode(&d)
				anon := int64(0)
				if d.Helper != nil {
					anon = kbB(b, h, d.Helper.PID, "RssAnon")
				}
				region += float64(s.Resident-want) / float64(want) * 100
				whole += float64(anon-want) / float64(want) * 100
				if err := k.Recover(context.Background(), h, r); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(region/n, "region-err-%")
			b.ReportMetric(whole/n, "helper-rssanon-err-%")
			b.ReportMetric(took/n, "ms-to-level")
		})
	}
}
