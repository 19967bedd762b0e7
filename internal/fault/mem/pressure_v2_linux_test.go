package mem_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// TestPressureV2InVM runs the mem.pressure tests that use a real memory
// cgroup inside a VM whose only hierarchy is cgroup2, where they go through
// memory.max, memory.current and the v2 cgroup.procs; on this hybrid host
// memory is bound to v1. memCgroup delegates memory from the VM's root
// cgroup first, as systemd does. TestPressureHelperKilledThenSweep passes
// there too but is left out: it adds nothing v2-specific to the contract's
// membership checks, and 5 s under -race to a run of about 40 s.
func TestPressureV2InVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	// The network modules for the residue checker, which lists nftables,
	// links and qdiscs.
	vmtest.Run(t, vmtest.Options{Run: "^TestPressure(Contract|BadInput|V2InnerCgroup)$", Modules: vmtest.NetworkModules, Timeout: 2 * time.Minute})
}

// TestPressureV2InnerCgroup names a v2 cgroup that delegates memory to a
// child (a slice, say): no process may join it (no internal processes), so
// the helper never could.
func TestPressureV2InnerCgroup(t *testing.T) {
	if !vmtest.InVM() {
		t.Skip("runs inside the VM, on a unified cgroup hierarchy (TestPressureV2InVM)")
	}
	h := fault.DefaultHost(t.TempDir())
	h.Exe, _ = os.Executable()
	hy, slice := memCgroup(t, h, 128<<20, 0)
	if _, err := hy.EnableController(slice, "memory"); err != nil {
		t.Fatal(err)
	}
	leaf, err := hy.CreateChild("memory", slice, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hy.Remove(leaf); _ = hy.DisableController(slice, "memory") })
	k, _ := fault.Lookup(mem.PressureID)
	r, err := prepareKind(h, k, map[string]string{"cgroup": string(slice), "size": "8MiB"})
	t.Logf("prepare: %v", err)
	if err == nil {
		err = k.Apply(context.Background(), h, r)
		t.Logf("apply: %v", err)
		_ = k.Recover(context.Background(), h, r)
	}
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != "cgroup" || !strings.Contains(pe.Message, "delegates memory to its children") {
		t.Errorf("--cgroup of a cgroup delegating memory: %v, want a --cgroup error naming it", err)
	}
	if _, err := prepareKind(h, k, map[string]string{"cgroup": string(leaf), "size": "8MiB"}); err != nil {
		t.Errorf("--cgroup of its leaf: %v", err)
	}
}
