//go:build linux

package netfault_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

func TestMain(m *testing.M) { faulttest.Main(m) }

// TestContract runs the kind contract suite inside the sandbox, whose own
// network namespace is the host: a TCP flow on 8080 is cut, 8081 is not.
func TestContract(t *testing.T) {
	faulttest.Run(t, kindID,
		faulttest.Case{
			Name:   "tcp port egress drop",
			Setup:  listen8080and8081,
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) { checkFlows(t, false) },
			Gone:   func(t *testing.T, h *fault.Host) { checkFlows(t, true) },
		},
		faulttest.Case{
			Name: "everything, both directions, reject, management port kept",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				listen8080and8081(t, h)
				h.Management.TCPPorts = []uint16{8081}
				return map[string]string{"action": "reject"}
			},
			Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) { checkFlows(t, false) },
			Gone:   func(t *testing.T, h *fault.Host) { checkFlows(t, true) },
		},
	)
}

func listen8080and8081(t *testing.T, _ *fault.Host) map[string]string {
	for _, a := range []string{"127.0.0.1:8080", "127.0.0.1:8081"} {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte("ok"))
				c.Close()
			}
		}()
	}
	return map[string]string{"destination": "127.0.0.1", "port": "8080", "protocol": "tcp", "direction": "egress"}
}

// checkFlows checks that 8081 works and 8080 works exactly when open is set.
func checkFlows(t *testing.T, open bool) {
	t.Helper()
	if err := dial("127.0.0.1:8081", 2*time.Second); err != nil {
		t.Errorf("8081 should work: %v", err)
	}
	wait := cutWait
	if open {
		wait = 2 * time.Second
	}
	if err := dial("127.0.0.1:8080", wait); (err == nil) != open {
		t.Errorf("8080 open=%t, want %t (%v)", err == nil, open, err)
	}
}

func dial(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	_, err = io.ReadAll(c)
	return err
}
