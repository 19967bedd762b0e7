//go:build linux

package netfault_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// frame is what htb charges for a full TCP segment of 1448 bytes over
// IPv4 with timestamps: 1448 + 32 (TCP) + 20 (IP) + 14 (Ethernet).
const tcpPayload, tcpFrame = 1448.0, 1514.0

// within fails t unless got is within tol (0.05 for 5 %) of want.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	t.Logf("%s: %.0f B/s, want %.0f ± %.0f%%", what, got, want, tol*100)
	if got < want*(1-tol) || got > want*(1+tol) {
		t.Errorf("%s: %.0f B/s is not within %.0f%% of %.0f B/s", what, got, tol*100, want)
	}
}

// TestBandwidthCapsTCP caps a TCP upload to the peer at 8mbit: the peer
// receives 1 MB/s of frames, less the headers, within 5 %.
func TestBandwidthCapsTCP(t *testing.T) {
	p := newPair(t)
	s := p.tcpSink(t, peer4+":9000")
	h := newHost(t, p.ns)
	m := openManager(t, h)
	free := p.rate(t, s, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond)
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp"}, time.Minute)
	t.Log(evidenceText(f))
	within(t, "tcp through 8mbit", p.rate(t, s, "tcp", peer4+":9000", time.Second, 2*time.Second), 1e6*tcpPayload/tcpFrame, 0.05)
	recoverFault(t, m, f.ID)
	if after := p.rate(t, s, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond); after < 5e6 {
		t.Errorf("after recover the flow runs at %.0f B/s (before the fault %.0f): still capped", after, free)
	}
}

// TestBandwidthComposes runs two faults on one interface whose root is a
// tbf someone else set up: each flow gets its own cap, the first recover
// leaves the second fault alone, and the last puts the tbf back exactly.
func TestBandwidthComposes(t *testing.T) {
	p := newPair(t)
	idx := p.linkIndex(t)
	tbf := &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(7, 0), Parent: netlink.HANDLE_ROOT},
		Rate: 125_000_000, Limit: 1_000_000, Buffer: 200_000}
	if err := p.handle(t).QdiscAdd(tbf); err != nil {
		t.Fatal(err)
	}
	p.settle(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NetNSFd: p.ns.FD, NoProcs: true})
	s0, s1 := p.tcpSink(t, peer4+":9000"), p.tcpSink(t, peer4+":9001")
	h := newHost(t, p.ns)
	m := openManager(t, h)
	f1 := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp"}, time.Minute)
	f2 := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "16mbit", "destination": peer4, "port": "9001", "protocol": "tcp"}, time.Minute)
	within(t, "9000 through 8mbit", p.rate(t, s0, "tcp", peer4+":9000", time.Second, 1500*time.Millisecond), 1e6*tcpPayload/tcpFrame, 0.05)
	within(t, "9001 through 16mbit", p.rate(t, s1, "tcp", peer4+":9001", time.Second, 1500*time.Millisecond), 2e6*tcpPayload/tcpFrame, 0.05)
	recoverFault(t, m, f1.ID)
	if r := p.rate(t, s0, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("9000 after its fault's recover: %.0f B/s, still capped", r)
	}
	within(t, "9001 after the other fault's recover", p.rate(t, s1, "tcp", peer4+":9001", time.Second, 1500*time.Millisecond), 2e6*tcpPayload/tcpFrame, 0.05)
	recoverFault(t, m, f2.ID)
	testutil.AssertUnchanged(t, before)
}

// TestBandwidthIPv6UDP caps a UDP flow to an IPv6 address and leaves the
// same port over IPv4 alone.
func TestBandwidthIPv6UDP(t *testing.T) {
	p := newPair(t)
	s6, s4 := p.udpSink(t, "["+peer6+"]:9002"), p.udpSink(t, peer4+":9002")
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer6, "port": "9002", "protocol": "udp"}, time.Minute)
	// 1200 bytes of payload in 1200 + 8 (UDP) + 40 (IPv6) + 14 (Ethernet).
	within(t, "udp over ipv6 through 8mbit", p.rate(t, s6, "udp", "["+peer6+"]:9002", 500*time.Millisecond, 1500*time.Millisecond), 1e6*1200/1262, 0.05)
	if r := p.rate(t, s4, "udp", peer4+":9002", 200*time.Millisecond, 500*time.Millisecond); r < 3e6 {
		t.Errorf("udp over ipv4 is not the fault's but runs at %.0f B/s", r)
	}
	recoverFault(t, m, f.ID)
}

// TestBandwidthKeepsManagement caps everything on the interface but the
// management port.
func TestBandwidthKeepsManagement(t *testing.T) {
	p := newPair(t)
	s0, s1 := p.tcpSink(t, peer4+":9000"), p.tcpSink(t, peer4+":9001")
	h := newHost(t, p.ns)
	h.Management.TCPPorts = []uint16{9001}
	m := openManager(t, h)
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "interface": p.link}, time.Minute)
	within(t, "9000 through 8mbit", p.rate(t, s0, "tcp", peer4+":9000", time.Second, 1500*time.Millisecond), 1e6*tcpPayload/tcpFrame, 0.05)
	if r := p.rate(t, s1, "tcp", peer4+":9001", 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("the management port runs at %.0f B/s: capped", r)
	}
	recoverFault(t, m, f.ID)
}

// TestBandwidthExpiresInKernel injects a short fault and lets the manager
// die without recovering: the kernel's element timeouts end the cap by
// themselves, and a later sweep removes what is left.
func TestBandwidthExpiresInKernel(t *testing.T) {
	p := newPair(t)
	p.settle(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NetNSFd: p.ns.FD, NoProcs: true})
	s := p.tcpSink(t, peer4+":9000")
	h := newHost(t, p.ns)
	m := openManager(t, h)
	injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4}, time.Second)
	m.Close() // as if the agent were killed: nothing recovers
	time.Sleep(2500 * time.Millisecond)
	if r := p.rate(t, s, "tcp", peer4+":9000", 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("after the kernel expiry the flow runs at %.0f B/s: still capped", r)
	}
	m2 := openManager(t, h)
	if swept, err := m2.Sweep(context.Background()); err != nil || len(swept) != 1 || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep: %v %+v", err, swept)
	}
	testutil.AssertUnchanged(t, before)
}

// TestBandwidthIngress caps a download from the peer through the
// interface's ingress (u32 filter, mirred to an ifb device): the flow on
// 9000 gets 8mbit, 9001 keeps its speed, and recovery leaves no ifb
// device, filter or ingress qdisc behind.
func TestBandwidthIngress(t *testing.T) {
	p := newPair(t)
	p.settle(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NetNSFd: p.ns.FD, NoProcs: true})
	in := &pair{ns: p.peer, peer: p.ns} // sends from the peer to sinks in ns
	s0, s1 := in.tcpSink(t, "10.88.0.1:9000"), in.tcpSink(t, "10.88.0.1:9001")
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "port": "9000", "protocol": "tcp", "direction": "ingress"}, time.Minute)
	t.Log(evidenceText(f))
	within(t, "download on 9000 through 8mbit", in.rate(t, s0, "tcp", "10.88.0.1:9000", time.Second, 1500*time.Millisecond), 1e6*tcpPayload/tcpFrame, 0.05)
	if r := in.rate(t, s1, "tcp", "10.88.0.1:9001", 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("download on 9001 is not the fault's but runs at %.0f B/s", r)
	}
	recoverFault(t, m, f.ID)
	testutil.AssertUnchanged(t, before)
}

// TestBandwidthIngressKeepsManagement caps everything arriving, but the
// peer's IPv4 address is a management network: UDP from the peer's IPv6
// address is capped, TCP from its IPv4 address is not.
func TestBandwidthIngressKeepsManagement(t *testing.T) {
	p := newPair(t)
	in := &pair{ns: p.peer, peer: p.ns}
	s6, s4 := in.udpSink(t, "[fd88::1]:9002"), in.tcpSink(t, "10.88.0.1:9000")
	h := newHost(t, p.ns)
	h.Management.Networks = []netip.Prefix{netip.MustParsePrefix(peer4 + "/32")}
	m := openManager(t, h)
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "direction": "ingress", "interface": p.link}, time.Minute)
	within(t, "udp over ipv6 arriving through 8mbit", in.rate(t, s6, "udp", "[fd88::1]:9002", 500*time.Millisecond, 1500*time.Millisecond), 1e6*1200/1262, 0.05)
	if r := in.rate(t, s4, "tcp", "10.88.0.1:9000", 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("tcp from the management network runs at %.0f B/s: capped", r)
	}
	recoverFault(t, m, f.ID)
}

// TestBandwidthStatusReportsDrift deletes the fault's class behind its back:
// Status says so, and recover still restores the tree.
func TestBandwidthStatusReportsDrift(t *testing.T) {
	p := newPair(t)
	p.settle(t)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NetNSFd: p.ns.FD, NoProcs: true})
	h := newHost(t, p.ns)
	m := openManager(t, h)
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4}, time.Minute)
	r, err := m.Receipt(context.Background(), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := fault.Lookup("net.bandwidth")
	st := k.(fault.Statuser)
	if _, err := st.Status(context.Background(), h, r); err != nil {
		t.Fatalf("status of an intact fault: %v", err)
	}
	nh := p.handle(t)
	l, _ := nh.LinkByName(p.link)
	classes, err := nh.ClassList(l, netlink.MakeHandle(0xb0b, 0))
	if err != nil || len(classes) != 1 {
		t.Fatalf("classes under b0b: %v %v", classes, err)
	}
	if err := nh.ClassDel(classes[0]); err != nil {
		t.Fatal(err)
	}
	ev, err := st.Status(context.Background(), h, r)
	if err == nil {
		t.Fatalf("status after the class was deleted reports no drift: %+v", ev)
	}
	t.Logf("drift: %v", err)
	recoverFault(t, m, f.ID)
	testutil.AssertUnchanged(t, before)
}

// TestBandwidthMulticast caps a UDP multicast feed (239.1.2.3, as market
// data is sent) leaving through the veth the group's route names.
func TestBandwidthMulticast(t *testing.T) {
	p := newPair(t)
	nh := p.handle(t)
	l, err := nh.LinkByName(p.link)
	if err != nil {
		t.Fatal(err)
	}
	if err := nh.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: &net.IPNet{IP: net.IPv4(224, 0, 0, 0), Mask: net.CIDRMask(4, 32)}}); err != nil {
		t.Fatal(err)
	}
	s := &sink{}
	var pc *net.UDPConn
	err = p.peer.Do(func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifs {
			if i.Flags&net.FlagLoopback == 0 {
				pc, err = net.ListenMulticastUDP("udp4", &i, &net.UDPAddr{IP: net.IPv4(239, 1, 2, 3), Port: 9200})
				return err
			}
		}
		return fmt.Errorf("no interface in the peer")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			s.n.Add(int64(n))
		}
	}()
	m := openManager(t, newHost(t, p.ns))
	f := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": "239.1.2.3", "protocol": "udp"}, time.Minute)
	if ev := evidenceText(f); !strings.Contains(ev, "on "+p.link) {
		t.Errorf("the fault is not on the group's route's interface %s:\n%s", p.link, ev)
	}
	// 1200 bytes of payload in 1200 + 8 (UDP) + 20 (IPv4) + 14 (Ethernet).
	within(t, "multicast through 8mbit", p.rate(t, s, "udp", "239.1.2.3:9200", 500*time.Millisecond, 1500*time.Millisecond), 1e6*1200/1242, 0.05)
	recoverFault(t, m, f.ID)
}

// TestBandwidthSourcePort caps by source port, egress and ingress: an
// upload from local ports 41000-41010 and a download from the peer's
// port 41005 are capped; the same flows from other ports are not.
func TestBandwidthSourcePort(t *testing.T) {
	p := newPair(t)
	out := p.tcpSink(t, peer4+":9000")
	in := &pair{ns: p.peer, peer: p.ns}
	down := in.tcpSink(t, "10.88.0.1:9000")
	m := openManager(t, newHost(t, p.ns))
	fe := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "source-port": "41000-41010", "protocol": "tcp"}, time.Minute)
	fi := injectKind(t, m, "net.bandwidth", map[string]string{"rate": "8mbit", "destination": peer4, "source-port": "41005", "protocol": "tcp", "direction": "ingress"}, time.Minute)
	within(t, "upload from port 41003", p.rateFrom(t, out, "tcp", peer4+":9000", 41003, time.Second, 1500*time.Millisecond), 1e6*tcpPayload/tcpFrame, 0.05)
	if r := p.rateFrom(t, out, "tcp", peer4+":9000", 42000, 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("upload from port 42000 is not the fault's but runs at %.0f B/s", r)
	}
	within(t, "download from the peer's port 41005", in.rateFrom(t, down, "tcp", "10.88.0.1:9000", 41005, time.Second, 1500*time.Millisecond), 1e6*tcpPayload/tcpFrame, 0.05)
	if r := in.rateFrom(t, down, "tcp", "10.88.0.1:9000", 42001, 200*time.Millisecond, 500*time.Millisecond); r < 4e6 {
		t.Errorf("download from the peer's port 42001 is not the fault's but runs at %.0f B/s", r)
	}
	recoverFault(t, m, fe.ID)
	recoverFault(t, m, fi.ID)
}
