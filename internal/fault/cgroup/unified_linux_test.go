//go:build linux

package cgroup

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// TestCgroupV2InVM runs the unified-hierarchy tests inside a VM whose /init
// mounts only cgroup2 at /sys/fs/cgroup: the v2 code paths against real v2
// controller files, which a hybrid host (memory, pids and io bound to v1)
// never offers.
func TestCgroupV2InVM(t *testing.T) {
	testutil.Slow(t) // vmtest.Run skips inside the VM
	vmtest.Run(t, vmtest.Options{Run: "^(TestUnified[A-Z]|TestCgroup2Mount$)", Modules: vmtest.LoopModules})
}

// TestUnifiedHost detects the VM's unified hierarchy, delegates io, memory
// and pids from its root (as systemd does), and runs TestHost's checks for
// each controller through v2: child create, move, remove, pids.max and
// io.max (on a loop device the test attaches) written and read back; then
// memory.max and memory.high, and MemoryLimit's walk up the ancestors.
func TestUnifiedHost(t *testing.T) {
	if !vmtest.InVM() {
		t.Skip("runs inside the VM, on a unified cgroup hierarchy (TestCgroupV2InVM)")
	}
	vmtest.DelegateControllers(t, "io", "memory", "pids")
	hy, err := Detect(&fault.Host{ProcRoot: "/proc", CgroupRoot: vmtest.CgroupRoot})
	if err != nil {
		t.Fatal(err)
	}
	if hy.Mode != Unified || hy.V2 == nil || hy.V2.Point != vmtest.CgroupRoot || len(hy.V1) != 0 {
		t.Fatalf("detected %s %+v %v, want unified at %s", hy.Mode, hy.V2, hy.V1, vmtest.CgroupRoot)
	}
	_, major, minor := vmtest.Loop(t, 64<<20)
	dev := fmt.Sprintf("%d:%d", major, minor)
	for _, c := range []string{"memory", "pids", "io", "blkio"} {
		if p, v, err := hy.Controller(c); err != nil || p != Path(vmtest.CgroupRoot) || v != V2 {
			t.Fatalf("Controller(%s) = %s %s %v", c, p, v, err)
		}
		if err := hy.Available(c); err != nil {
			t.Fatalf("Available(%s): %v", c, err)
		}
	}
	if own, err := hy.ProcessCgroup(os.Getpid(), "memory"); err != nil || !hy.IsRoot(own) {
		t.Fatalf("own cgroup %s %v, want the root", own, err)
	}
	for _, c := range []string{"memory", "pids", "io"} {
		t.Run(c, func(t *testing.T) { exerciseOn(t, hy, c, dev) })
	}
	t.Run("memory-limits", func(t *testing.T) { unifiedMemory(t, hy) })
}

// unifiedMemory writes memory.max and memory.high in a child and a
// grandchild and reads them back through MemoryLimit, then restores "max".
func unifiedMemory(t *testing.T, hy *Hierarchy) {
	outer, err := hy.CreateChild("memory", Path(vmtest.CgroupRoot), randName())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hy.Remove(outer); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if _, err := hy.EnableController(outer, "memory"); err != nil {
		t.Fatal(err)
	}
	inner, err := hy.CreateChild("memory", outer, "inner")
	if err != nil {
		t.Fatal(err)
	}
	if n, from, err := hy.MemoryLimit(inner); err != nil || n != 0 || from != "" {
		t.Fatalf("MemoryLimit with none set = %d %s %v", n, from, err)
	}
	for _, w := range []struct {
		p    Path
		file string
		val  int64
	}{{outer, MemoryLimitFile(V2), 64 << 20}, {inner, MemoryLimitFile(V2), 96 << 20}, {inner, MemoryHighFile(V2), 32 << 20}} {
		if err := hy.WriteFile(w.p, w.file, strconv.FormatInt(w.val, 10)); err != nil {
			t.Fatal(err)
		}
		if s, _ := hy.ReadFile(w.p, w.file); strings.TrimSpace(s) != strconv.FormatInt(w.val, 10) {
			t.Fatalf("%s = %q, want %d", w.p.File(w.file), s, w.val)
		}
	}
	if n, from, err := hy.MemoryLimit(inner); err != nil || n != 64<<20 || from != outer {
		t.Fatalf("MemoryLimit(inner) = %d from %s %v, want %d from %s", n, from, err, 64<<20, outer)
	}
	if u, err := hy.MemoryUsage(inner); err != nil || u != 0 {
		t.Fatalf("MemoryUsage of an empty cgroup = %d %v", u, err)
	}
	for _, p := range []Path{outer, inner} {
		if err := hy.WriteFile(p, MemoryLimitFile(V2), "max"); err != nil {
			t.Fatal(err)
		}
	}
	if err := hy.WriteFile(inner, MemoryHighFile(V2), "max"); err != nil {
		t.Fatal(err)
	}
	if n, _, err := hy.MemoryLimit(inner); err != nil || n != 0 {
		t.Fatalf("MemoryLimit after restoring max = %d %v", n, err)
	}
	if err := hy.DisableController(outer, "memory"); err != nil {
		t.Fatal(err)
	}
	if err := hy.Remove(inner); err != nil {
		t.Fatal(err)
	}
	if sub, _ := hy.ReadFile(outer, "cgroup.subtree_control"); slices.Contains(strings.Fields(sub), "memory") {
		t.Fatalf("%s still delegates memory: %q", outer, sub)
	}
	if _, err := os.Stat(string(inner)); !os.IsNotExist(err) {
		t.Fatalf("inner still exists: %v", err)
	}
}
