//go:build linux

package exhaust_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// testCgroup creates bulwark-test-<random> in the test's own pids cgroup,
// moves pid into it, and removes it (after ending pid) when the test ends:
// the kind then creates its child under a cgroup the test owns (cgroup v1),
// or sets the pids.max of that cgroup (v2: it holds the target, so it can
// have no child with pids). In the VM it delegates pids from the root first.
func testCgroup(t *testing.T, h *fault.Host, pid int) cgroup.Path {
	t.Helper()
	if vmtest.InVM() {
		vmtest.DelegateControllers(t, "pids") // TestPIDV2InVM
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		t.Skipf("no cgroups: %v", err)
	}
	if err := hy.Available("pids"); err != nil {
		t.Skipf("no pids controller: %v", err)
	}
	own, err := hy.ProcessCgroup(os.Getpid(), "pids")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cg, err := hy.CreateChild("pids", own, "test-"+hex.EncodeToString(b))
	if err != nil {
		t.Skipf("cannot create a pids cgroup here: %v", err)
	}
	t.Cleanup(func() {
		if err := hy.Remove(cg); err != nil {
			t.Errorf("remove test cgroup: %v", err)
		}
	})
	if err := hy.Move(pid, cg); err != nil {
		t.Fatal(err)
	}
	return cg
}

func TestPIDContract(t *testing.T) {
	var target *probe
	var cg cgroup.Path
	faulttest.Run(t, exhaust.PIDID, faulttest.Case{
		Name:  "probe",
		Needs: []string{testutil.CapCgroup},
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			target = startProbe(t, h.Exe)
			cg = testCgroup(t, h, target.pid())
			t.Cleanup(target.stop) // before the cgroup is removed
			if got := target.try(t, "fork"); got != "ok" {
				t.Fatalf("target's fork before the fault: %s", got)
			}
			return map[string]string{"pid": strconv.Itoa(target.pid())}
		},
		Snapshot: func(o *testutil.SnapshotOptions) {
			o.CgroupFiles = append(o.CgroupFiles, string(cg), cg.File(cgroup.PidsMaxFile))
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if got := target.try(t, "fork"); got != "EAGAIN" {
				t.Errorf("target's fork under pid.exhaust: %s, want EAGAIN", got)
			}
			if err := exec.Command("/bin/true").Run(); err != nil {
				t.Errorf("the test's own fork: %v", err)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if got := target.try(t, "fork"); got != "ok" {
				t.Errorf("target's fork after recover: %s, want ok", got)
			}
			hy, _ := cgroup.Detect(h)
			if at, err := hy.ProcessCgroup(target.pid(), "pids"); err != nil || at != cg {
				t.Errorf("target in %s (%v) after recover, want %s", at, err, cg)
			}
		},
	})
}

func TestPIDBadInput(t *testing.T) {
	testutil.Require(t, "root")
	sleep := startSleep(t)
	h := fault.DefaultHost(t.TempDir())
	h.DenyProcesses = append([]string{"sleep"}, h.DenyProcesses...)
	for _, tc := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"no pid", map[string]string{}, "pid"},
		{"pid 1", map[string]string{"pid": "1"}, "pid"},
		{"self", map[string]string{"pid": strconv.Itoa(os.Getpid())}, "pid"},
		{"deny-listed name", map[string]string{"pid": strconv.Itoa(sleep)}, "pid"},
		{"negative headroom", map[string]string{"pid": "2", "headroom": "-1"}, "headroom"},
		{"host-wide and a pid", map[string]string{"host-wide": "true", "pid": "2"}, "host-wide"},
		{"host-wide and headroom", map[string]string{"host-wide": "true", "headroom": "3"}, "host-wide"},
		{"reserve without host-wide", map[string]string{"pid": "2", "reserve": "100"}, "reserve"},
		{"host-wide reserve below the minimum", map[string]string{"host-wide": "true", "reserve": "63"}, "reserve"},
		{"unknown parameter", map[string]string{"pid": "2", "hard": "true"}, "hard"},
	} {
		t.Run(tc.name, func(t *testing.T) { assertParamError(t, h, exhaust.PIDID, tc.params, tc.param) })
	}
}
