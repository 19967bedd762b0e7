//go:build linux

package tc_test

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/bulwarkhq/bulwark/internal/fault/netfault/tc"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// world is a namespace with a veth pair to a peer namespace.
type world struct {
	ns, peer *testutil.NetNS
	link     string
	h        *netlink.Handle
	dir      string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	testutil.Require(t, "root", "netns")
	ns, peer := testutil.NewNetNS(t), testutil.NewNetNS(t)
	a, _ := testutil.Veth(t, ns, peer, "10.77.0.1/24", "10.77.0.2/24")
	w := &world{ns: ns, peer: peer, link: a, h: testutil.NetlinkHandle(t, ns.FD), dir: t.TempDir()}
	w.settle(t)
	return w
}

// settle waits (bounded) until the link is running and has its IPv6
// link-local address, which the kernel adds on its own a moment after the
// link comes up: a snapshot taken before would see it as residue.
func (w *world) settle(t *testing.T) {
	t.Helper()
	for range 200 {
		l, err := w.h.LinkByName(w.link)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := w.h.AddrList(l, netlink.FAMILY_V6)
		if l.Attrs().RawFlags&syscall.IFF_RUNNING != 0 && len(addrs) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not come up with a link-local address within 2s", w.link)
}

// open returns the tree, locked until the caller closes it.
func (w *world) open(t *testing.T) *tc.Tree {
	t.Helper()
	tr, err := tc.Open(w.dir, w.ns.Path, 0, w.link)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// remove removes class m on a freshly opened tree.
func (w *world) remove(m uint16) error {
	tr, err := tc.Open(w.dir, w.ns.Path, 0, w.link)
	if err != nil {
		return err
	}
	defer tr.Close()
	return tr.Remove(m)
}

func (w *world) snapshot(t *testing.T) *testutil.HostSnapshot {
	return testutil.Snapshot(t, testutil.SnapshotOptions{NetNSFd: w.ns.FD, NoProcs: true})
}

func (w *world) linkIndex(t *testing.T) int {
	l, err := w.h.LinkByName(w.link)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Index
}

// addRemove adds two fault classes, checks that removing the first keeps
// the second and the root, and that removing the second restores the tree,
// each step on a freshly opened tree as separate processes would.
func addRemove(t *testing.T, w *world) {
	t.Helper()
	before := w.snapshot(t)
	a, b := tc.NewMajor(), tc.NewMajor()
	for a == b {
		b = tc.NewMajor()
	}
	ma := mustAdd(t, w.open(t), tc.Leaf{Major: a, Rate: 8_000_000})
	mb := mustAdd(t, w.open(t), tc.Leaf{Major: b})
	if ma == mb {
		t.Fatalf("two faults got the same class %d", ma)
	}
	if err := w.remove(a); err != nil {
		t.Fatal(err)
	}
	tr := w.open(t)
	if owned, err := tr.Owned(); err != nil || !owned {
		t.Fatalf("after the first of two recovers the root should still be bulwark's: %v %v", owned, err)
	}
	if st, err := tr.Read(b); err != nil || !st.Present || st.Rate != tc.UnlimitedRate {
		t.Fatalf("the second fault's class should be untouched: %+v %v", st, err)
	}
	if st, err := tr.Read(a); err != nil || st.Present {
		t.Fatalf("the first fault's class should be gone: %+v %v", st, err)
	}
	tr.Close()
	for range 2 { // idempotent
		if err := w.remove(b); err != nil {
			t.Fatal(err)
		}
	}
	testutil.AssertUnchanged(t, before)
}

func mustAdd(t *testing.T, tr *tc.Tree, l tc.Leaf) uint16 {
	t.Helper()
	m, err := tr.Add(l)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	return m
}

func TestDefaultRootRestored(t *testing.T) {
	addRemove(t, newWorld(t))
}

func TestTbfRootRestoredExactly(t *testing.T) {
	w := newWorld(t)
	tbf := &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: w.linkIndex(t), Handle: netlink.MakeHandle(7, 0), Parent: netlink.HANDLE_ROOT},
		Rate: 1_000_000, Limit: 50_000, Buffer: 200_000}
	if err := w.h.QdiscAdd(tbf); err != nil {
		t.Fatal(err)
	}
	addRemove(t, w)
}

func TestHtbTreeRestoredExactly(t *testing.T) {
	w := newWorld(t)
	idx := w.linkIndex(t)
	root := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT})
	root.Defcls = 0x10
	if err := w.h.QdiscAdd(root); err != nil {
		t.Fatal(err)
	}
	parent := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: idx, Parent: netlink.MakeHandle(1, 0), Handle: netlink.MakeHandle(1, 1)},
		netlink.HtbClassAttrs{Rate: 100_000_000, Ceil: 100_000_000})
	leaf := netlink.NewHtbClass(netlink.ClassAttrs{LinkIndex: idx, Parent: netlink.MakeHandle(1, 1), Handle: netlink.MakeHandle(1, 0x10)},
		netlink.HtbClassAttrs{Rate: 10_000_000, Ceil: 50_000_000, Prio: 3})
	for _, c := range []netlink.Class{parent, leaf} {
		if err := w.h.ClassAdd(c); err != nil {
			t.Fatal(err)
		}
	}
	addRemove(t, w)
}

// TestUnrestorableTreeRefused checks that a root bulwark cannot recreate
// exactly (a tc filter in it) is left alone, with the reason.
func TestUnrestorableTreeRefused(t *testing.T) {
	w := newWorld(t)
	idx := w.linkIndex(t)
	root := netlink.NewHtb(netlink.QdiscAttrs{LinkIndex: idx, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT})
	if err := w.h.QdiscAdd(root); err != nil {
		t.Fatal(err)
	}
	f := &netlink.U32{FilterAttrs: netlink.FilterAttrs{LinkIndex: idx, Parent: netlink.MakeHandle(1, 0), Priority: 1, Protocol: syscall.ETH_P_IP},
		ClassId: netlink.MakeHandle(1, 1)}
	if err := w.h.FilterAdd(f); err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	tr := w.open(t)
	_, err := tr.Add(tc.Leaf{Major: tc.NewMajor()})
	tr.Close()
	if err == nil || !strings.Contains(err.Error(), "filter") {
		t.Fatalf("want a refusal naming the filter, got %v", err)
	}
	testutil.AssertUnchanged(t, before)
}

// TestPriorityClassifies proves what the netfault kinds rely on: htb puts
// a packet whose skb->priority names one of its leaf classes into that
// class, without any tc filter. The socket sets the priority itself here
// (SO_PRIORITY); in the kinds an nftables rule does.
func TestPriorityClassifies(t *testing.T) {
	w := newWorld(t)
	tr := w.open(t)
	major := tc.NewMajor()
	m, err := tr.Add(tc.Leaf{Major: major})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	t.Cleanup(func() { _ = w.remove(major) })
	const n = 20
	err = testutil.InNetNS(w.ns.FD, func() error {
		c, err := net.ListenPacket("udp", "10.77.0.1:0")
		if err != nil {
			return err
		}
		defer c.Close()
		raw, _ := c.(*net.UDPConn).SyscallConn()
		var serr error
		if err := raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PRIORITY, int(tc.ClassHandle(m)))
		}); err != nil {
			return err
		}
		if serr != nil {
			return serr
		}
		for range n {
			if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(10, 77, 0, 2), Port: 9}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tr = w.open(t)
	st, err := tr.Read(major)
	tr.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent < n {
		t.Fatalf("class %x sent %d packets, want at least %d", tc.ClassHandle(m), st.Sent, n)
	}
}
