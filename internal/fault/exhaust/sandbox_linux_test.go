//go:build linux

package exhaust_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// sandboxManager opens a host manager on the sandbox's state directory.
func sandboxManager(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// portHelper returns the helper pid the receipt of fault id records.
func portHelper(t *testing.T, m *hostmgr.Manager, id string) fault.Proc {
	t.Helper()
	r, err := m.Receipt(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Helper *fault.Proc `json:"helper"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.Helper == nil {
		t.Fatalf("no helper in the receipt: %v %s", err, r.Data)
	}
	return *d.Helper
}

// TestPortHelperKilledThenSweep kills the port-exhaust helper with SIGKILL:
// the ports come back at once (the connections reset), Status reports the
// drift, and the sweep after expiry ends the fault recovered. It then runs a
// helper with a deadline a moment away and sees it exit by itself.
func TestPortHelperKilledThenSweep(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	params := portSetup(map[string]string{"reserve": "0"})(t, h)
	m := sandboxManager(t, h)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: exhaust.PortID, Params: params, Duration: bulwark.Duration(2 * time.Second)})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	p := portHelper(t, m, f.ID)
	if err := h.Signal(p, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, func() bool { return !h.Alive(p) })
	waitUntil(t, 5*time.Second, func() bool { return dial(testDest) == nil })
	k, _ := fault.Lookup(exhaust.PortID)
	r, _ := m.Receipt(context.Background(), f.ID)
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err == nil {
		t.Error("status with the helper killed reports no drift")
	}
	time.Sleep(time.Until(*f.ExpiresAt) + 20*time.Millisecond)
	swept, err := m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep after expiry: %v %+v", err, swept)
	}

	// A helper left alone exits at its deadline.
	status := filepath.Join(t.TempDir(), "status.json")
	cmd := exec.Command(h.Exe, "helper", "port-exhaust", "--fault", "selfexpiry",
		"--deadline", time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano),
		"--destination", testDest, "--count", "5", "--reserve", "0", "--status", status)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("helper: %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("helper did not exit by itself at its deadline")
	}
	s, err := exhaust.ReadPortStatus(status)
	if err != nil || s.State != "exited" || s.Reason != "deadline" || s.Held != 5 {
		t.Fatalf("helper's last status: %v %+v", err, s)
	}
}

// TestTimings logs inject → active and recover → gone per kind (figures for
// BENCHMARKS.md, not assertions).
func TestTimings(t *testing.T) {
	testutil.Require(t, "root", "netns", testutil.CapCgroup)
	testutil.Slow(t)
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	portParams := portSetup(map[string]string{"reserve": "0"})(t, h)
	target := startProbe(t, h.Exe)
	testCgroup(t, h, target.pid())
	t.Cleanup(target.stop)
	pid := map[string]string{"pid": strconv.Itoa(target.pid())}
	m := sandboxManager(t, h)
	for _, kind := range []struct {
		id     string
		params map[string]string
	}{{exhaust.FDID, pid}, {exhaust.PIDID, pid}, {exhaust.PortID, portParams}} {
		var inject, recover []time.Duration
		for range 5 {
			t0 := time.Now()
			f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind.id, Params: kind.params, Duration: bulwark.Duration(time.Minute)})
			if err != nil || f.State != bulwark.StateActive {
				t.Fatalf("inject %s: %v %+v", kind.id, err, f)
			}
			t1 := time.Now()
			if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
				t.Fatalf("recover %s: %v %+v", kind.id, err, out)
			}
			inject, recover = append(inject, t1.Sub(t0)), append(recover, time.Since(t1))
		}
		t.Logf("%s: inject→active median %s, recover→gone median %s (5 runs, -race: %v)", kind.id, median(inject), median(recover), raceEnabled)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(10 * time.Microsecond)
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
