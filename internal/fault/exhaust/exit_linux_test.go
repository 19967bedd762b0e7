//go:build linux

package exhaust_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestTargetExits ends the target while each process-scoped fault holds it:
// recovery has nothing to restore on it (pid.exhaust still removes its
// cgroup) and the fault ends recovered.
func TestTargetExits(t *testing.T) {
	testutil.Require(t, "root", testutil.CapCgroup)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{exhaust.FDID, exhaust.PIDID} {
		t.Run(id, func(t *testing.T) {
			target := startProbe(t, exe)
			var cg string
			if id == exhaust.PIDID {
				cg = string(testCgroup(t, fault.DefaultHost(t.TempDir()), target.pid()))
				t.Cleanup(target.stop)
			}
			m := manager(t)
			f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: id, Duration: bulwark.Duration(time.Minute),
				Params: map[string]string{"pid": strconv.Itoa(target.pid())}})
			if err != nil || f.State != bulwark.StateActive {
				t.Fatalf("inject: %v %+v", err, f)
			}
			target.stop()
			out, err := m.Recover(context.Background(), f.ID)
			if err != nil || out[0].State != bulwark.StateRecovered {
				t.Fatalf("recover after the target exited: %v %+v", err, out)
			}
			if cg != "" {
				ents, _ := os.ReadDir(cg)
				for _, e := range ents {
					if e.IsDir() {
						t.Errorf("child cgroup left in %s: %s", cg, e.Name())
					}
				}
			}
		})
	}
}
