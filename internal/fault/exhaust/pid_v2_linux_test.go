//go:build linux

package exhaust_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// TestPIDV2InVM runs the pid.exhaust tests that use a real pids cgroup
// inside a VM whose only hierarchy is cgroup2, which this hybrid host (pids
// bound to v1) cannot show: TestPIDContract (pids.max of the target's own
// cgroup) and the TestPIDV2* tests.
func TestPIDV2InVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	// The network modules for the residue checker, which lists nftables,
	// links and qdiscs.
	vmtest.Run(t, vmtest.Options{Run: "^(TestPIDContract|TestPIDV2[A-Z].*)$", Modules: vmtest.NetworkModules, Timeout: 2 * time.Minute})
}

// requireV2VM skips t outside the VM and delegates pids from the VM's root.
func requireV2VM(t *testing.T) {
	t.Helper()
	if !vmtest.InVM() {
		t.Skip("runs inside the VM, on a unified cgroup hierarchy (TestPIDV2InVM)")
	}
	vmtest.DelegateControllers(t, "pids")
}

// TestPIDV2RootChild: a target in the v2 root cgroup, which may delegate
// pids while holding processes, is confined in a child of the root.
func TestPIDV2RootChild(t *testing.T) {
	requireV2VM(t)
	var target *probe
	root := cgroup.Path(vmtest.CgroupRoot)
	faulttest.Run(t, exhaust.PIDID, faulttest.Case{
		Name:  "root-child",
		Needs: []string{testutil.CapCgroupV2},
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			target = startProbe(t, h.Exe)
			return map[string]string{"pid": strconv.Itoa(target.pid())}
		},
		Snapshot: func(o *testutil.SnapshotOptions) { o.CgroupFiles = append(o.CgroupFiles, string(root)) },
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			hy, _ := cgroup.Detect(h)
			if at, _ := hy.ProcessCgroup(target.pid(), "pids"); !strings.HasPrefix(string(at), string(root)+"/"+cgroup.ChildPrefix+"pid-exhaust-") {
				t.Errorf("target in %s, want a pid.exhaust child of the root", at)
			}
			if got := target.try(t, "fork"); got != "EAGAIN" {
				t.Errorf("target's fork under pid.exhaust: %s, want EAGAIN", got)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if got := target.try(t, "fork"); got != "ok" {
				t.Errorf("target's fork after recover: %s, want ok", got)
			}
		},
	})
}

// TestPIDV2Conflict: a pids.max someone else writes while the fault holds
// the target's cgroup is left alone by recover, which says so, until the
// original is back; and the cgroup holding bulwark itself is refused.
func TestPIDV2Conflict(t *testing.T) {
	requireV2VM(t)
	h := fault.DefaultHost(t.TempDir())
	h.Exe, _ = os.Executable()
	target := startProbe(t, h.Exe)
	cg := testCgroup(t, h, target.pid())
	t.Cleanup(target.stop)
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: exhaust.PIDID, Params: map[string]string{"pid": strconv.Itoa(target.pid())}, Duration: bulwark.Duration(time.Minute)})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	if err := os.WriteFile(cg.File(cgroup.PidsMaxFile), []byte("77"), 0); err != nil {
		t.Fatal(err)
	}
	out, err := m.Recover(context.Background(), f.ID)
	if err == nil && len(out) == 1 && out[0].State == bulwark.StateRecovered {
		t.Fatalf("recover over someone else's pids.max: %+v", out)
	}
	t.Logf("recover: %v", err)
	if b, _ := os.ReadFile(cg.File(cgroup.PidsMaxFile)); strings.TrimSpace(string(b)) != "77" {
		t.Fatalf("pids.max after the refused recover: %q", b)
	}
	if err := os.WriteFile(cg.File(cgroup.PidsMaxFile), []byte("max"), 0); err != nil {
		t.Fatal(err)
	}
	if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover with the original back: %v %+v", err, out)
	}
	// bulwark (this test) in the cgroup too: refused.
	hy, _ := cgroup.Detect(h)
	if err := hy.Move(os.Getpid(), cg); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hy.Move(os.Getpid(), cgroup.Path(vmtest.CgroupRoot)) }()
	assertParamError(t, h, exhaust.PIDID, map[string]string{"pid": strconv.Itoa(target.pid())}, "pid")
}
