//go:build linux

package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/crashpoint"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestHostileInputExits2WithNothingApplied: bad input exits 2 with one line
// naming the parameter, and leaves nothing in the journal or on the host.
func TestHostileInputExits2WithNothingApplied(t *testing.T) {
	if !sandbox(t) {
		return
	}
	p := testutil.SandboxPaths(t)
	victim := filepath.Join(p.FileRoot, "settle.csv")
	os.WriteFile(victim, []byte("a,b,c\n"), 0o600)
	sleeper := startSleeper(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{FileRoots: []string{p.FileRoot}})
	pid := strconv.Itoa(sleeper.Process.Pid)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"fault", "inject", "no.such", "--duration", "5s"}, `unknown fault kind "no.such"`},
		{[]string{"fault", "inject", "process.hang", "--pid", pid, "--bogus", "1", "--duration", "5s"}, "--bogus"},
		{[]string{"fault", "inject", "cpu.load", "--percent", "500", "--duration", "5s"}, "--percent: 500 is out of range"},
		{[]string{"fault", "inject", "process.hang", "--pid", "1", "--duration", "5s"}, "--pid"},
		{[]string{"fault", "inject", "process.hang", "--pid", strconv.Itoa(os.Getpid()), "--duration", "5s"}, "--pid"},
		{[]string{"fault", "inject", "file.corrupt", "--path", "/etc/passwd", "--duration", "5s"}, "--path"},
		{[]string{"fault", "inject", "file.corrupt", "--path", victim, "--duration", "5s", "--mode", "shred"}, "--mode"},
		{[]string{"fault", "inject", "net.partition", "--destination", "10.0.0.1;reboot", "--duration", "5s"}, "--destination"},
		{[]string{"fault", "inject", "net.partition", "--destination", "$(reboot)", "--duration", "5s"}, "--destination"},
		{[]string{"fault", "inject", "process.hang", "--pid", pid, "--duration", "2h"}, "--duration"},
		{[]string{"fault", "inject", "process.hang", "--pid", pid}, "--duration"},
		{[]string{"fault", "inject", "process.hang", "--pid", pid, "--duration", "soon"}, "--duration"},
		{[]string{"fault", "recover"}, "recover"},
	}
	for _, tt := range tests {
		r := run(t, nil, tt.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("bulwark %s: exit %d, stderr %q; want exit 2 and one line containing %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
	if out := mustRun(t, "fault", "list", "--all"); out != "" {
		t.Fatalf("journal not empty after bad input:\n%s", out)
	}
	if procState(t, sleeper.Process.Pid) == 'T' {
		t.Fatal("the target was stopped")
	}
	testutil.AssertUnchanged(t, before)
}

// TestGuardEndsFaultWithoutAnyCommand: a process.hang ends by itself, within
// 5 s of its expiry, with no bulwark command run after the inject.
func TestGuardEndsFaultWithoutAnyCommand(t *testing.T) {
	if !sandbox(t) {
		return
	}
	sleeper := startSleeper(t)
	pid := sleeper.Process.Pid
	mustRun(t, "fault", "inject", "process.hang", "--pid", strconv.Itoa(pid), "--duration", "2s")
	if procState(t, pid) != 'T' {
		t.Fatal("not stopped after inject")
	}
	took := waitStopped(t, pid, false, 2*time.Second+5*time.Second)
	t.Logf("resumed %s after inject (duration 2s)", took)
	waitNoGuard(t)
}

// waitNoGuard: the guard exits by itself once nothing is live.
func waitNoGuard(t *testing.T) {
	t.Helper()
	for start := time.Now(); len(guardPIDs(t)) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("guard still running: %v", guardPIDs(t))
		}
	}
}

// TestKillEverythingThenNextCommandRecovers: after kill -9 of every bulwark
// process, the next `bulwark fault list` recovers what has expired.
func TestKillEverythingThenNextCommandRecovers(t *testing.T) {
	if !sandbox(t) {
		return
	}
	sleeper := startSleeper(t)
	pid := sleeper.Process.Pid
	mustRun(t, "fault", "inject", "process.hang", "--pid", strconv.Itoa(pid), "--duration", "1s")
	guards := guardPIDs(t)
	if len(guards) != 1 {
		t.Fatalf("guards after inject: %v", guards)
	}
	for _, g := range guards {
		syscallKill(t, g)
	}
	time.Sleep(1500 * time.Millisecond)
	if procState(t, pid) != 'T' {
		t.Fatal("resumed although every bulwark process was killed (no systemd here)")
	}
	var out struct {
		Faults []struct{ State string } `json:"faults"`
	}
	r := mustRun(t, "fault", "list", "--json")
	if err := json.Unmarshal([]byte(r), &out); err != nil || len(out.Faults) != 0 {
		t.Fatalf("fault list after expiry: %v %s", err, r)
	}
	if procState(t, pid) == 'T' {
		t.Fatal("fault list did not recover the expired fault")
	}
}

// TestFileCorruptRestoresExactBytes through the CLI.
func TestFileCorruptRestoresExactBytes(t *testing.T) {
	if !sandbox(t) {
		return
	}
	p := testutil.SandboxPaths(t)
	path := filepath.Join(p.FileRoot, "positions.dat")
	orig := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	os.WriteFile(path, orig, 0o640)
	for _, mode := range []string{"flip", "zero", "truncate"} {
		id := mustRun(t, "fault", "inject", "file.corrupt", "--path", path, "--mode", mode, "--length", "100", "--duration", "30s")
		if b, _ := os.ReadFile(path); bytes.Equal(b, orig) {
			t.Fatalf("%s: file unchanged after inject", mode)
		}
		mustRun(t, "fault", "recover", id)
		if b, _ := os.ReadFile(path); !bytes.Equal(b, orig) {
			t.Fatalf("%s: bytes differ after recover", mode)
		}
	}
}

// TestCrashMatrix kills bulwark with SIGKILL at each crash point and checks
// that the next sweep converges: no live fault, the host as it was.
func TestCrashMatrix(t *testing.T) {
	if !sandbox(t) {
		return
	}
	p := testutil.SandboxPaths(t)
	for _, point := range crashpoint.All {
		for _, kind := range []string{"process.hang", "file.corrupt", "net.partition"} {
			t.Run(point+"/"+kind, func(t *testing.T) { crashAt(t, p, point, kind) })
		}
	}
}

func crashAt(t *testing.T, p testutil.Paths, point, kind string) {
	sleeper := startSleeper(t)
	path := filepath.Join(p.FileRoot, "ledger-"+point+".csv")
	os.WriteFile(path, []byte("id,amount\n1,100\n"), 0o600)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{FileRoots: []string{p.FileRoot}, IgnoreProcess: notOurs(sleeper.Process.Pid)})
	args := map[string][]string{
		"process.hang":  {"--pid", strconv.Itoa(sleeper.Process.Pid)},
		"file.corrupt":  {"--path", path},
		"net.partition": {"--destination", "192.0.2.0/24", "--port", "8080", "--protocol", "tcp"},
	}[kind]
	inject := append([]string{"fault", "inject", kind, "--duration", "1s"}, args...)
	crash := []string{"GOFAIL_FAILPOINTS=" + point + "=return(true)"}
	var r result
	switch point {
	case crashpoint.JournaledNotApplied, crashpoint.AppliedNotMarked:
		r = run(t, crash, inject...)
	case crashpoint.HalfRecovered:
		id := mustRun(t, inject...)
		r = run(t, crash, "fault", "recover", id)
	case crashpoint.GuardMidSweep:
		killGuards(t)
		mustRun(t, inject...)
		killGuards(t)
		time.Sleep(1100 * time.Millisecond)
		r = run(t, crash, "fault", "sweep")
	}
	if !r.killed {
		t.Fatalf("crash point %s did not fire: exit %d %s", point, r.code, r.stderr)
	}
	killGuards(t)
	time.Sleep(1100 * time.Millisecond) // let a crashed fault expire
	mustRun(t, "fault", "sweep")
	if out := mustRun(t, "fault", "list"); out != "" {
		t.Fatalf("live faults after the sweep:\n%s", out)
	}
	testutil.AssertUnchanged(t, before)
}

// notOurs leaves out every process but the test's target from a snapshot:
// guards and crashed commands come and go.
func notOurs(keep int) func(testutil.Proc) bool {
	return func(p testutil.Proc) bool { return p.PID != keep }
}

func killGuards(t *testing.T) {
	for _, g := range guardPIDs(t) {
		syscallKill(t, g)
	}
}
