//go:build linux

package main_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// These drive net.bandwidth through the binary, as TestGuardEndsFault… and
// TestKillEverything… do for process.hang: the guard recovers the qdisc
// tree at expiry with no command run; and after kill -9 of every bulwark
// process the kernel-side expiry of the fault's nftables elements ends the
// cap by itself, and the next command recovers the rest.

// shapedPeer joins the sandbox's namespace to a new peer (10.90.0.1 ↔
// 10.90.0.2) running a TCP sink on 9000, and waits until the link has
// settled, so that a snapshot taken now is stable.
func shapedPeer(t *testing.T) {
	t.Helper()
	self, peer := testutil.SandboxNetNS(t), testutil.NewNetNS(t)
	name, _ := testutil.Veth(t, self, peer, "10.90.0.1/24", "10.90.0.2/24")
	var l net.Listener
	if err := testutil.InNetNS(peer.FD, func() (err error) { l, err = net.Listen("tcp", "10.90.0.2:9000"); return err }); err != nil {
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
	h := testutil.NetlinkHandle(t, self.FD)
	for range 300 {
		lk, err := h.LinkByName(name)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := h.AddrList(lk, netlink.FAMILY_V6)
		routes, _ := h.RouteListFiltered(netlink.FAMILY_V6, &netlink.Route{Table: unix.RT_TABLE_LOCAL}, netlink.RT_FILTER_TABLE)
		ok := lk.Attrs().RawFlags&unix.IFF_RUNNING != 0 && len(addrs) > 0
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

// uploadRate returns the rate at which the peer's sink took bytes in the
// last second of 1.5 s, as the sender saw them acknowledged.
func uploadRate(t *testing.T) float64 {
	t.Helper()
	c, err := net.DialTimeout("tcp", "10.90.0.2:9000", 2*time.Second)
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
	var sent, n0 int64
	var t0 time.Time
	buf := make([]byte, 16<<10)
	for deadline := time.Now().Add(1500 * time.Millisecond); time.Now().Before(deadline); {
		if t0.IsZero() && time.Until(deadline) < time.Second {
			n0, t0 = sent-unacked(), time.Now()
		}
		_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := c.Write(buf)
		sent += int64(n)
	}
	return float64(sent-unacked()-n0) / time.Since(t0).Seconds()
}

// TestBandwidthGuardRestoresTree: an 8mbit cap ends at expiry by the guard
// alone, and the qdisc tree and ruleset are as before.
func TestBandwidthGuardRestoresTree(t *testing.T) {
	if !sandbox(t) {
		return
	}
	shapedPeer(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NoProcs: true})
	mustRun(t, "fault", "inject", "net.bandwidth", "--rate", "8mbit", "--destination", "10.90.0.2", "--duration", "3s")
	if r := uploadRate(t); r > 1.1e6 {
		t.Fatalf("upload at %.0f B/s under an 8mbit cap", r)
	}
	waitNoGuard(t)
	testutil.AssertUnchanged(t, before)
}

// TestBandwidthAfterKill9: with the guard killed (no systemd here), the
// kernel's element timeouts end the cap at expiry by themselves; the next
// `bulwark fault list` recovers what is left and the host is as before.
func TestBandwidthAfterKill9(t *testing.T) {
	if !sandbox(t) {
		return
	}
	shapedPeer(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NoProcs: true})
	mustRun(t, "fault", "inject", "net.bandwidth", "--rate", "8mbit", "--destination", "10.90.0.2", "--duration", "2s")
	guards := guardPIDs(t)
	if len(guards) != 1 {
		t.Fatalf("guards after inject: %v", guards)
	}
	for _, g := range guards {
		syscallKill(t, g)
	}
	if r := uploadRate(t); r > 1.1e6 {
		t.Fatalf("upload at %.0f B/s under an 8mbit cap", r)
	}
	time.Sleep(2 * time.Second) // past the deadline and the kernel's 1 s slack
	if r := uploadRate(t); r < 4e6 {
		t.Errorf("upload at %.0f B/s after the kernel-side expiry, with every bulwark process killed: still capped", r)
	}
	mustRun(t, "fault", "list")
	testutil.AssertUnchanged(t, before)
}
