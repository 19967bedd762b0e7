// Package faulttest is the contract suite every fault kind passes (DESIGN
// §14), in the shape of litestream's RunWithReplicaClient: one body of tests
// run against every implementation.
//
// A kind's package calls it from a test:
//
//	func TestMain(m *testing.M) { faulttest.Main(m) }
//
//	func TestContract(t *testing.T) {
//		faulttest.Run(t, "process.hang", faulttest.Case{
//			Name:  "sleep",
//			Setup: func(t *testing.T, h *fault.Host) map[string]string { … start a target … },
//		})
//	}
//
// Run re-executes the test inside the sandbox (fresh network, mount and PID
// namespaces, tmpfs state directory, private hosts file), and for each case:
// snapshots the host; injects through the host manager and checks the fault
// is active with passing evidence; runs the case's Effect check and the kind's
// Status; recovers twice (idempotent); and checks the host is identical to its
// snapshot. It then checks that a fault recovers at expiry through the sweep,
// and from its receipt alone in a new manager, each time against the
// snapshot.
package faulttest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// Case is one way of injecting a kind.
type Case struct {
	Name string
	// Setup prepares the sandbox (starts a target process, writes a file,
	// opens a listener) and returns the fault's parameters.
	Setup func(t *testing.T, h *fault.Host) map[string]string
	// Duration of the first inject; default 30 s (recover ends it first).
	Duration time.Duration
	// Effect proves the effect is real (the process is stopped, the port is
	// cut, the CPU is busy). Optional.
	Effect func(t *testing.T, h *fault.Host, f *bulwark.Fault)
	// Gone proves the effect is undone beyond what the residue checker sees.
	// Optional.
	Gone func(t *testing.T, h *fault.Host)
	// Snapshot adjusts what the residue checker looks at. Optional.
	Snapshot func(o *testutil.SnapshotOptions)
	// Needs lists testutil.Require capabilities beyond root and netns.
	Needs []string
}

// Main is TestMain for kind packages: when the kind re-executes the test
// binary as a helper (`<exe> helper NAME ARGS…`), it runs the helper instead
// of the tests, as the bulwark binary would.
func Main(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "helper" {
		fn, err := fault.LookupHelper(os.Args[2])
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		if err := fn(context.Background(), os.Args[3:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs the contract suite for kindID with each case.
func Run(t *testing.T, kindID string, cases ...Case) {
	testutil.Require(t, "root", "netns")
	for _, c := range cases {
		testutil.Require(t, c.Needs...)
	}
	if !testutil.Sandbox(t) {
		return
	}
	if _, err := fault.Lookup(kindID); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { runCase(t, kindID, c) })
	}
}

// SandboxHost returns a fault.Host confined to the sandbox: its state
// directory, file root, hosts file and proc root, with the test binary
// (through /proc/self/exe) as the helper executable.
func SandboxHost(t *testing.T) *fault.Host {
	p := testutil.SandboxPaths(t)
	h := fault.DefaultHost(p.StateDir)
	h.FileRoots = []string{p.FileRoot}
	h.HostsFile = p.HostsFile
	h.ProcRoot = p.ProcRoot
	h.CgroupRoot = p.CgroupRoot
	// The test binary lives under /tmp/go-build…, which the sandbox's tmpfs
	// hides; /proc/self/exe still leads to it when a kind starts a helper.
	h.Exe = "/proc/self/exe"
	return h
}

func runCase(t *testing.T, kindID string, c Case) {
	h := SandboxHost(t)
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	params := c.Setup(t, h)
	opts := testutil.SnapshotOptions{ProcRoot: h.ProcRoot, FileRoots: h.FileRoots, HostsFile: h.HostsFile}
	if c.Snapshot != nil {
		c.Snapshot(&opts)
	}
	before := testutil.Snapshot(t, opts)
	spec := bulwark.FaultSpec{Kind: kindID, Params: params, Duration: bulwark.Duration(c.Duration)}

	t.Run("inject-status-recover-twice", func(t *testing.T) {
		m := open(t, h)
		f := inject(t, m, spec)
		if c.Effect != nil {
			c.Effect(t, h, f)
		}
		checkStatus(t, h, m, f)
		for i := range 2 {
			out, err := m.Recover(context.Background(), f.ID)
			if err != nil || out[0].State != bulwark.StateRecovered {
				t.Fatalf("recover #%d: %v %+v", i+1, err, out)
			}
		}
		testutil.AssertUnchanged(t, before)
		if c.Gone != nil {
			c.Gone(t, h)
		}
	})

	t.Run("expiry-through-sweep", func(t *testing.T) {
		m := open(t, h)
		short := spec
		short.Duration = bulwark.Duration(300 * time.Millisecond)
		f := inject(t, m, short)
		time.Sleep(time.Until(*f.ExpiresAt) + 20*time.Millisecond)
		swept, err := m.Sweep(context.Background())
		if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered || swept[0].EndReason != "expired" {
			t.Fatalf("sweep after expiry: %v %+v", err, swept)
		}
		testutil.AssertUnchanged(t, before)
	})

	t.Run("recover-from-receipt-in-new-manager", func(t *testing.T) {
		m := open(t, h)
		f := inject(t, m, spec)
		m.Close() // as if the process died: nothing is undone
		m2 := open(t, h)
		if out, err := m2.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
			t.Fatalf("recover in a new manager: %v %+v", err, out)
		}
		testutil.AssertUnchanged(t, before)
	})
}

func open(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func inject(t *testing.T, m *hostmgr.Manager, spec bulwark.FaultSpec) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), spec)
	if err != nil {
		t.Fatalf("inject %s: %v", spec.Kind, err)
	}
	if f.State != bulwark.StateActive || f.ActiveAt == nil || f.ExpiresAt == nil {
		t.Fatalf("inject %s: not active: %+v", spec.Kind, f)
	}
	if len(f.Evidence) == 0 {
		t.Fatalf("inject %s: no evidence", spec.Kind)
	}
	for _, e := range f.Evidence {
		if !e.OK {
			t.Fatalf("inject %s: failing evidence %+v", spec.Kind, e)
		}
	}
	return f
}

// checkStatus runs the kind's drift check, if it has one, on the live fault.
func checkStatus(t *testing.T, h *fault.Host, m *hostmgr.Manager, f *bulwark.Fault) {
	t.Helper()
	k, _ := fault.Lookup(f.Kind)
	s, ok := k.(fault.Statuser)
	if !ok {
		return
	}
	r, err := m.Receipt(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Status(context.Background(), h, r); err != nil {
		t.Fatalf("status of a live %s fault reports drift: %v", f.Kind, err)
	}
}
