//go:build linux

package exhaust_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// injectHW injects a host-wide fault and returns it active, with its helper.
func injectHW(t *testing.T, m *hostmgr.Manager, kind string, params map[string]string) (*bulwark.Fault, fault.Proc) {
	t.Helper()
	params["host-wide"] = "true"
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kind, Params: params, Duration: bulwark.Duration(time.Minute)})
	if err != nil || f.State != bulwark.StateActive {
		t.Fatalf("inject %s --host-wide: %v %+v", kind, err, f)
	}
	for _, e := range f.Evidence {
		t.Logf("evidence: %s: %s", e.Check, e.Detail)
	}
	return f, portHelper(t, m, f.ID)
}

// recoverHW recovers the fault and checks its helper is gone.
func recoverHW(t *testing.T, h *fault.Host, m *hostmgr.Manager, f *bulwark.Fault, p fault.Proc) {
	t.Helper()
	out, err := m.Recover(context.Background(), f.ID)
	if err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover: %v %+v", err, out)
	}
	if h.Alive(p) {
		t.Fatalf("helper %s still runs", p)
	}
}

func holdStatus(t *testing.T, h *fault.Host, f *bulwark.Fault) *exhaust.HoldStatus {
	t.Helper()
	s, err := exhaust.ReadHoldStatus(filepath.Join(h.StateDir, "data", f.ID, "status.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFDHostWideBounded runs fd.exhaust --host-wide against a fake
// fs.file-nr bound over the sandbox's own /proc (the real file table is the
// kernel's, shared with this machine, and is never exhausted by a test):
// the helper really opens the planned 1000 files and lets them go on
// recover; and a helper that finds only the reserve free when it starts
// takes nothing, so the fault fails verification and recovers.
func TestFDHostWideBounded(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	fake := filepath.Join(t.TempDir(), "file-nr")
	if err := os.WriteFile(fake, []byte("1000\t0\t7000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const nr = "/proc/sys/fs/file-nr"
	if err := unix.Mount(fake, nr, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind a fake file-nr over the sandbox's: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(nr, unix.MNT_DETACH) })
	m := sandboxManager(t, h)
	f, p := injectHW(t, m, exhaust.FDID, map[string]string{"reserve": "5000"})
	if n := countFDs(t, p.PID); n < 1000 {
		t.Errorf("helper holds %d fds, want at least 1000", n)
	}
	if s := holdStatus(t, h, f); s.Held != 1000 || s.Target != 1000 || s.Free != 6000 {
		t.Errorf("status %+v, want 1000 of 1000 held and 6000 free", s)
	}
	recoverHW(t, h, m, f, p)

	// Planned with 6000 free; by the time the helper starts, others hold
	// 1000 more and only the reserve is free.
	k, _ := fault.Lookup(exhaust.FDID)
	params, err := fault.Decode(k.Info(), map[string]string{"host-wide": "true", "reserve": "5000"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.Prepare(context.Background(), h, fault.Request{ID: bulwark.NewID(), Params: params, Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("2000\t0\t7000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Recover(context.Background(), h, r) })
	if err := k.Apply(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
	ev, err := k.Verify(context.Background(), h, r)
	if err == nil || !strings.Contains(err.Error(), "holds 0 of 1000") {
		t.Errorf("verify with only the reserve free: %v %+v", err, ev)
	}
	if err := k.Recover(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
	if _, err := k.VerifyRecovered(context.Background(), h, r); err != nil {
		t.Fatal(err)
	}
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestPortHostWide uses up the sandbox network namespace's ephemeral range
// (200 ports) but a reserve of 20, for every destination: exactly 20
// connects to each of two IPv4 destinations and one IPv6 destination
// succeed, then EADDRNOTAVAIL; after recover they work again.
func TestPortHostWide(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	portSetup(nil)(t, h)
	const v6Dest = "[::1]:39997"
	listen(t, v6Dest)
	m := sandboxManager(t, h)
	f, p := injectHW(t, m, exhaust.PortID, map[string]string{"reserve": "20"})
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	// An ephemeral port serves one connection per destination, so the
	// reserve of 20 ports is 20 connects to each destination, no more.
	for _, dest := range []string{testDest, testOtherDest, v6Dest} {
		n := 0
		var last error
		for ; n < 200; n++ {
			c, err := net.Dial("tcp", dest)
			if err != nil {
				last = err
				break
			}
			conns = append(conns, c)
		}
		if n != 20 || !errors.Is(last, syscall.EADDRNOTAVAIL) {
			t.Errorf("%s: %d connects succeeded (last error %v), want the reserve of 20 then EADDRNOTAVAIL", dest, n, last)
		}
	}
	recoverHW(t, h, m, f, p)
	for i := 0; i < 100; i++ {
		if err := dial(testDest); err != nil {
			t.Fatalf("connect %d after recover: %v", i, err)
		}
	}
}

// reservedPIDs mirrors the kernel's RESERVED_PIDS, which the plan counts as
// taken.
const reservedPIDs = 300

// TestPIDHostWideInPIDNamespace exhausts the task slots of the sandbox's own
// pid namespace, whose kernel.pid_max is its own since Linux 6.14 (set to
// 1300 here; this machine's is never touched): the helper holds all but the
// reserve of 200, so a shell starting sleeps gets at least the reserve and
// at most the reserve plus the 300 pids the plan counts as reserved, then
// fork fails. The sleeps are ended by pid.
func TestPIDHostWideInPIDNamespace(t *testing.T) {
	testutil.Require(t, "root", "netns")
	if !pidMaxPerNamespace() {
		t.Skip("kernel.pid_max is per pid namespace only from Linux 6.14: the test would change this machine's")
	}
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	if err := os.WriteFile("/proc/sys/kernel/pid_max", []byte("1300"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The loop below takes every free pid: the runtime must not need a new
	// thread meanwhile. Started before the fault, so that the plan counts
	// them (started after, they took up to 64 pids of the reserve: 144 sleeps).
	warmThreads(64)
	m := sandboxManager(t, h)
	f, p := injectHW(t, m, exhaust.PIDID, map[string]string{"reserve": "200"})
	s := holdStatus(t, h, f)
	t.Logf("helper holds %d of %d tasks, %d free by the plan", s.Held, s.Target, s.Free)
	sh := exec.Command("sh", "-c", `while :; do sleep 120 & done`)
	sh.Stderr = nil
	_ = sh.Run() // exits when fork fails
	sleeps := procsNamed(t, "sleep")
	defer func() {
		for _, pid := range sleeps {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, pid := range sleeps {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, 0, nil) // reparented to the sandbox's init, this test
		}
	}()
	t.Logf("%d sleeps started before fork failed", len(sleeps))
	if len(sleeps) < 200-20 || len(sleeps) > 200+reservedPIDs+20 {
		t.Errorf("%d forks succeeded under the fault, want the reserve of 200 (up to 300 more)", len(sleeps))
	}
	for _, pid := range sleeps {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	recoverHW(t, h, m, f, p)
}

// warmThreads makes the Go runtime start n OS threads and keep them idle,
// so that it can go on scheduling (and -race can go on tracing) while a
// test has used up the pid namespace: a thread is a task and needs a pid.
func warmThreads(n int) {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread() // a thread of its own…
			ready.Done()
			<-release
			runtime.UnlockOSThread() // …that goes back to the idle pool, not away
		}()
	}
	ready.Wait()
	close(release)
	done.Wait()
}

// pidMaxPerNamespace reports whether the kernel is 6.14 or later.
func pidMaxPerNamespace() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, _ := strconv.Atoi(parts[0])
	minor, _ := strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major > 6 || major == 6 && minor >= 14
}

// procsNamed lists the pids whose comm is name.
func procsNamed(t *testing.T, name string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm")); err == nil && strings.TrimSpace(string(b)) == name {
			out = append(out, pid)
		}
	}
	return out
}

// TestHostWideTimings logs inject→active and recover→gone of the host-wide
// modes in the sandbox (figures for BENCHMARKS.md, not assertions): fd with
// 1000 files against a fake file-nr, port with 180 of 200 ports, pid with
// about 790 threads under a pid_max of 1300.
func TestHostWideTimings(t *testing.T) {
	testutil.Require(t, "root", "netns")
	testutil.Slow(t)
	if !testutil.Sandbox(t) {
		return
	}
	h := faulttest.SandboxHost(t)
	fake := filepath.Join(t.TempDir(), "file-nr")
	if err := os.WriteFile(fake, []byte("1000\t0\t7000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(fake, "/proc/sys/fs/file-nr", "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount("/proc/sys/fs/file-nr", unix.MNT_DETACH) })
	portSetup(nil)(t, h)
	kinds := []struct {
		id     string
		params map[string]string
	}{{exhaust.FDID, map[string]string{"reserve": "5000"}}, {exhaust.PortID, map[string]string{"reserve": "20"}}}
	if pidMaxPerNamespace() {
		if err := os.WriteFile("/proc/sys/kernel/pid_max", []byte("1300"), 0o644); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, struct {
			id     string
			params map[string]string
		}{exhaust.PIDID, map[string]string{"reserve": "200"}})
	}
	m := sandboxManager(t, h)
	for _, kind := range kinds {
		var inject, recover []time.Duration
		held := 0
		for range 3 {
			t0 := time.Now()
			f, p := injectHW(t, m, kind.id, kind.params)
			t1 := time.Now()
			held = holdStatus(t, h, f).Held
			t2 := time.Now()
			recoverHW(t, h, m, f, p)
			inject, recover = append(inject, t1.Sub(t0)), append(recover, time.Since(t2))
		}
		t.Logf("%s --host-wide holding %d: inject→active median %s, recover→gone median %s (3 runs, -race: %v)", kind.id, held, median(inject), median(recover), raceEnabled)
	}
}
