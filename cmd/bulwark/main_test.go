//go:build linux

package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// These tests drive the real binary, built with crash points compiled in,
// the way a person or a script would: inside the sandbox, as root.

const binEnv = "BULWARK_E2E_BINARY"

func TestMain(m *testing.M) {
	if testutil.InSandbox() || os.Getenv(binEnv) != "" {
		os.Exit(m.Run())
	}
	// Outside /tmp: the sandbox mounts a fresh tmpfs there.
	cache, err := os.UserCacheDir()
	if err == nil {
		err = os.MkdirAll(cache, 0o700)
	}
	dir, err := os.MkdirTemp(cache, "bulwark-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "make build dir:", err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "bulwark")
	out, err := exec.Command("go", "build", "-tags", "failpoints", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build bulwark: %v\n%s", err, out)
		os.Exit(1)
	}
	os.Setenv(binEnv, bin)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
	killed         bool
}

// run runs bulwark with the sandbox's state dir and file root; env adds
// variables (GOFAIL_FAILPOINTS).
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	p := testutil.SandboxPaths(t)
	cmd := exec.Command(os.Getenv(binEnv), args...)
	cmd.Env = append(os.Environ(), "BULWARK_STATE_DIR="+p.StateDir, "BULWARK_FILE_ROOTS="+p.FileRoot)
	cmd.Env = append(cmd.Env, env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		ws := ee.Sys().(syscall.WaitStatus)
		r.code, r.killed = ws.ExitStatus(), ws.Signaled() && ws.Signal() == syscall.SIGKILL
	} else if err != nil {
		t.Fatalf("run bulwark %v: %v", args, err)
	}
	return r
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	r := run(t, nil, args...)
	if r.code != 0 || r.killed {
		t.Fatalf("bulwark %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// startSleeper starts a process to stop, reaped when the test ends.
func startSleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// procState returns the state letter of pid from /proc/PID/stat.
func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return s[strings.LastIndexByte(s, ')')+2]
}

// waitState polls until pid is in a state other than T (want false) or in T
// (want true), and returns how long it took.
func waitStopped(t *testing.T, pid int, want bool, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if (procState(t, pid) == 'T') == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("pid %d: stopped=%v not reached within %s (state %c)", pid, want, limit, procState(t, pid))
	return 0
}

// guardPIDs lists the guard processes of the sandbox.
func guardPIDs(t *testing.T) []int {
	t.Helper()
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(string(b), "\x00")
		if len(args) > 1 && args[0] == os.Getenv(binEnv) && args[1] == "guard" {
			pids = append(pids, pid)
		}
	}
	return pids
}

func sandbox(t *testing.T) bool {
	testutil.Require(t, "root", "netns")
	testutil.Slow(t)
	return testutil.Sandbox(t)
}
