//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

const kindID = "net.partition"

// cutWait is how long a dial may take before the flow counts as cut.
const cutWait = 300 * time.Millisecond

// newHost returns a host acting in ns with a temporary state directory and
// no management plane unless the test sets one.
func newHost(t testing.TB, ns *nstest.NS) *fault.Host {
	t.Helper()
	h := fault.DefaultHost(t.TempDir())
	h.NetNSPath = ns.Path
	h.Management = fault.Management{}
	return h
}

func openManager(t testing.TB, h *fault.Host) *hostmgr.Manager {
	t.Helper()
	m, err := hostmgr.Open(context.Background(), hostmgr.Config{StateDir: h.StateDir, Host: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func inject(t testing.TB, m *hostmgr.Manager, params map[string]string, d time.Duration) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: kindID, Params: params, Duration: bulwark.Duration(d)})
	if err != nil {
		t.Fatalf("inject %v: %v", params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %v: state %s", params, f.State)
	}
	for _, e := range f.Evidence {
		if !e.OK {
			t.Fatalf("inject %v: failing evidence %+v", params, e)
		}
	}
	return f
}

func recoverFault(t testing.TB, m *hostmgr.Manager, id string) {
	t.Helper()
	out, err := m.Recover(context.Background(), id)
	if err != nil || out[0].State != bulwark.StateRecovered {
		t.Fatalf("recover %s: %v %+v", id, err, out)
	}
}

// mustWork fails t unless the TCP flow to addr works.
func mustWork(t testing.TB, ns *nstest.NS, addr string) {
	t.Helper()
	if err := ns.Dial(addr, 2*time.Second); err != nil {
		t.Errorf("flow to %s should work: %v", addr, err)
	}
}

// mustBeCut fails t unless a TCP connection to addr fails: refused when
// refused is true, otherwise by timing out.
func mustBeCut(t testing.TB, ns *nstest.NS, addr string, refused bool) {
	t.Helper()
	err := ns.Dial(addr, cutWait)
	switch {
	case err == nil:
		t.Errorf("flow to %s should be cut, it works", addr)
	case refused && !errors.Is(err, syscall.ECONNREFUSED):
		t.Errorf("flow to %s should be refused: %v", addr, err)
	case !refused && !isTimeout(err):
		t.Errorf("flow to %s should time out: %v", addr, err)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout() || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}

func evidenceText(f *bulwark.Fault) string {
	var b strings.Builder
	for _, e := range f.Evidence {
		b.WriteString(e.Check + ": " + e.Detail + "\n")
	}
	return b.String()
}
