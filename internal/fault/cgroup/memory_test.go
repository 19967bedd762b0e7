package cgroup

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryLimitFake reads the limit in force on fake v1 and v2 trees: the
// lowest of the cgroup's and its ancestors', below the root; "max" and the
// v1 "unlimited" value mean none.
func TestMemoryLimitFake(t *testing.T) {
	const v1None = "9223372036854771712\n"
	v2 := fakeHost(t, "30 22 0:27 / ROOT rw - cgroup2 cgroup2 rw\n", "0::/a/b\n", map[string]string{
		"cgroup.controllers": "memory\n", "cgroup.procs": "",
		"a/cgroup.procs": "", "a/memory.max": "1073741824\n", "a/memory.current": "10\n",
		"a/b/cgroup.procs": "42\n", "a/b/memory.max": "max\n", "a/b/memory.current": "4096\n",
		"c/cgroup.procs": "", "c/memory.max": "max\n",
	})
	v1 := fakeHost(t, "34 30 0:31 / ROOT/memory rw - cgroup cgroup rw,memory\n", "4:memory:/a/b\n", map[string]string{
		"memory/cgroup.procs": "", "memory/tasks": "", "memory/memory.limit_in_bytes": v1None,
		"memory/a/cgroup.procs": "", "memory/a/memory.limit_in_bytes": "536870912\n",
		"memory/a/b/cgroup.procs": "", "memory/a/b/memory.limit_in_bytes": "268435456\n", "memory/a/b/memory.usage_in_bytes": "8192\n",
		"memory/c/cgroup.procs": "", "memory/c/memory.limit_in_bytes": v1None,
	})
	for _, tc := range []struct {
		name  string
		root  string
		rel   string
		limit int64
		from  string
		usage int64
	}{
		{"v2 limit from the parent", v2.CgroupRoot, "a/b", 1 << 30, "a", 4096},
		{"v2 none", v2.CgroupRoot, "c", 0, "", -1},
		{"v1 own limit below the parent's", v1.CgroupRoot, "memory/a/b", 256 << 20, "memory/a/b", 8192},
		{"v1 none (the root's unlimited value is not read)", v1.CgroupRoot, "memory/c", 0, "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := v2
			if tc.root == v1.CgroupRoot {
				h = v1
			}
			hy, err := Detect(h)
			if err != nil {
				t.Fatal(err)
			}
			p := Path(filepath.Join(tc.root, tc.rel))
			limit, from, err := hy.MemoryLimit(p)
			wantFrom := Path("")
			if tc.from != "" {
				wantFrom = Path(filepath.Join(tc.root, tc.from))
			}
			if err != nil || limit != tc.limit || from != wantFrom {
				t.Fatalf("MemoryLimit = %d %s %v, want %d %s", limit, from, err, tc.limit, wantFrom)
			}
			if tc.usage >= 0 {
				if u, err := hy.MemoryUsage(p); err != nil || u != tc.usage {
					t.Fatalf("MemoryUsage = %d %v, want %d", u, err, tc.usage)
				}
			}
		})
	}
	hy, _ := Detect(v2)
	if err := hy.InHierarchy("memory", Path(filepath.Join(v1.CgroupRoot, "memory/a"))); err == nil || !strings.Contains(err.Error(), "not in the memory hierarchy") {
		t.Errorf("InHierarchy outside = %v", err)
	}
	if err := hy.InHierarchy("memory", Path(filepath.Join(v2.CgroupRoot, "nope"))); err == nil {
		t.Error("InHierarchy of a missing cgroup succeeded")
	}
	if !Within(Path(filepath.Join(v2.CgroupRoot, "a/b")), Path(filepath.Join(v2.CgroupRoot, "a"))) || Within(Path(filepath.Join(v2.CgroupRoot, "ab")), Path(filepath.Join(v2.CgroupRoot, "a"))) {
		t.Error("Within wrong")
	}
}
