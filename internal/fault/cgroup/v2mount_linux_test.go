//go:build linux

package cgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestCgroup2Mount mounts the cgroup2 hierarchy afresh at a private path in
// the sandbox's mount namespace and runs the v2 code paths against it as a
// unified host: detection, the reason a controller is unavailable (on a
// hybrid host memory, pids and io are bound to v1 and cgroup2 does not offer
// them), the refusal to create a child under a parent that does not
// delegate, and Move, Procs, ProcessCgroup and Remove of a child the test
// creates. Where the mount offers and delegates memory, pids or io (a
// unified host), the controller's limit files are written and read back.
// Nothing outside the test's own child cgroup is written.
func TestCgroup2Mount(t *testing.T) {
	testutil.Require(t, testutil.CapRoot, "netns", testutil.CapCgroupV2)
	if !testutil.Sandbox(t) {
		return
	}
	root := filepath.Join(t.TempDir(), "cg2")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("cgroup2", root, "cgroup2", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount cgroup2 at %s: %v", root, err)
	}
	t.Cleanup(func() { _ = unix.Unmount(root, unix.MNT_DETACH) })
	hy, err := Detect(&fault.Host{ProcRoot: "/proc", CgroupRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	if hy.Mode != Unified || hy.V2 == nil || hy.V2.Point != root || len(hy.V1) != 0 {
		t.Fatalf("detected %s %+v, want unified at %s", hy.Mode, hy.V2, root)
	}
	b, _ := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if !slices.Equal(hy.V2.Controllers, strings.Fields(string(b))) {
		t.Fatalf("controllers %v, kernel says %q", hy.V2.Controllers, b)
	}
	t.Logf("cgroup2 at %s offers %v", root, hy.V2.Controllers)
	sub, _ := hy.ReadFile(Path(root), "cgroup.subtree_control")
	for _, c := range []string{"memory", "pids", "io"} {
		_, n2 := names(c)
		switch {
		case !slices.Contains(hy.V2.Controllers, n2):
			err := hy.Available(c)
			if err == nil || !strings.Contains(err.Error(), "not offered by cgroup v2 ("+root+"/cgroup.controllers:") {
				t.Errorf("%s: Available = %v, want the reason naming cgroup.controllers", c, err)
			}
			if _, err := hy.CreateChild(c, Path(root), randName()); err == nil {
				t.Errorf("%s: CreateChild without the controller succeeded", c)
			}
			t.Logf("%s: %v", c, err)
		case !slices.Contains(strings.Fields(sub), n2):
			_, err := hy.CreateChild(c, Path(root), randName())
			if err == nil || !strings.Contains(err.Error(), "does not delegate "+n2) {
				t.Errorf("%s: CreateChild under a parent that does not delegate it = %v", c, err)
			}
		default:
			t.Run(c, func(t *testing.T) { exercise(t, hy, c) })
		}
	}
	v2Membership(t, hy, root)
}

// v2Membership moves a sleep into a child the test makes in the cgroup2
// mount and back, through the v2 code paths.
func v2Membership(t *testing.T, hy *Hierarchy, root string) {
	child := Path(filepath.Join(root, ChildPrefix+randName()))
	if err := os.Mkdir(string(child), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hy.Remove(child) })
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	if err := hy.Move(pid, child); err != nil {
		t.Fatal(err)
	}
	if procs, _ := hy.Procs(child); !slices.Equal(procs, []int{pid}) {
		t.Fatalf("%s/cgroup.procs = %v, want [%d]", child, procs, pid)
	}
	if len(hy.V2.Controllers) > 0 {
		if got, err := hy.ProcessCgroup(pid, hy.V2.Controllers[0]); err != nil || got != child {
			t.Fatalf("ProcessCgroup = %s %v, want %s", got, err, child)
		}
	}
	if err := hy.Remove(child); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(string(child)); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", child, err)
	}
	// Back in the parent, the mount's root (the sandbox's cgroup namespace
	// root): "0::/".
	pb, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if !slices.Contains(strings.Split(string(pb), "\n"), "0::/") {
		t.Fatalf("sleep's cgroups after Remove:\n%s\nwant 0::/", pb)
	}
}
