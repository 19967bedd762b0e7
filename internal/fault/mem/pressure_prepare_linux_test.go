package mem_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
)

// fakeV2Host is a host whose cgroups are a unified (v2) tree under a temp
// directory, with a fake proc root giving its mountinfo and 8 GiB of memory.
func fakeV2Host(t *testing.T) *fault.Host {
	t.Helper()
	base := t.TempDir()
	proc, cg := filepath.Join(base, "proc"), filepath.Join(base, "cg")
	files := map[string]string{
		filepath.Join(proc, "self", "mountinfo"):                        "30 22 0:27 / " + cg + " rw - cgroup2 cgroup2 rw\n",
		filepath.Join(proc, "meminfo"):                                  "MemTotal:        8388608 kB\nMemFree:         6291456 kB\nMemAvailable:    6291456 kB\n",
		filepath.Join(cg, "cgroup.controllers"):                         "cpu io memory pids\n",
		filepath.Join(cg, "cgroup.procs"):                               "",
		filepath.Join(cg, "app.slice", "cgroup.procs"):                  "",
		filepath.Join(cg, "app.slice", "memory.max"):                    "1073741824\n",
		filepath.Join(cg, "app.slice", "oms.service", "cgroup.procs"):   "4242\n",
		filepath.Join(cg, "app.slice", "oms.service", "memory.max"):     "max\n",
		filepath.Join(cg, "app.slice", "oms.service", "memory.current"): "104857600\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := fault.DefaultHost(t.TempDir())
	h.ProcRoot, h.CgroupRoot, h.Exe = proc, cg, "/proc/self/exe"
	return h
}

// TestPressurePrepareV2 plans mem.pressure on a cgroup v2 tree: --percent is
// of the limit an ancestor sets (memory.max "max" in the cgroup itself), the
// helper is to join the cgroup's cgroup.procs, and the v2 root is refused.
func TestPressurePrepareV2(t *testing.T) {
	h := fakeV2Host(t)
	k, _ := fault.Lookup(mem.PressureID)
	svc := filepath.Join(h.CgroupRoot, "app.slice", "oms.service")
	r, err := prepareKind(h, k, map[string]string{"cgroup": svc, "percent": "25"})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Bytes   int64  `json:"bytes"`
		Cgroup  string `json:"cgroup"`
		Procs   string `json:"procs"`
		Limit   int64  `json:"limit"`
		Version int    `json:"cgroupVersion"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Bytes != 256<<20 || d.Cgroup != svc || d.Procs != filepath.Join(svc, "cgroup.procs") || d.Limit != 1<<30 || d.Version != 2 {
		t.Fatalf("receipt %s", r.Data)
	}
	if r.Resource != "memcg:"+svc {
		t.Errorf("resource %q", r.Resource)
	}
	for _, tc := range []struct {
		params      map[string]string
		param, want string
	}{
		{map[string]string{"cgroup": h.CgroupRoot, "size": "1MiB"}, "cgroup", "the root memory cgroup"},
		{map[string]string{"cgroup": svc, "size": "2GiB"}, "size", "more than the memory limit of 1024.0 MiB (memory.max of " + filepath.Join(h.CgroupRoot, "app.slice")},
		{map[string]string{"cgroup": filepath.Join(h.CgroupRoot, "nope"), "size": "1MiB"}, "cgroup", "no such file"},
	} {
		_, err := prepareKind(h, k, tc.params)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || !strings.Contains(pe.Message, tc.want) {
			t.Errorf("%v: %v, want --%s: …%s…", tc.params, err, tc.param, tc.want)
		}
	}
}
