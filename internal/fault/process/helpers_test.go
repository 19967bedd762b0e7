//go:build linux

package process_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// requireRoot skips without root, and fails under CI=true where root is
// promised.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("this test needs root, and CI runs as root")
	}
	t.Skip("needs root")
}

// startProc starts path with args and ends it (by its pid) when the test
// ends, resuming it first in case the test left it stopped.
func startProc(t *testing.T, path string, args ...string) *exec.Cmd {
	t.Helper()
	var cmd *exec.Cmd
	var err error
	for range 50 { // a just-written binary may be briefly busy (ETXTBSY)
		cmd = exec.Command(path, args...)
		if err = cmd.Start(); !errors.Is(err, syscall.ETXTBSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(t, func() bool { st, err := readStat(cmd.Process.Pid); return err == nil && st.Comm == filepath.Base(path) })
	return cmd
}

// sleepAs copies sleep(1) to a temporary file called name, so that a process
// started from it has that comm.
func sleepAs(t *testing.T, name string) string {
	t.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), name)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func readStat(pid int) (fault.ProcStat, error) {
	return fault.DefaultHost("").ReadProcStat(pid)
}

func stateOf(t *testing.T, pid int) byte {
	t.Helper()
	st, err := readStat(pid)
	if err != nil {
		t.Fatalf("read pid %d: %v", pid, err)
	}
	return st.State
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

func newManager(t *testing.T, dir string) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: dir, Host: fault.DefaultHost(dir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func hangSpec(params map[string]string, d time.Duration) bulwark.FaultSpec {
	return bulwark.FaultSpec{Kind: "process.hang", Params: params, Duration: bulwark.Duration(d)}
}

func mustInject(t *testing.T, m *hostmgr.Manager, params map[string]string, d time.Duration) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), hangSpec(params, d))
	if err != nil {
		t.Fatalf("inject %v: %v", params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("state %s, want active", f.State)
	}
	return f
}

func mustRecover(t *testing.T, m *hostmgr.Manager, id string) *bulwark.Fault {
	t.Helper()
	fs, err := m.Recover(context.Background(), id)
	if err != nil {
		t.Fatalf("recover %s: %v", id, err)
	}
	if fs[0].State != bulwark.StateRecovered {
		t.Fatalf("state %s, want recovered", fs[0].State)
	}
	return fs[0]
}

func hasEvidence(f *bulwark.Fault, check string) bool {
	for _, e := range f.Evidence {
		if e.Check == check && e.OK {
			return true
		}
	}
	return false
}
