//go:build linux

package exhaust_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/exhaust"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

func TestFDContract(t *testing.T) {
	var target *probe
	faulttest.Run(t, exhaust.FDID, faulttest.Case{
		Name: "probe",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			target = startProbe(t, h.Exe)
			return map[string]string{"pid": strconv.Itoa(target.pid())}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if got := target.try(t, "open"); got != "EMFILE" {
				t.Errorf("target's open under fd.exhaust: %s, want EMFILE", got)
			}
			other := startProbe(t, h.Exe) // another process opens files as before
			if got := other.try(t, "open"); got != "ok" {
				t.Errorf("another process's open: %s, want ok", got)
			}
			other.stop()
			fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Errorf("the test's own open: %v", err)
			} else {
				unix.Close(fd)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if got := target.try(t, "open"); got != "ok" {
				t.Errorf("target's open after recover: %s, want ok", got)
			}
		},
	})
}

// TestFDHeadroomAndConflict runs outside the sandbox on a probe the test
// starts: --headroom leaves exactly that many opens, and a limit changed by
// someone else is drift, and a conflict that recover leaves alone.
func TestFDHeadroomAndConflict(t *testing.T) {
	testutil.Require(t, "root")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	target := startProbe(t, exe)
	orig := nofile(t, target.pid())
	m := manager(t)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: exhaust.FDID, Duration: bulwark.Duration(time.Minute),
		Params: map[string]string{"pid": strconv.Itoa(target.pid()), "headroom": "2"}})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	for i, want := range []string{"ok", "ok", "EMFILE", "EMFILE"} {
		if got := target.try(t, "hold"); got != want {
			t.Fatalf("hold #%d: %s, want %s", i+1, got, want)
		}
	}
	lowered := nofile(t, target.pid())
	if lowered.Cur >= orig.Cur || lowered.Max != orig.Max {
		t.Fatalf("limit under fd.exhaust: %+v (was %+v), want the soft one lowered", lowered, orig)
	}

	// Someone else changes the soft limit: drift, then a conflict on recover.
	changed := unix.Rlimit{Cur: lowered.Cur - 1, Max: orig.Max}
	if err := unix.Prlimit(target.pid(), unix.RLIMIT_NOFILE, &changed, nil); err != nil {
		t.Fatal(err)
	}
	k, _ := fault.Lookup(exhaust.FDID)
	r, err := m.Receipt(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := fault.DefaultHost(t.TempDir())
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err == nil || !strings.Contains(err.Error(), "drifted") {
		t.Fatalf("status after someone changed the limit: %v, want drift", err)
	}
	if err := k.Recover(context.Background(), h, r); err == nil || !strings.Contains(err.Error(), "conflict") {
		t.Fatalf("recover over a changed limit: %v, want a conflict", err)
	}
	if got := nofile(t, target.pid()); got != changed {
		t.Fatalf("recover touched a limit it did not set: %+v, want %+v", got, changed)
	}

	// Put the fault's limit back: recover restores the original exactly.
	if err := unix.Prlimit(target.pid(), unix.RLIMIT_NOFILE, &lowered, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if got := nofile(t, target.pid()); got != orig {
		t.Fatalf("limit after recover: %+v, want %+v", got, orig)
	}
	if got := target.try(t, "hold"); got != "ok" {
		t.Fatalf("hold after recover: %s", got)
	}
}

// TestFDHard lowers both limits where bulwark could raise the hard one back
// (CAP_SYS_RESOURCE), and otherwise checks that --hard is refused up front.
func TestFDHard(t *testing.T) {
	testutil.Require(t, "root")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	target := startProbe(t, exe)
	orig := nofile(t, target.pid())
	params := map[string]string{"pid": strconv.Itoa(target.pid()), "hard": "true"}
	if !hasCapSysResource(t) {
		assertParamError(t, fault.DefaultHost(t.TempDir()), exhaust.FDID, params, "hard")
		t.Log("no CAP_SYS_RESOURCE here: --hard is refused, as it could not be undone")
		return
	}
	m := manager(t)
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: exhaust.FDID, Duration: bulwark.Duration(time.Minute), Params: params})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject: %v %+v", err, f)
	}
	if got := nofile(t, target.pid()); got.Cur != got.Max || got.Cur >= orig.Cur {
		t.Fatalf("limit under --hard: %+v (was %+v), want soft = hard, lowered", got, orig)
	}
	if got := target.try(t, "open"); got != "EMFILE" {
		t.Fatalf("open under --hard: %s", got)
	}
	if out, err := m.Recover(context.Background(), f.ID); err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if got := nofile(t, target.pid()); got != orig {
		t.Fatalf("limit after recover: %+v, want %+v", got, orig)
	}
}

func hasCapSysResource(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<24) != 0
		}
	}
	return false
}

func TestFDBadInput(t *testing.T) {
	testutil.Require(t, "root")
	sleep := startSleep(t)
	h := fault.DefaultHost(t.TempDir())
	h.DenyProcesses = append([]string{"sleep"}, h.DenyProcesses...)
	for _, tc := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"no pid", map[string]string{}, "pid"},
		{"negative pid", map[string]string{"pid": "-3"}, "pid"},
		{"pid 1", map[string]string{"pid": "1"}, "pid"},
		{"self", map[string]string{"pid": strconv.Itoa(os.Getpid())}, "pid"},
		{"deny-listed name", map[string]string{"pid": strconv.Itoa(sleep)}, "pid"},
		{"no such process", map[string]string{"pid": "999999999"}, "pid"},
		{"negative headroom", map[string]string{"pid": "2", "headroom": "-1"}, "headroom"},
		{"host-wide and a pid", map[string]string{"host-wide": "true", "pid": "2"}, "host-wide"},
		{"host-wide and hard", map[string]string{"host-wide": "true", "hard": "true"}, "host-wide"},
		{"reserve without host-wide", map[string]string{"pid": "2", "reserve": "5000"}, "reserve"},
		{"host-wide reserve below the minimum", map[string]string{"host-wide": "true", "reserve": "1000"}, "reserve"},
		{"unlimited headroom", map[string]string{"pid": strconv.Itoa(sleep), "headroom": "1048576"}, "pid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unlimited headroom" {
				h.DenyProcesses = h.DenyProcesses[1:]
				defer func() { h.DenyProcesses = append([]string{"sleep"}, h.DenyProcesses...) }()
			}
			assertParamError(t, h, exhaust.FDID, tc.params, tc.param)
		})
	}
}

// assertParamError decodes and prepares params and wants a *fault.ParamError
// naming param from one of them.
func assertParamError(t *testing.T, h *fault.Host, id string, params map[string]string, param string) {
	t.Helper()
	k, err := fault.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := fault.Decode(k.Info(), params)
	if err == nil {
		_, err = k.Prepare(context.Background(), h, fault.Request{ID: "f1", Params: p, Duration: time.Minute, Deadline: time.Now().Add(time.Minute)})
	}
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != param {
		t.Fatalf("%v: got %v, want a ParamError naming --%s", params, err, param)
	}
}

func startSleep(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 200 { // until exec has replaced the forked child's comm
		if st, err := fault.DefaultHost("").ReadProcStat(cmd.Process.Pid); err == nil && st.Comm == "sleep" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cmd.Process.Pid
}

func nofile(t *testing.T, pid int) unix.Rlimit {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &rl); err != nil {
		t.Fatal(err)
	}
	return rl
}

func manager(t *testing.T) *hostmgr.Manager {
	t.Helper()
	dir := t.TempDir()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: dir, Host: fault.DefaultHost(dir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
