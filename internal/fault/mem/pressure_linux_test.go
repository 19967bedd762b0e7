package mem_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/mem"
	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// startSleep starts a process to be the target, killed by cleanup.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "120")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// memCgroup creates bulwark-test-<random> under the memory controller's
// root with the hard limit given (0: none) and moves pid into it (0: none);
// cleanup removes it, moving members out first.
func memCgroup(t *testing.T, h *fault.Host, limit int64, pid int) (*cgroup.Hierarchy, cgroup.Path) {
	t.Helper()
	if vmtest.InVM() {
		vmtest.DelegateControllers(t, "memory") // TestPressureV2InVM
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		t.Fatalf("detect cgroups: %v", err)
	}
	root, v, err := hy.Controller("memory")
	if err != nil {
		t.Skipf("no memory controller: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p, err := hy.CreateChild("memory", root, "test-"+hex.EncodeToString(b))
	if err != nil {
		t.Skipf("create a test memory cgroup under %s (%s): %v", root, v, err)
	}
	t.Cleanup(func() {
		if err := hy.Remove(p); err != nil {
			t.Errorf("remove test cgroup: %v", err)
		}
	})
	if limit > 0 {
		if err := hy.WriteFile(p, cgroup.MemoryLimitFile(v), strconv.FormatInt(limit, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if pid != 0 {
		if err := hy.Move(pid, p); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("test memory cgroup %s (%s), limit %d", p, v, limit)
	return hy, p
}

func members(t *testing.T, hy *cgroup.Hierarchy, p cgroup.Path) []int {
	t.Helper()
	pids, err := hy.Procs(p)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// pressureEffect checks that exactly one mem-fill helper runs, that it is a
// member of cg beside the target, and that cg's usage holds its bytes.
func pressureEffect(hy **cgroup.Hierarchy, cg *cgroup.Path, target **exec.Cmd, bytes int64) func(*testing.T, *fault.Host, *bulwark.Fault) {
	return func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		for _, e := range f.Evidence {
			t.Logf("evidence: %s: %s", e.Check, e.Detail)
		}
		ps := helperProcs(t, h, f.ID)
		if len(ps) != 1 {
			t.Fatalf("%d helpers, want 1", len(ps))
		}
		in := members(t, *hy, *cg)
		if !slices.Contains(in, ps[0].PID) {
			t.Errorf("helper %d is not in %s: %v", ps[0].PID, *cg, in)
		}
		if *target != nil && !slices.Contains(in, (*target).Process.Pid) {
			t.Errorf("target %d left %s: %v", (*target).Process.Pid, *cg, in)
		}
		usage, err := (*hy).MemoryUsage(*cg)
		if err != nil {
			t.Fatal(err)
		}
		if usage < bytes*98/100 {
			t.Errorf("cgroup %s usage %d, want at least %d", *cg, usage, bytes*98/100)
		}
	}
}

// TestPressureContract presses on a memory cgroup the test creates, with a
// 256 MiB limit and a sleep started here inside, by --pid and --percent and
// by --cgroup and --size; the residue checker sees the cgroup's members.
func TestPressureContract(t *testing.T) {
	var (
		hy     *cgroup.Hierarchy
		cg     cgroup.Path
		target *exec.Cmd
	)
	snap := func(o *testutil.SnapshotOptions) { o.CgroupFiles = []string{string(cg), cg.File("cgroup.procs")} }
	gone := func(t *testing.T, h *fault.Host) {
		if ps := helperProcs(t, h, ""); len(ps) > 0 {
			t.Errorf("mem-fill helpers still run: %v", ps)
		}
		if in := members(t, hy, cg); len(in) > 1 {
			t.Errorf("members of %s after recovery: %v", cg, in)
		}
	}
	faulttest.Run(t, mem.PressureID,
		faulttest.Case{
			Name:  "pid-percent-of-limit",
			Needs: []string{testutil.CapCgroup},
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				target = startSleep(t)
				hy, cg = memCgroup(t, h, 256<<20, target.Process.Pid)
				return map[string]string{"pid": strconv.Itoa(target.Process.Pid), "percent": "25"}
			},
			Snapshot: snap,
			Effect:   pressureEffect(&hy, &cg, &target, 64<<20),
			Gone:     gone,
		},
		faulttest.Case{
			Name:  "cgroup-size-ramp",
			Needs: []string{testutil.CapCgroup},
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				target = nil
				hy, cg = memCgroup(t, h, 0, 0)
				return map[string]string{"cgroup": string(cg), "size": "32MiB", "rate": "64MiB/s"}
			},
			Snapshot: snap,
			Effect:   pressureEffect(&hy, &cg, &target, 32<<20),
			Gone:     gone,
		},
	)
}

// TestPressureBadInput: every refusal names its parameter, among them the
// root memory cgroup (named as such) and the cgroup holding bulwark.
func TestPressureBadInput(t *testing.T) {
	testutil.Require(t, "root", "netns", testutil.CapCgroup)
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	target := startSleep(t)
	hy, limited := memCgroup(t, h, 64<<20, target.Process.Pid)
	_, unlimited := memCgroup(t, h, 0, 0)
	root, _, _ := hy.Controller("memory")
	inRoot := startSleep(t)
	if err := hy.Move(inRoot.Process.Pid, root); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(target.Process.Pid)
	tests := []struct {
		params      map[string]string
		param, want string
	}{
		{map[string]string{"size": "1MiB"}, "pid", "is required"},
		{map[string]string{"pid": pid, "cgroup": string(limited), "size": "1MiB"}, "cgroup", "not both"},
		{map[string]string{"pid": pid}, "size", "give --size or --percent"},
		{map[string]string{"pid": pid, "size": "1MiB", "percent": "5"}, "percent", "not both"},
		{map[string]string{"pid": pid, "size": "65MiB"}, "size", "more than the memory limit of 64.0 MiB"},
		{map[string]string{"cgroup": string(unlimited), "percent": "10"}, "percent", "has no memory limit"},
		{map[string]string{"cgroup": "/tmp", "size": "1MiB"}, "cgroup", "not in the memory hierarchy"},
		{map[string]string{"cgroup": string(root), "size": "1MiB"}, "cgroup", "the root memory cgroup"},
		{map[string]string{"pid": strconv.Itoa(inRoot.Process.Pid), "size": "1MiB"}, "pid", "the root memory cgroup"},
		{map[string]string{"pid": "1", "size": "1MiB"}, "pid", "never a target"},
		{map[string]string{"pid": pid, "size": "1TiB"}, "size", "more than the memory limit"},
		{map[string]string{"cgroup": string(unlimited), "size": "100TiB"}, "size", "below the reserve"},
	}
	if own, err := hy.ProcessCgroup(os.Getpid(), "memory"); err == nil && !hy.IsRoot(own) {
		tests = append(tests, struct {
			params      map[string]string
			param, want string
		}{map[string]string{"cgroup": string(own), "size": "1MiB"}, "cgroup", "holds bulwark itself"})
	}
	k, _ := fault.Lookup(mem.PressureID)
	for _, tt := range tests {
		_, err := prepareKind(h, k, tt.params)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tt.param || !strings.Contains(pe.Message, tt.want) {
			t.Errorf("%v: error %v, want --%s: …%s…", tt.params, err, tt.param, tt.want)
		}
	}
}

func prepareKind(h *fault.Host, k fault.Kind, params map[string]string) (*fault.Receipt, error) {
	p, err := fault.Decode(k.Info(), params)
	if err != nil {
		return nil, err
	}
	return k.Prepare(context.Background(), h, fault.Request{ID: bulwark.NewID(), Params: p, Deadline: time.Now().Add(time.Minute)})
}

// TestPressureHelperKilledThenSweep SIGKILLs the helper (as the cgroup's OOM
// killer would): Status reports it, the cgroup keeps only the target, and
// the sweep after expiry ends the fault recovered.
func TestPressureHelperKilledThenSweep(t *testing.T) {
	testutil.Require(t, "root", "netns", testutil.CapCgroup)
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	target := startSleep(t)
	hy, cg := memCgroup(t, h, 128<<20, target.Process.Pid)
	m := openManager(t, h)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: mem.PressureID, Duration: bulwark.Duration(2 * time.Second),
		Params: map[string]string{"pid": strconv.Itoa(target.Process.Pid), "size": "48MiB"}})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	ps := helperProcs(t, h, f.ID)
	if len(ps) != 1 {
		t.Fatalf("%d helpers", len(ps))
	}
	if err := h.Signal(ps[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(5 * time.Second); h.Alive(ps[0]) && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	k, _ := fault.Lookup(mem.PressureID)
	r, err := m.Receipt(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err == nil {
		t.Error("status with the helper killed reports no drift")
	}
	// The killed helper stays listed until its parent reaps it.
	in := members(t, hy, cg)
	for end := time.Now().Add(5 * time.Second); len(in) > 1 && time.Now().Before(end); in = members(t, hy, cg) {
		time.Sleep(5 * time.Millisecond)
	}
	if !slices.Equal(in, []int{target.Process.Pid}) {
		t.Errorf("members of %s after the kill: %v, want only the target", cg, in)
	}
	time.Sleep(time.Until(*f.ExpiresAt) + 20*time.Millisecond)
	swept, err := m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep after expiry: %v %+v", err, swept)
	}
}
