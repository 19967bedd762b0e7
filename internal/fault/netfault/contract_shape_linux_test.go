//go:build linux

package netfault_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestContractBandwidth runs the kind contract for net.bandwidth inside
// the sandbox, whose namespace gets a veth to a peer: an upload to the
// peer is capped at 8mbit.
func TestContractBandwidth(t *testing.T) {
	faulttest.Run(t, "net.bandwidth", faulttest.Case{
		Name:  "8mbit to the peer, tcp",
		Setup: sandboxPeer(map[string]string{"rate": "8mbit", "destination": "10.89.0.2", "protocol": "tcp"}),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if r := uploadRate(t); r > 1.05e6 || r < 0.9e6 {
				t.Errorf("upload through 8mbit at %.0f B/s", r)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if r := uploadRate(t); r < 4e6 {
				t.Errorf("upload after recover at %.0f B/s: still capped", r)
			}
		},
	})
}

// TestNetemContractDelay runs the kind contract for net.delay; it needs
// netem, so it runs inside the VM (TestNetemInVM).
func TestNetemContractDelay(t *testing.T) {
	requireNetem(t)
	faulttest.Run(t, "net.delay", faulttest.Case{
		Name:  "50ms to the peer",
		Setup: sandboxPeer(map[string]string{"delay": "50ms", "destination": "10.89.0.2"}),
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if d := connectTime(t); d < 50*time.Millisecond {
				t.Errorf("connect took %v under a 50ms delay", d)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if d := connectTime(t); d > 25*time.Millisecond {
				t.Errorf("connect took %v after recover", d)
			}
		},
	})
}

// sandboxPeer returns a Setup that joins the sandbox's namespace to a new
// peer namespace (10.89.0.1 ↔ 10.89.0.2) running a TCP sink on 9000, and
// returns params.
func sandboxPeer(params map[string]string) func(t *testing.T, h *fault.Host) map[string]string {
	return func(t *testing.T, h *fault.Host) map[string]string {
		self, peer := testutil.SandboxNetNS(t), testutil.NewNetNS(t)
		name, _ := testutil.Veth(t, self, peer, "10.89.0.1/24", "10.89.0.2/24")
		var l net.Listener
		if err := testutil.InNetNS(peer.FD, func() (err error) { l, err = net.Listen("tcp", "10.89.0.2:9000"); return err }); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
			}
		}()
		settleLink(t, testutil.NetlinkHandle(t, self.FD), name)
		return params
	}
}

// settleLink waits (bounded) until the link runs with its IPv6
// link-local address and local route, which would otherwise show up as
// residue.
func settleLink(t *testing.T, h *netlink.Handle, name string) {
	t.Helper()
	for range 300 {
		l, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := h.AddrList(l, netlink.FAMILY_V6)
		routes, _ := h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Table: unix.RT_TABLE_LOCAL}, netlink.RT_FILTER_TABLE)
		ok := l.Attrs().RawFlags&unix.IFF_RUNNING != 0 && len(addrs) > 0
		for _, a := range addrs {
			found := false
			for _, r := range routes {
				found = found || r.Dst != nil && r.Dst.IP.Equal(a.IP)
			}
			ok = ok && found && a.Flags&unix.IFA_F_TENTATIVE == 0
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not settle within 3s", name)
}

// uploadRate sends to the peer's sink for 1.5 s and returns the rate of
// the last second as the sender saw it acknowledged (bytes written, less
// what is still in the socket's send queue).
func uploadRate(t *testing.T) float64 {
	t.Helper()
	c, err := net.DialTimeout("tcp", "10.89.0.2:9000", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, _ := c.(*net.TCPConn).SyscallConn()
	unacked := func() int64 {
		var n int
		_ = raw.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		return int64(n)
	}
	var sent int64
	buf := make([]byte, 16<<10)
	deadline := time.Now().Add(1500 * time.Millisecond)
	var n0 int64
	var t0 time.Time
	for time.Now().Before(deadline) {
		if t0.IsZero() && time.Until(deadline) < time.Second {
			n0, t0 = sent-unacked(), time.Now()
		}
		_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := c.Write(buf)
		sent += int64(n)
	}
	return float64(sent-unacked()-n0) / time.Since(t0).Seconds()
}

// connectTime returns how long a TCP connect to the peer's sink takes.
// connectTime returns the fastest of five TCP connects to the peer: a delay
// raises every one of them, while a stall of the emulated VM's scheduler
// (tens of ms under TCG on a loaded host) only some.
func connectTime(t *testing.T) time.Duration {
	t.Helper()
	best := time.Duration(1<<63 - 1)
	for range 5 {
		t0 := time.Now()
		c, err := net.DialTimeout("tcp", "10.89.0.2:9000", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		best = min(best, time.Since(t0))
	}
	return best
}
