//go:build linux

package exhaust_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

// probeHelper is a test-only helper: a target process that, for each line on
// stdin, tries what the line says and answers "ok" or the errno's name.
const probeHelper = "exhaust-test-probe"

func init() { fault.RegisterHelper(probeHelper, runProbe) }

// TestMain lets the test binary stand in for bulwark (the port.exhaust
// helper) and for the probe targets.
func TestMain(m *testing.M) { faulttest.Main(m) }

// runProbe answers "open" (open and close /dev/null), "hold" (open it and
// keep it open) and "fork" (run /bin/true).
func runProbe(_ context.Context, _ []string) error {
	in := bufio.NewScanner(os.Stdin)
	var held []*os.File
	for in.Scan() {
		var err error
		switch in.Text() {
		case "open":
			var f *os.File
			if f, err = os.Open("/dev/null"); err == nil {
				err = f.Close()
			}
		case "hold":
			var f *os.File
			if f, err = os.Open("/dev/null"); err == nil {
				held = append(held, f)
			}
		case "fork":
			err = exec.Command("/bin/true").Run()
		default:
			err = fmt.Errorf("unknown command %q", in.Text())
		}
		fmt.Println(errName(err))
	}
	return nil
}

func errName(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return unixErrName(errno)
	default:
		return err.Error()
	}
}

func unixErrName(e syscall.Errno) string {
	switch e {
	case syscall.EMFILE:
		return "EMFILE"
	case syscall.EAGAIN:
		return "EAGAIN"
	case syscall.EADDRNOTAVAIL:
		return "EADDRNOTAVAIL"
	}
	return e.Error()
}

// probe is a running target started by the test.
type probe struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// startProbe starts the test binary as a probe target, ended by its pid when
// the test ends.
func startProbe(t *testing.T, exe string) *probe {
	t.Helper()
	cmd := exec.Command(exe, "helper", probeHelper)
	// One P keeps the Go runtime from wanting new threads while pid.exhaust
	// leaves it none.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &probe{cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(p.stop)
	if got := p.try(t, "open"); got != "ok" {
		t.Fatalf("probe's first open: %s", got)
	}
	return p
}

// try sends one command and returns the answer.
func (p *probe) try(t *testing.T, what string) string {
	t.Helper()
	if _, err := io.WriteString(p.in, what+"\n"); err != nil {
		t.Fatalf("probe %s: %v", what, err)
	}
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() { s, err := p.out.ReadString('\n'); ch <- answer{strings.TrimSpace(s), err} }()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("probe %s: %v", what, a.err)
		}
		return a.s
	case <-time.After(20 * time.Second):
		t.Fatalf("probe %s: no answer in 20s", what)
	}
	return ""
}

func (p *probe) pid() int { return p.cmd.Process.Pid }

// stop ends the probe by its pid and reaps it.
func (p *probe) stop() {
	_ = p.in.Close()
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}
