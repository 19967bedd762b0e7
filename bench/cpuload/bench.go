//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cpu"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// bench holds a host manager on a throwaway state directory whose helpers
// are this program.
type bench struct {
	dir    string
	exe    string
	m      *hostmgr.Manager
	stress string // path of stress-ng, "" when not installed
}

func newBench(ctx context.Context) (*bench, error) {
	dir, err := os.MkdirTemp("", "cpuload-bench-")
	if err != nil {
		return nil, err
	}
	h := fault.DefaultHost(dir)
	m, err := hostmgr.Open(ctx, hostmgr.Config{StateDir: dir, Host: h})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stress, _ := exec.LookPath("stress-ng")
	return &bench{dir: dir, exe: h.Exe, m: m, stress: stress}, nil
}

func (b *bench) close() {
	_, _ = b.m.RecoverAll(context.Background())
	_ = b.m.Close()
	os.RemoveAll(b.dir)
}

func (b *bench) stressVersion() string {
	if b.stress == "" {
		return "not installed (apt-get install stress-ng for the side-by-side)"
	}
	out, _ := exec.Command(b.stress, "--version").Output()
	return strings.TrimSpace(string(out))
}

// inject starts a cpu.load fault and returns it with its helper's pid and
// the CPU the helper pinned.
func (b *bench) inject(ctx context.Context, params map[string]string, d time.Duration) (*bulwark.Fault, int, int, error) {
	f, err := b.m.Inject(ctx, bulwark.FaultSpec{Kind: cpu.ID, Params: params, Duration: bulwark.Duration(d)})
	if err != nil {
		return nil, 0, 0, err
	}
	pid, err := helperPID(b.exe, f.ID)
	if err != nil {
		return f, 0, 0, err
	}
	boostSession(pid)
	st, err := cpu.ReadStatus(filepath.Join(b.dir, "data", f.ID, "status.json"))
	if err != nil {
		return f, pid, 0, err
	}
	return f, pid, st.CPUs[0], nil
}

func (b *bench) recover(ctx context.Context, f *bulwark.Fault) error {
	_, err := b.m.Recover(ctx, f.ID)
	return err
}

// startStress starts `stress-ng --cpu 1 --cpu-load pct` pinned to cpu in its
// own process group.
func (b *bench) startStress(pct float64, cpuN int, d time.Duration) (*exec.Cmd, error) {
	if b.stress == "" {
		return nil, errors.New("stress-ng is not installed")
	}
	cmd := exec.Command(b.stress, "--cpu", "1", "--cpu-load", fmt.Sprint(pct), "--taskset", fmt.Sprint(cpuN),
		"--timeout", fmt.Sprintf("%ds", int(d.Seconds())+1), "--quiet")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // its own session, like the helper
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start stress-ng: %w", err)
	}
	boostSession(cmd.Process.Pid)
	return cmd, nil
}

// stopGroup ends a process group we started and reaps its leader.
func stopGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
}

// startBurner starts this program as a background burner of pct percent of
// cpuN, for the hold run.
func (b *bench) startBurner(pct float64, cpuN int) (*exec.Cmd, error) {
	cmd := exec.Command(b.exe, "burn", fmt.Sprint(cpuN), fmt.Sprint(pct))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start burner: %w", err)
	}
	boostSession(cmd.Process.Pid)
	return cmd, nil
}

// boost says whether boostSession raises the measured loads' priority.
var boost bool

// boostSession sets the autogroup nice of pid's session to -19 when -boost
// is on. The autogroup's weight, not the threads' nice, decides its share
// against other sessions.
func boostSession(pid int) {
	if !boost {
		return
	}
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/autogroup", pid), []byte("-19"), 0); err != nil {
		fmt.Fprintln(os.Stderr, "cpuload: boost:", err)
	}
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
