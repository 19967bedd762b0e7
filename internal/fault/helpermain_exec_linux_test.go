package fault_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// TestMain lets this test binary stand in for the bulwark binary, so that
// the helpers registered below run as `<exe> helper NAME ARGS…`.
func TestMain(m *testing.M) { faulttest.Main(m) }

func init() {
	fault.RegisterHelper("frame-test", fault.HelperMain("frame-test", func() fault.HelperBody { return new(frameTestBody) }))
	fault.RegisterHelper("frame-parent", frameParent)
}

// frameStatus is frame-test's status file.
type frameStatus struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// frameTestBody is the smallest real helper: it reports, holds nothing
// until its context ends, and reports why.
type frameTestBody struct{ fault.HelperArgs }

func (*frameTestBody) Flags(*flag.FlagSet) {}
func (*frameTestBody) Check() error        { return nil }

func (b *frameTestBody) Run(ctx context.Context) error {
	if err := b.WriteStatus(frameStatus{State: "running"}); err != nil {
		return err
	}
	<-ctx.Done()
	return b.WriteStatus(frameStatus{State: "exited", Reason: context.Cause(ctx).Error()})
}

// frameParent is `helper frame-parent DIR ARGS…`: it starts `<exe> ARGS…`
// as a fault's helper would be (Host.StartHelper, log in DIR), prints its
// pid and waits to be killed.
func frameParent(_ context.Context, args []string) error {
	if len(args) < 2 {
		return errors.New("frame-parent: want DIR ARGS…")
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	h := &fault.Host{ProcRoot: "/proc"}
	p, err := h.StartHelper(exe, args[1:], args[0])
	if err != nil {
		return err
	}
	fmt.Println(p.PID)
	time.Sleep(time.Hour)
	return nil
}

// TestHelperOutlivesKilledParent starts a helper from a parent process,
// SIGKILLs the parent, and sees the helper end by itself at its absolute
// deadline: it reports a deadline reason and exits.
func TestHelperOutlivesKilledParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := &fault.Host{ProcRoot: "/proc", StateDir: t.TempDir()}
	dir, status, err := h.HelperFiles("F1")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	parent := exec.Command(exe, "helper", "frame-parent", dir,
		"helper", "frame-test", "--fault", "F1", "--deadline", deadline.UTC().Format(time.RFC3339Nano), "--status", status)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = parent.Process.Kill(); _ = parent.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		t.Fatalf("frame-parent printed %q (%v, %v); helper log: %s", line, err, perr, fault.LogTail(dir))
	}
	helper, _, err := h.Identify(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.StopHelper(context.Background(), helper, time.Second, time.Second) })
	waitStatus(t, status, "running", dir)
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	if !h.Alive(helper) {
		t.Fatal("the helper died with its parent")
	}
	s := waitStatus(t, status, "exited", dir)
	if !strings.HasPrefix(s.Reason, "deadline (") {
		t.Errorf("helper exited for %q, want its deadline", s.Reason)
	}
	if !h.WaitGone(context.Background(), helper, 10*time.Second) {
		t.Errorf("helper %s still runs after reporting its exit", helper)
	}
}

// waitStatus polls the status file until it reads state, failing after a
// generous bound (not a timing assertion: the helper's deadline is 2 s).
func waitStatus(t *testing.T, path, state, dir string) frameStatus {
	t.Helper()
	end := time.Now().Add(15 * time.Second)
	for {
		var s frameStatus
		if err := fault.ReadStatusFile(path, &s); err == nil && s.State == state {
			return s
		}
		if time.Now().After(end) {
			t.Fatalf("no %q status in %s; helper log: %s", state, path, fault.LogTail(dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
