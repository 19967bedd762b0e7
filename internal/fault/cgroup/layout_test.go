package cgroup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// fakeHost builds a fake proc and cgroup root; mountinfo may use ROOT for
// the cgroup root's path.
func fakeHost(t *testing.T, mountinfo, pidCgroup string, dirs map[string]string) *fault.Host {
	t.Helper()
	base := t.TempDir()
	proc, root := filepath.Join(base, "proc"), filepath.Join(base, "cg")
	for name, content := range dirs {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(s, "ROOT", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if mountinfo != "" {
		write(filepath.Join(proc, "self", "mountinfo"), mountinfo)
	}
	write(filepath.Join(proc, "42", "cgroup"), pidCgroup)
	return &fault.Host{ProcRoot: proc, CgroupRoot: root}
}

func TestDetectUnified(t *testing.T) {
	h := fakeHost(t, "22 1 0:21 / /proc rw - proc proc rw\n30 22 0:27 / ROOT rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
		"0::/system.slice/app.service\n",
		map[string]string{
			"cgroup.controllers":                    "cpuset cpu io memory pids\n",
			"cgroup.procs":                          "",
			"system.slice/app.service/cgroup.procs": "42\n",
		})
	hy, err := Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	if hy.Mode != Unified {
		t.Fatalf("mode %s, want unified", hy.Mode)
	}
	for _, c := range []string{"memory", "io", "blkio", "pids", "cpu"} {
		p, v, err := hy.Controller(c)
		if err != nil || v != V2 || string(p) != h.CgroupRoot {
			t.Errorf("Controller(%s) = %s %s %v", c, p, v, err)
		}
		if err := hy.Available(c); err != nil {
			t.Errorf("Available(%s): %v", c, err)
		}
	}
	if err := hy.Available("hugetlb"); err == nil || !strings.Contains(err.Error(), "no hugetlb controller") {
		t.Errorf("Available(hugetlb) = %v", err)
	}
	p, err := hy.ProcessCgroup(42, "memory")
	if err != nil || string(p) != filepath.Join(h.CgroupRoot, "system.slice/app.service") {
		t.Fatalf("ProcessCgroup = %s %v", p, err)
	}
	if hy.IsRoot(p) || !hy.IsRoot(Path(h.CgroupRoot)) {
		t.Error("IsRoot wrong")
	}
	// The parent does not delegate memory: CreateChild refuses, creates nothing.
	if err := os.WriteFile(p.File("cgroup.subtree_control"), []byte("cpu\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hy.CreateChild("memory", p, "x"); err == nil || !strings.Contains(err.Error(), "does not delegate memory") {
		t.Fatalf("CreateChild without delegation = %v", err)
	}
	if _, err := os.Stat(p.File("bulwark-x")); !os.IsNotExist(err) {
		t.Fatalf("child created anyway: %v", err)
	}
	if err := os.WriteFile(p.File("cgroup.subtree_control"), []byte("cpu memory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := hy.CreateChild("memory", p, "x")
	if err != nil || filepath.Base(string(c)) != "bulwark-x" {
		t.Fatalf("CreateChild = %s %v", c, err)
	}
}

func TestDetectLegacyAndHybrid(t *testing.T) {
	mi := `30 22 0:27 / ROOT rw - tmpfs tmpfs rw,mode=755
31 30 0:28 / ROOT/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / ROOT/memory rw - cgroup cgroup rw,memory
37 30 0:34 / ROOT/blkio ro - cgroup cgroup rw,blkio
38 30 0:35 / ROOT/pids rw - cgroup cgroup rw,pids
39 30 0:36 / ROOT/systemd rw - cgroup cgroup rw,name=systemd
`
	pc := "9:name=systemd:/\n8:pids:/a\n7:blkio:/\n4:memory:/a/b\n1:cpu,cpuacct:/c\n0::/\n"
	files := map[string]string{
		"memory/cgroup.procs": "", "memory/tasks": "", "memory/a/b/cgroup.procs": "42\n",
		"blkio/cgroup.procs": "", "blkio/tasks": "",
		"pids/cgroup.procs": "", "pids/tasks": "",
		"cpu,cpuacct/cgroup.procs": "", "cpu,cpuacct/tasks": "",
	}
	for _, hybrid := range []bool{false, true} {
		m := mi
		want := Legacy
		if hybrid {
			m += "40 30 0:37 / ROOT/unified rw - cgroup2 cgroup2 rw\n"
			files["unified/cgroup.controllers"] = "hugetlb\n"
			want = Hybrid
		}
		h := fakeHost(t, m, pc, files)
		hy, err := Detect(h)
		if err != nil {
			t.Fatal(err)
		}
		if hy.Mode != want {
			t.Fatalf("mode %s, want %s", hy.Mode, want)
		}
		for c, dir := range map[string]string{"memory": "memory", "io": "blkio", "blkio": "blkio", "pids": "pids", "cpu": "cpu,cpuacct"} {
			p, v, err := hy.Controller(c)
			if err != nil || v != V1 || string(p) != filepath.Join(h.CgroupRoot, dir) {
				t.Errorf("Controller(%s) = %s %s %v", c, p, v, err)
			}
		}
		if err := hy.Available("io"); err == nil || !strings.Contains(err.Error(), "read-only") {
			t.Errorf("Available(io) on a ro mount = %v", err)
		}
		if err := hy.Available("memory"); err != nil {
			t.Errorf("Available(memory) = %v", err)
		}
		p, err := hy.ProcessCgroup(42, "memory")
		if err != nil || string(p) != filepath.Join(h.CgroupRoot, "memory/a/b") {
			t.Errorf("ProcessCgroup(memory) = %s %v", p, err)
		}
		if p, err := hy.ProcessCgroup(42, "cpu"); err != nil || string(p) != filepath.Join(h.CgroupRoot, "cpu,cpuacct/c") {
			t.Errorf("ProcessCgroup(cpu) = %s %v", p, err)
		}
		if _, err := hy.ProcessCgroup(42, "freezer"); err == nil {
			t.Error("ProcessCgroup(freezer) found a controller that is not mounted")
		}
		if hybrid {
			if _, v, err := hy.Controller("hugetlb"); err != nil || v != V2 {
				t.Errorf("Controller(hugetlb) in hybrid = %s %v", v, err)
			}
		}
	}
}

func TestProbeWithoutMountinfo(t *testing.T) {
	h := fakeHost(t, "", "0::/\n", map[string]string{"cgroup.controllers": "memory pids\n", "cgroup.procs": ""})
	hy, err := Detect(h)
	if err != nil || hy.Mode != Unified {
		t.Fatalf("Detect = %+v %v", hy, err)
	}
	h = fakeHost(t, "", "4:memory:/\n", map[string]string{"memory/tasks": "", "memory/cgroup.procs": "", "unified/cgroup.controllers": ""})
	hy, err = Detect(h)
	if err != nil || hy.Mode != Hybrid {
		t.Fatalf("Detect hybrid = %+v %v", hy, err)
	}
	if _, v, err := hy.Controller("memory"); err != nil || v != V1 {
		t.Fatalf("Controller(memory) = %s %v", v, err)
	}
	if _, err := Detect(&fault.Host{ProcRoot: t.TempDir(), CgroupRoot: t.TempDir()}); err == nil {
		t.Fatal("Detect found cgroups in an empty directory")
	}
}

func TestRefusesPathsOutsideMounts(t *testing.T) {
	h := fakeHost(t, "", "0::/\n", map[string]string{"cgroup.controllers": "memory\n", "cgroup.procs": ""})
	hy, err := Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	other := Path(t.TempDir())
	if err := hy.WriteFile(other, "x", "1"); err == nil {
		t.Error("WriteFile outside the mounts succeeded")
	}
	if err := hy.Remove(Path(filepath.Join(h.CgroupRoot, "notours"))); err == nil {
		t.Error("Remove of a cgroup without the bulwark- prefix succeeded")
	}
	if err := hy.Remove(Path(h.CgroupRoot)); err == nil {
		t.Error("Remove of the root succeeded")
	}
	if _, err := hy.CreateChild("memory", Path(h.CgroupRoot), "../x"); err == nil {
		t.Error("CreateChild accepted a path name")
	}
}

// TestCgroupNamespace reads paths as a process in a cgroup namespace sees
// them: the mount's root and the cgroup both climb out of the namespace.
func TestCgroupNamespace(t *testing.T) {
	mi := "34 30 0:31 /../.. ROOT/memory rw - cgroup cgroup rw,memory\n"
	h := fakeHost(t, mi, "4:memory:/../../bulwark-test-x\n", map[string]string{"memory/cgroup.procs": "", "memory/tasks": ""})
	hy, err := Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := hy.ProcessCgroup(42, "memory"); err != nil || string(p) != filepath.Join(h.CgroupRoot, "memory/bulwark-test-x") {
		t.Fatalf("ProcessCgroup = %s %v", p, err)
	}
	h = fakeHost(t, "34 30 0:31 / ROOT/memory rw - cgroup cgroup rw,memory\n", "4:memory:/../x\n", map[string]string{"memory/cgroup.procs": ""})
	hy, err = Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := hy.ProcessCgroup(42, "memory"); err == nil {
		t.Fatalf("ProcessCgroup outside the mount = %s", p)
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/a\040b\011c`); got != "/a b\tc" {
		t.Fatalf("unescape = %q", got)
	}
}

func TestIOLimitFake(t *testing.T) {
	h := fakeHost(t, "", "0::/\n", map[string]string{"cgroup.controllers": "io\n", "cgroup.procs": "", "io.max": ""})
	hy, err := Detect(h)
	if err != nil {
		t.Fatal(err)
	}
	p := Path(h.CgroupRoot)
	if err := hy.SetIOLimit(p, V2, IOLimit{Major: 8, Minor: 0, RBps: 1 << 20, WIOPS: 100}); err != nil {
		t.Fatal(err)
	}
	s, _ := hy.ReadFile(p, "io.max")
	if s != "8:0 rbps=1048576 wbps=max riops=max wiops=100" {
		t.Fatalf("io.max = %q", s)
	}
	l, err := hy.ReadIOLimit(p, V2, 8, 0)
	if err != nil || l.RBps != 1<<20 || l.WIOPS != 100 || l.WBps != 0 {
		t.Fatalf("ReadIOLimit = %+v %v", l, err)
	}
}
