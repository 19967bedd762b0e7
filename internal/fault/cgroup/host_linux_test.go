//go:build linux

package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func randName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// TestHost detects this host's cgroups and, for memory and pids, creates
// bulwark-test-<random> under the hierarchy root, a child inside it, moves a
// sleep started here into the child, removes the child (the sleep moves to
// the test's own cgroup), ends the sleep and removes the test cgroup.
func TestHost(t *testing.T) {
	testutil.Require(t, testutil.CapRoot, testutil.CapCgroup)
	h := &fault.Host{ProcRoot: "/proc", CgroupRoot: "/sys/fs/cgroup"}
	hy, err := Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mode %s, v1 %d controllers, v2 %+v", hy.Mode, len(hy.V1), hy.V2)
	for _, c := range []string{"memory", "pids", "io"} {
		if err := hy.Available(c); err != nil {
			t.Logf("%s unavailable: %v", c, err)
			continue
		}
		t.Run(c, func(t *testing.T) { exercise(t, hy, c) })
	}
}

func exercise(t *testing.T, hy *Hierarchy, controller string) { exerciseOn(t, hy, controller, "") }

// exerciseOn is exercise with the io limit set on device dev (MAJ:MIN), or
// on the first disk found when dev is empty.
func exerciseOn(t *testing.T, hy *Hierarchy, controller, dev string) {
	root, v, err := hy.Controller(controller)
	if err != nil {
		t.Fatal(err)
	}
	if v == V2 {
		sub, _ := hy.ReadFile(root, "cgroup.subtree_control")
		_, n2 := names(controller)
		if !slices.Contains(strings.Fields(sub), n2) {
			t.Skipf("cgroup2 root does not delegate %s", n2)
		}
	}
	outer, err := hy.CreateChild(controller, root, randName())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := hy.Remove(outer); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if again, err := hy.CreateChild(controller, root, strings.TrimPrefix(filepath.Base(string(outer)), ChildPrefix)); err != nil || again != outer {
		t.Fatalf("CreateChild again = %s %v", again, err)
	}
	if v == V2 {
		// outer holds no process yet, so it may delegate (no internal
		// processes); undone before Remove(inner) moves the sleep into it.
		if changed, err := hy.EnableController(outer, controller); err != nil || !changed {
			t.Fatalf("EnableController(%s) = %v %v", outer, changed, err)
		}
	}
	inner, err := hy.CreateChild(controller, outer, "inner")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := hy.Move(pid, inner); err != nil {
		t.Fatal(err)
	}
	if got, err := hy.ProcessCgroup(pid, controller); err != nil || got != inner {
		t.Fatalf("ProcessCgroup after Move = %s %v, want %s", got, err, inner)
	}
	if procs, _ := hy.Procs(inner); !slices.Contains(procs, pid) {
		t.Fatalf("%s/cgroup.procs = %v, want %d", inner, procs, pid)
	}
	if controller == "memory" {
		if _, err := hy.ReadFile(inner, MemoryLimitFile(v)); err != nil {
			t.Fatal(err)
		}
	}
	if controller == "pids" {
		if err := hy.WriteFile(inner, PidsMaxFile, "10"); err != nil {
			t.Fatal(err)
		}
		if s, _ := hy.ReadFile(inner, PidsMaxFile); strings.TrimSpace(s) != "10" {
			t.Fatalf("pids.max = %q", s)
		}
	}
	if controller == "io" {
		ioLimit(t, hy, inner, v, dev)
	}
	if v == V2 {
		err := hy.Remove(inner)
		if err == nil || !strings.Contains(err.Error(), "move pid") {
			t.Fatalf("Remove(inner) while %s delegates %s, which keeps it from holding processes: %v, want the move's error", outer, controller, err)
		}
		t.Logf("Remove while the parent delegates: %v", err)
		if err := hy.DisableController(outer, controller); err != nil {
			t.Fatal(err)
		}
	}
	if err := hy.Remove(inner); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(string(inner)); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", inner, err)
	}
	if got, _ := hy.ProcessCgroup(pid, controller); got != outer {
		t.Fatalf("member moved to %s, want the parent %s", got, outer)
	}
	if err := hy.Remove(inner); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		procs, _ := hy.Procs(outer)
		if len(procs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := hy.Remove(outer); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(string(outer)); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", outer, err)
	}
}

// ioLimit sets and reads back a cap on dev (MAJ:MIN), or when it is empty
// on the first virtio/scsi disk.
func ioLimit(t *testing.T, hy *Hierarchy, p Path, v Version, dev string) {
	var major, minor uint32
	if dev != "" {
		if _, err := fmt.Sscanf(dev, "%d:%d", &major, &minor); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"vda", "sda", "nvme0n1", "xvda"} {
		if major != 0 {
			break
		}
		b, err := os.ReadFile(filepath.Join("/sys/block", d, "dev"))
		if err == nil {
			if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor); err == nil {
				break
			}
		}
	}
	if major == 0 {
		t.Log("no disk found for the io limit check")
		return
	}
	want := IOLimit{Major: major, Minor: minor, RBps: 1 << 20, WBps: 2 << 20, WIOPS: 50}
	if err := hy.SetIOLimit(p, v, want); err != nil {
		t.Fatal(err)
	}
	got, err := hy.ReadIOLimit(p, v, major, minor)
	if err != nil || got != want {
		t.Fatalf("ReadIOLimit = %+v %v, want %+v", got, err, want)
	}
	if err := hy.SetIOLimit(p, v, IOLimit{Major: major, Minor: minor}); err != nil {
		t.Fatal(err)
	}
	if got, _ := hy.ReadIOLimit(p, v, major, minor); got != (IOLimit{Major: major, Minor: minor}) {
		t.Fatalf("after clearing = %+v", got)
	}
	if v == V2 {
		// Every key back at "max" drops the device's line from io.max.
		if s, _ := hy.ReadFile(p, "io.max"); strings.Contains(s, fmt.Sprintf("%d:%d ", major, minor)) {
			t.Fatalf("io.max after clearing: %q", s)
		}
	}
}
