//go:build linux

package netfault_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/internal/nstest"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

const ntpKind = "ntp.block"

// udpWait is how long an echo may take before the datagram counts as
// dropped; a working echo on loopback answers in microseconds.
const udpWait = 400 * time.Millisecond

func injectNTP(t testing.TB, m *hostmgr.Manager, params map[string]string, d time.Duration) *bulwark.Fault {
	t.Helper()
	f, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: ntpKind, Params: params, Duration: bulwark.Duration(d)})
	if err != nil {
		t.Fatalf("inject %v: %v", params, err)
	}
	if f.State != bulwark.StateActive {
		t.Fatalf("inject %v: state %s", params, f.State)
	}
	return f
}

// udpWorks sends a datagram to an echo server and retries once, so that a
// loaded machine does not make a working flow look cut.
func udpWorks(ns *nstest.NS, addr string) error {
	err := ns.DialUDP(addr, udpWait)
	if err != nil {
		err = ns.DialUDP(addr, 2*time.Second)
	}
	return err
}

func TestNTPBlockEffect(t *testing.T) {
	nstest.Require(t)
	tests := []struct {
		name   string
		params map[string]string
		cut    []string
		open   []string
	}{
		{"ntp and ptp", nil, []string{"127.0.0.1:123", "127.0.0.1:319", "127.0.0.1:320", "[::1]:123"}, []string{"127.0.0.1:124"}},
		{"ntp only", map[string]string{"ptp": "false"}, []string{"127.0.0.1:123"}, []string{"127.0.0.1:319", "127.0.0.1:320"}},
		{"one server", map[string]string{"server": "127.0.0.1/32"}, []string{"127.0.0.1:123"}, []string{"[::1]:123"}},
		{"another server", map[string]string{"server": "10.0.0.0/8,fd00::/8"}, nil, []string{"127.0.0.1:123", "[::1]:123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := nstest.New(t)
			for _, a := range append(append([]string{}, tt.cut...), tt.open...) {
				ns.ListenUDP(t, a)
			}
			h := newHost(t, ns)
			before := ns.Ruleset(t)
			for _, a := range append(append([]string{}, tt.cut...), tt.open...) {
				if err := udpWorks(ns, a); err != nil {
					t.Fatalf("before the fault, udp %s: %v", a, err)
				}
			}
			m := openManager(t, h)
			f := injectNTP(t, m, tt.params, time.Minute)
			for _, a := range tt.cut {
				if err := ns.DialUDP(a, udpWait); !dropped(err) {
					t.Errorf("udp %s should be dropped, got %v", a, err)
				}
			}
			for _, a := range tt.open {
				if err := udpWorks(ns, a); err != nil {
					t.Errorf("udp %s should work: %v", a, err)
				}
			}
			if txt := evidenceText(f); !strings.Contains(txt, "ntp_ports") || !strings.Contains(txt, "source or destination port") {
				t.Errorf("evidence:\n%s", txt)
			}
			recoverFault(t, m, f.ID)
			if after := ns.Ruleset(t); after != before {
				t.Errorf("ruleset after recover:\n%s\nwant:\n%s", after, before)
			}
			for _, a := range tt.cut {
				if err := udpWorks(ns, a); err != nil {
					t.Errorf("after recover, udp %s: %v", a, err)
				}
			}
		})
	}
}

// TestNTPBlockSourcePort proves the drop of answers: a client bound to
// port 123 (as ntpd's is) talking to a peer on another port is cut too.
func TestNTPBlockSourcePort(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.ListenUDP(t, "127.0.0.1:5000")
	h := newHost(t, ns)
	m := openManager(t, h)
	f := injectNTP(t, m, nil, time.Minute)
	err := ns.Do(func() error {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 123}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000})
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(udpWait))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 16))
		return err
	})
	if !dropped(err) {
		t.Errorf("udp from port 123 should be dropped, got %v", err)
	}
	recoverFault(t, m, f.ID)
}

func TestNTPBlockBadInput(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	h.Management.Networks = nil
	m := openManager(t, h)
	before := ns.Ruleset(t)
	for _, tt := range []struct {
		name   string
		params map[string]string
		param  string
	}{
		{"hostname", map[string]string{"server": "ntp.example.com"}, "server"},
		{"injection", map[string]string{"server": "10.0.0.1;flush ruleset"}, "server"},
		{"empty", map[string]string{"server": ""}, "server"},
		{"ptp not a bool", map[string]string{"ptp": "maybe"}, "ptp"},
		{"unknown", map[string]string{"port": "123"}, "port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: ntpKind, Params: tt.params, Duration: bulwark.Duration(time.Minute)})
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != tt.param {
				t.Fatalf("Inject(%v) = %v, want a ParamError naming --%s", tt.params, err, tt.param)
			}
		})
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset changed:\n%s", after)
	}
}

// TestNTPBlockManagementServer refuses a server inside the management
// plane: the fault would cut nothing.
func TestNTPBlockManagementServer(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	h := newHost(t, ns)
	h.Management.Networks = append(h.Management.Networks, netip.MustParsePrefix("10.1.0.0/16"))
	m := openManager(t, h)
	_, err := m.Inject(context.Background(), bulwark.FaultSpec{Kind: ntpKind, Params: map[string]string{"server": "10.1.2.3"}, Duration: bulwark.Duration(time.Minute)})
	var pe *fault.ParamError
	if !errors.As(err, &pe) || pe.Param != "server" {
		t.Fatalf("inject = %v, want a ParamError naming --server", err)
	}
}

// TestNTPBlockKernelExpiry: with every process gone, the kernel's element
// timeouts reopen the flow; the sweep then deletes the table.
func TestNTPBlockKernelExpiry(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.ListenUDP(t, "127.0.0.1:123")
	h := newHost(t, ns)
	before := ns.Ruleset(t)
	m := openManager(t, h)
	f := injectNTP(t, m, nil, time.Second)
	m.Close() // as if every bulwark process were gone
	deadline := f.ActiveAt.Add(10 * time.Second)
	for ns.DialUDP("127.0.0.1:123", udpWait) != nil {
		if time.Now().After(deadline) {
			t.Fatal("ntp still dropped 10 s after a 1 s fault")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ntp back %v after activation, with no process recovering", time.Since(*f.ActiveAt).Round(time.Millisecond))
	m = openManager(t, h)
	r, _ := m.Receipt(context.Background(), f.ID)
	k, _ := fault.Lookup(ntpKind)
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err != nil {
		t.Errorf("status after kernel expiry reports drift: %v", err)
	}
	swept, err := m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep: %v %+v", err, swept)
	}
	if after := ns.Ruleset(t); after != before {
		t.Errorf("ruleset after sweep:\n%s\nwant:\n%s", after, before)
	}
}

// TestNTPBlockContract runs the contract suite in the sandbox: a UDP echo
// on 127.0.0.1:123 is silenced, one on :124 keeps answering.
func TestNTPBlockContract(t *testing.T) {
	faulttest.Run(t, ntpKind, faulttest.Case{
		Name: "ntp and ptp",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			for _, a := range []string{"127.0.0.1:123", "127.0.0.1:124"} {
				pc, err := net.ListenPacket("udp", a)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pc.Close() })
				go echo(pc)
			}
			return nil
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if err := udpEcho("127.0.0.1:123", udpWait); !dropped(err) {
				t.Error("udp/123 answered during ntp.block")
			}
			if err := udpEcho("127.0.0.1:124", 2*time.Second); err != nil {
				t.Errorf("udp/124 should work: %v", err)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if err := udpEcho("127.0.0.1:123", 2*time.Second); err != nil {
				t.Errorf("udp/123 after recover: %v", err)
			}
		},
	})
}

// dropped reports whether a datagram exchange failed the way a drop makes
// it fail: the local output hook's drop returns EPERM to the sender, a drop
// on the way in leaves it waiting.
func dropped(err error) bool {
	return err != nil && (errors.Is(err, syscall.EPERM) || isTimeout(err))
}

func echo(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(buf[:n], from)
	}
}

func udpEcho(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("udp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 16))
	return err
}
