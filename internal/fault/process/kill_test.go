//go:build linux

package process_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// termProofHelper is a test helper (see faulttest.Main) that ignores SIGTERM
// and sleeps until killed or for a minute.
const termProofHelper = "process-test-term-proof"

// portHelper is a test helper that listens on the TCP port given as its
// argument until killed or for a minute.
const portHelper = "process-test-listen"

func init() {
	fault.RegisterHelper(termProofHelper, func(ctx context.Context, args []string) error {
		signal.Ignore(syscall.SIGTERM)
		time.Sleep(time.Minute)
		return nil
	})
	fault.RegisterHelper(portHelper, func(ctx context.Context, args []string) error {
		ln, err := net.Listen("tcp", "127.0.0.1:"+args[0])
		if err != nil {
			return err
		}
		defer ln.Close()
		time.Sleep(time.Minute)
		return nil
	})
}

// startHelper starts this test binary as helper fn under the name comm (a
// symlink, so that the process's comm is that name) and ends it when the
// test ends.
func startHelper(t *testing.T, comm, fn string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if testutil.InSandbox() {
		exe = "/proc/self/exe" // the build directory is hidden by the sandbox's tmpfs
	}
	link := filepath.Join(t.TempDir(), comm)
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return startProc(t, link, append([]string{"helper", fn}, args...)...)
}

func killSpec(params map[string]string, d time.Duration) bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: "process.kill", Params: params, Duration: bulwark.Duration(d)}
}

// gone reports whether pid has exited (a zombie counts: the test is its
// parent and has not collected it yet).
func gone(pid int) bool {
	st, err := readStat(pid)
	return err != nil || st.State == 'Z' || st.State == 'X'
}

func evidenceDetail(f *bulwark.Fault, check string) string {
	for _, e := range f.Evidence {
		if e.Check == check {
			return e.Detail
		}
	}
	return ""
}

func TestKillBadInput(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	sshd := startProc(t, sleepAs(t, "sshd"), "60")
	zombie := startProc(t, sleepAs(t, "bwkzombie"), "60")
	_ = zombie.Process.Signal(syscall.SIGKILL)
	waitFor(t, func() bool { return stateOf(t, zombie.Process.Pid) == 'Z' })

	cases := []struct {
		name   string
		params map[string]string
		param  string
		msg    string
	}{
		{"nothing", map[string]string{}, "pid", "required"},
		{"pid 1", map[string]string{"pid": "1"}, "pid", "never a target"},
		{"negative pid", map[string]string{"pid": "-5"}, "pid", "not a pid"},
		{"own pid", map[string]string{"pid": strconv.Itoa(os.Getpid())}, "pid", "bulwark itself"},
		{"own thread", map[string]string{"pid": strconv.Itoa(otherThread(t))}, "pid", "thread of process"},
		{"no such pid", map[string]string{"pid": strconv.Itoa(freePID(t))}, "pid", "no process"},
		{"deny-listed pid", map[string]string{"pid": strconv.Itoa(sshd.Process.Pid)}, "pid", "deny-list"},
		{"deny-listed name", map[string]string{"name": "sshd"}, "name", "deny-list"},
		{"zombie", map[string]string{"pid": strconv.Itoa(zombie.Process.Pid)}, "pid", "exited"},
		{"pid and name", map[string]string{"pid": "123", "name": "x"}, "pid", "one of"},
		{"name and port", map[string]string{"port": "80", "name": "x"}, "pid", "one of"},
		{"all-matching with pid", map[string]string{"pid": "123", "all-matching": "true"}, "all-matching", "only goes with"},
		{"name too long", map[string]string{"name": "a-name-longer-than-15"}, "name", "longer than 15"},
		{"no such name", map[string]string{"name": "bw-none-such"}, "name", "no process"},
		{"port zero", map[string]string{"port": "0"}, "port", "out of range"},
		{"port too big", map[string]string{"port": "65536"}, "port", "out of range"},
		{"bad protocol", map[string]string{"port": "80", "protocol": "sctp"}, "protocol", "not one of"},
		{"SIGSTOP", map[string]string{"pid": "123", "signal": "STOP"}, "signal", "process.hang"},
		{"SIGCONT number", map[string]string{"pid": "123", "signal": "18"}, "signal", "process.hang"},
		{"SIGTSTP", map[string]string{"pid": "123", "signal": "SIGTSTP"}, "signal", "process.hang"},
		{"signal 0", map[string]string{"pid": "123", "signal": "0"}, "signal", "1 to 31"},
		{"real-time signal", map[string]string{"pid": "123", "signal": "40"}, "signal", "1 to 31"},
		{"unknown signal", map[string]string{"pid": "123", "signal": "BOOM"}, "signal", "not a signal name"},
		{"shell in signal", map[string]string{"pid": "123", "signal": "KILL;ls"}, "signal", "not a signal name"},
		{"wait too long", map[string]string{"pid": "123", "wait": "2h"}, "wait", "out of range"},
		{"max-matches zero", map[string]string{"name": "x", "max-matches": "0"}, "max-matches", "out of range"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Inject(context.Background(), killSpec(tc.params, time.Minute))
			var pe *fault.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *fault.ParamError", err)
			}
			if pe.Param != tc.param || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want --%s: …%s…", err, tc.param, tc.msg)
			}
		})
	}
	if gone(sshd.Process.Pid) {
		t.Fatal("deny-listed process was killed")
	}
	fs, err := m.Faults(context.Background(), bulwark.FaultFilter{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("journal holds %d faults (%v) after refused injects, want none", len(fs), err)
	}
}

func TestKillSignalNames(t *testing.T) {
	k, _ := fault.Lookup("process.kill")
	for in, want := range map[string]string{"KILL": "SIGKILL", "kill": "SIGKILL", "SIGTERM": "SIGTERM", "TERM": "SIGTERM", "15": "SIGTERM", "9": "SIGKILL", "hup": "SIGHUP", "USR1": "SIGUSR1"} {
		if _, err := fault.Decode(k.Info(), map[string]string{"pid": "123", "signal": in}); err != nil {
			t.Errorf("signal %q (%s): %v", in, want, err)
		}
	}
}

// TestKillByNameInSandbox is issue 4's done-when: with two processes called
// sleep, process.kill --name sleep refuses; with one, it kills it. It runs
// in the sandbox so that other sleep processes on the machine do not count.
func TestKillByNameInSandbox(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	m := openManager(t, h)
	exe := sleepAs(t, "sleep")
	a := startProc(t, exe, "60")
	b := startProc(t, exe, "60")

	_, err := m.Inject(context.Background(), killSpec(map[string]string{"name": "sleep"}, time.Minute))
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != "name" || !strings.Contains(pe.Message, "2 processes are named \"sleep\"") {
		t.Fatalf("kill --name sleep with two sleeps: %v, want a refusal naming --name", err)
	}
	if gone(a.Process.Pid) || gone(b.Process.Pid) {
		t.Fatal("a refused kill signalled a process")
	}
	_, err = m.Inject(context.Background(), killSpec(map[string]string{"name": "sleep", "all-matching": "true", "max-matches": "1"}, time.Minute))
	if !errors.As(err, &pe) || pe.Param != "max-matches" {
		t.Fatalf("over the cap: %v, want --max-matches", err)
	}

	_ = b.Process.Kill()
	_ = b.Wait()
	f, err := m.Inject(context.Background(), killSpec(map[string]string{"name": "sleep"}, time.Minute))
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("kill --name sleep with one sleep: %v %+v", err, f)
	}
	if !gone(a.Process.Pid) || !hasEvidence(f, "process-exited") {
		t.Fatalf("target not killed: %+v", f.Evidence)
	}
	r := mustRecover(t, m, f.ID)
	if d := evidenceDetail(r, "restarted"); !strings.Contains(d, "no new process") {
		t.Fatalf("restart evidence %q, want no new process", d)
	}

	// --all-matching kills every match within the cap.
	c, d := startProc(t, exe, "60"), startProc(t, exe, "60")
	f, err = m.Inject(context.Background(), killSpec(map[string]string{"name": "sleep", "all-matching": "true"}, time.Minute))
	if err != nil || !gone(c.Process.Pid) || !gone(d.Process.Pid) {
		t.Fatalf("kill --all-matching: %v; gone %v %v", err, gone(c.Process.Pid), gone(d.Process.Pid))
	}
	mustRecover(t, m, f.ID)
}

// TestKillByPortInSandbox kills the process listening on a TCP port (in the
// sandbox's own network namespace), and reports a restarted one on recovery.
func TestKillByPortInSandbox(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	m := openManager(t, h)
	const port = "18765"
	victim := startHelper(t, "bwklisten", portHelper, port)
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		ok := err == nil
		_ = closeConn(c)
		return ok
	})

	// A port nobody holds, and a UDP-only look at a TCP port, find nothing.
	for _, params := range []map[string]string{{"port": "18766"}, {"port": port, "protocol": "udp"}} {
		_, err := m.Inject(context.Background(), killSpec(params, time.Minute))
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != "port" || !strings.Contains(pe.Message, "no process") {
			t.Fatalf("kill %v: %v, want --port: no process", params, err)
		}
	}

	f, err := m.Inject(context.Background(), killSpec(map[string]string{"port": port, "protocol": "tcp"}, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !gone(victim.Process.Pid) {
		t.Fatal("listener not killed")
	}
	if st, _ := readStat(victim.Process.Pid); f.Resource != (fault.Proc{PID: victim.Process.Pid, StartTime: st.StartTime}).String() {
		t.Fatalf("resource %q", f.Resource)
	}
	_ = victim.Wait()
	if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		t.Fatal("port still accepts after the kill")
	}

	// A "supervisor" (the test) starts a new listener: recovery reports it.
	again := startHelper(t, "bwklisten", portHelper, port)
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		ok := err == nil
		_ = closeConn(c)
		return ok
	})
	r := mustRecover(t, m, f.ID)
	if d := evidenceDetail(r, "restarted"); !strings.Contains(d, "pid "+strconv.Itoa(again.Process.Pid)) {
		t.Fatalf("restart evidence %q, want pid %d", d, again.Process.Pid)
	}
}

func closeConn(c net.Conn) error {
	if c == nil {
		return nil
	}
	return c.Close()
}

// TestKillTermSurvivor sends SIGTERM to a process that ignores it: the
// fault is active and the evidence says it survived and why.
func TestKillTermSurvivor(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	cmd := startHelper(t, "bwktermproof", termProofHelper)
	waitFor(t, func() bool { return strings.Contains(sigIgn(t, cmd.Process.Pid), "ignores") })
	f, err := m.Inject(context.Background(), killSpec(map[string]string{"pid": strconv.Itoa(cmd.Process.Pid), "signal": "TERM", "wait": "100ms"}, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if d := evidenceDetail(f, "process-survived"); !strings.Contains(d, "SIGTERM") || !strings.Contains(d, "ignores the signal") {
		t.Fatalf("survivor evidence %q", d)
	}
	if gone(cmd.Process.Pid) {
		t.Fatal("the process exited on an ignored SIGTERM")
	}
	r := mustRecover(t, m, f.ID)
	if !hasEvidence(r, "target-running") {
		t.Fatalf("no target-running evidence: %+v", r.Evidence)
	}

	// A TERM that the process does not handle ends it.
	plain := startProc(t, sleepAs(t, "bwkterm"), "60")
	f, err = m.Inject(context.Background(), killSpec(map[string]string{"pid": strconv.Itoa(plain.Process.Pid), "signal": "SIGTERM"}, time.Minute))
	if err != nil || !hasEvidence(f, "process-exited") || !gone(plain.Process.Pid) {
		t.Fatalf("TERM to sleep: %v %+v", err, f)
	}
	mustRecover(t, m, f.ID)
}

// sigIgn describes whether pid ignores SIGTERM yet (the helper sets it up
// after it starts).
func sigIgn(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if n&(1<<(syscall.SIGTERM-1)) != 0 {
				return "ignores"
			}
		}
	}
	return ""
}

func TestKillRefusesNewerReceipt(t *testing.T) {
	k, _ := fault.Lookup("process.kill")
	r := &fault.Receipt{Kind: "process.kill", Version: 2, Data: []byte(`{}`)}
	if err := k.Recover(context.Background(), fault.DefaultHost(t.TempDir()), r); !errors.Is(err, bulwark.ErrNewerReceipt) {
		t.Fatalf("recover of a v2 receipt: %v, want ErrNewerReceipt", err)
	}
}

func openManager(t *testing.T, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
