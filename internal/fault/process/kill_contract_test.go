//go:build linux

package process_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestKillContract runs the contract suite on process.kill with a signal the
// target survives (it ignores SIGTERM), so that the one target Setup starts
// serves all three injects of the suite. The SIGKILL path, where every
// inject needs a fresh victim, is TestKillContractSIGKILL.
func TestKillContract(t *testing.T) {
	var pid int
	faulttest.Run(t, "process.kill", faulttest.Case{
		Name: "term-ignored",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			pid = startHelper(t, "bwktermproof", termProofHelper).Process.Pid
			waitFor(t, func() bool { return sigIgn(t, pid) != "" })
			return map[string]string{"pid": strconv.Itoa(pid), "signal": "TERM", "wait": "50ms"}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if !hasEvidence(f, "process-survived") || gone(pid) {
				t.Fatalf("want the target alive with survival evidence: %+v", f.Evidence)
			}
		},
	})
}

// TestKillContractSIGKILL is the contract suite's checks written by hand for
// SIGKILL, because faulttest.Run injects three times with the parameters of
// one Setup and a killed target cannot be injected again. Each phase starts
// a fresh victim, named bwkvictim, which the residue snapshot ignores; every
// other process, file and rule must be as before.
func TestKillContractSIGKILL(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	exe := sleepAs(t, "bwkvictim")
	opts := testutil.SnapshotOptions{ProcRoot: h.ProcRoot, FileRoots: h.FileRoots, HostsFile: h.HostsFile,
		IgnoreProcess: func(p testutil.Proc) bool { return p.Comm == "bwkvictim" }}
	victim := func(t *testing.T) (int, bulwark.FaultSpec) {
		pid := startProc(t, exe, "60").Process.Pid
		return pid, killSpec(map[string]string{"name": "bwkvictim"}, 30*time.Second)
	}
	ctx := context.Background()

	t.Run("inject-recover-twice", func(t *testing.T) {
		before := testutil.Snapshot(t, opts)
		m := openManager(t, h)
		pid, spec := victim(t)
		f := mustInjectSpec(t, m, spec)
		if !gone(pid) || !hasEvidence(f, "process-exited") {
			t.Fatalf("victim not killed: %+v", f.Evidence)
		}
		for range 2 {
			mustRecover(t, m, f.ID)
		}
		testutil.AssertUnchanged(t, before)
	})
	t.Run("expiry-through-sweep", func(t *testing.T) {
		before := testutil.Snapshot(t, opts)
		m := openManager(t, h)
		_, spec := victim(t)
		spec.Duration = bulwark.Duration(300 * time.Millisecond)
		f := mustInjectSpec(t, m, spec)
		time.Sleep(time.Until(*f.ExpiresAt) + 20*time.Millisecond)
		swept, err := m.Sweep(ctx)
		if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "expired" {
			t.Fatalf("sweep after expiry: %v %+v", err, swept)
		}
		testutil.AssertUnchanged(t, before)
	})
	t.Run("recover-from-receipt-in-new-manager", func(t *testing.T) {
		before := testutil.Snapshot(t, opts)
		m := openManager(t, h)
		_, spec := victim(t)
		f := mustInjectSpec(t, m, spec)
		m.Close()
		m2 := openManager(t, h)
		if out, err := m2.Recover(ctx, f.ID); err != nil || out[0].State != bulwark.StateRecovered {
			t.Fatalf("recover in a new manager: %v %+v", err, out)
		}
		testutil.AssertUnchanged(t, before)
	})
}

func mustInjectSpec(t *testing.T, m interface {
	Inject(context.Context, bulwark.FaultSpec) (*bulwark.Fault, error)
}, spec bulwark.FaultSpec) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), spec)
	if err != nil {
		t.Fatalf("inject %v: %v", spec.Params, err)
	}
	if f.State != bulwark.StateActive || len(f.Evidence) == 0 {
		t.Fatalf("not active with evidence: %+v", f)
	}
	for _, e := range f.Evidence {
		if !e.OK {
			t.Fatalf("failing evidence %+v", e)
		}
	}
	return f
}
