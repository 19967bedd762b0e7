package mem_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestPressureFigures logs, for BENCHMARKS.md (figures, not assertions):
// mem.pressure's inject→active and recover→gone through the host manager,
// and how far the cgroup's charge rises against the request (memory.
// usage_in_bytes or memory.current before and after), for 64, 128 and
// 256 MiB in a 512 MiB cgroup the test creates, 3 runs each.
//
//	go test -v -run TestPressureFigures ./internal/fault/mem (root)
func TestPressureFigures(t *testing.T) {
	testutil.Require(t, "root", "netns", testutil.CapCgroup)
	testutil.Slow(t)
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	target := startSleep(t)
	hy, cg := memCgroup(t, h, 512<<20, target.Process.Pid)
	m := openManager(t, h)
	for _, mib := range []int64{64, 128, 256} {
		var inject, recover []time.Duration
		var errs []float64
		for range 3 {
			before, err := hy.MemoryUsage(cg)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: mem.PressureID, Duration: bulwark.Duration(time.Minute),
				Params: map[string]string{"pid": strconv.Itoa(target.Process.Pid), "size": fmt.Sprintf("%dMiB", mib)}})
			if err != nil || f.State != bulwark.StateActive {
				t.Fatalf("inject: %v %+v", err, f)
			}
			t1 := time.Now()
			after, err := hy.MemoryUsage(cg)
			if err != nil {
				t.Fatal(err)
			}
			t2 := time.Now()
			if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
				t.Fatalf("recover: %v %+v", err, out)
			}
			inject, recover = append(inject, t1.Sub(t0)), append(recover, time.Since(t2))
			errs = append(errs, float64(after-before-mib<<20)/float64(mib<<20)*100)
		}
		t.Logf("%d MiB: cgroup charge vs request %+.2f %% (median; runs %.2f), inject→active median %s, recover→gone median %s",
			mib, medianF(errs), errs, medianD(inject), medianD(recover))
	}
}

func medianD(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(100 * time.Microsecond)
}

func medianF(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}
