//go:build linux

package nstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// NS is a network namespace made by New.
type NS struct {
	FD   int
	Path string // /proc/<pid>/fd/<fd>, a path any process may open
}

// Usable returns why network namespaces and nf_tables cannot be used here,
// or nil.
func Usable() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	ns, err := newNS()
	if err != nil {
		return err
	}
	defer unix.Close(ns.FD)
	c, err := nft.Open(ns.Path, 0)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ListTables()
	return err
}

// Require skips t when Usable fails, and fails it under CI=true.
func Require(t testing.TB) {
	t.Helper()
	if err := Usable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespaces with nf_tables needed: %v", err)
		}
		t.Skipf("network namespaces with nf_tables needed: %v", err)
	}
}

// New creates a namespace with lo up, released by t.Cleanup.
func New(t testing.TB) *NS {
	t.Helper()
	ns, err := newNS()
	if err != nil {
		t.Fatalf("nstest.New: %v", err)
	}
	t.Cleanup(ns.Close)
	return ns
}

// Close releases the namespace (it dies once nothing else holds it). It may
// be called more than once.
func (ns *NS) Close() {
	if ns.FD >= 0 {
		unix.Close(ns.FD)
		ns.FD = -1
	}
}

func newNS() (*NS, error) {
	fd := -1
	err := onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare netns: %w", err)
		}
		var err error
		if fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return fmt.Errorf("open new netns: %w", err)
		}
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	return &NS{FD: fd, Path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)}, nil
}

// onThrowawayThread runs fn on a locked OS thread that is never unlocked, so
// whatever namespace fn moves it to dies with it.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- fn()
	}()
	return <-errc
}

// Do runs fn on a throwaway thread inside the namespace; sockets fn opens
// belong to the namespace for their whole life.
func (ns *NS) Do(fn func() error) error {
	return onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare fs: %w", err)
		}
		if err := unix.Setns(ns.FD, unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
		return fn()
	})
}

// Listen opens a TCP listener inside the namespace that accepts connections
// and answers each with "ok"; closed by t.Cleanup.
func (ns *NS) Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	err := ns.Do(func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
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
	return l
}

// ListenUDP opens a UDP socket inside the namespace that echoes datagrams;
// closed by t.Cleanup.
func (ns *NS) ListenUDP(t testing.TB, addr string) net.PacketConn {
	t.Helper()
	var pc net.PacketConn
	err := ns.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp", addr)
		return err
	})
	if err != nil {
		t.Fatalf("listen on udp %s: %v", addr, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return pc
}

// Dial connects from inside the namespace to a TCP listener made by Listen
// and reads its answer. It returns nil when the flow works.
func (ns *NS) Dial(addr string, timeout time.Duration) error {
	return ns.DialFrom("", addr, timeout)
}

// DialFrom is Dial from a given local IP address.
func (ns *NS) DialFrom(local, addr string, timeout time.Duration) error {
	return ns.Do(func() error {
		d := net.Dialer{Timeout: timeout}
		if local != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		b, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		if string(b) != "ok" {
			return fmt.Errorf("answer %q", b)
		}
		return nil
	})
}

// DialUDP sends a datagram from inside the namespace and waits for the echo.
func (ns *NS) DialUDP(addr string, timeout time.Duration) error {
	return ns.Do(func() error {
		c, err := net.DialTimeout("udp", addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		buf := make([]byte, 16)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) != "ping" {
			return fmt.Errorf("echo %q", buf[:n])
		}
		return nil
	})
}

// Veth joins a and b with a veth pair, gives the ends the addresses cidrA
// and cidrB ("10.99.0.1/24") and sets them up. Deleting a's end (in
// t.Cleanup, or with the namespaces) deletes both.
func Veth(t testing.TB, a, b *NS, cidrA, cidrB string) {
	t.Helper()
	ha, err := netlink.NewHandleAt(netns.NsHandle(a.FD))
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	defer ha.Close()
	hb, err := netlink.NewHandleAt(netns.NsHandle(b.FD))
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	defer hb.Close()
	suffix := randHex(3)
	nameA, nameB := "bwa"+suffix, "bwb"+suffix
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(b.FD)}
	if err := ha.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	for _, e := range []struct {
		h          *netlink.Handle
		name, cidr string
	}{{ha, nameA, cidrA}, {hb, nameB, cidrB}} {
		l, err := e.h.LinkByName(e.name)
		if err != nil {
			t.Fatalf("find %s: %v", e.name, err)
		}
		addr, err := netlink.ParseAddr(e.cidr)
		if err != nil {
			t.Fatalf("parse %s: %v", e.cidr, err)
		}
		if err := e.h.AddrAdd(l, addr); err != nil {
			t.Fatalf("add %s: %v", e.cidr, err)
		}
		if err := e.h.LinkSetUp(l); err != nil {
			t.Fatalf("set %s up: %v", e.name, err)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Ruleset returns a full, canonical dump of the namespace's nftables
// ruleset: every table with its sets, elements, chains and rules.
func (ns *NS) Ruleset(t testing.TB) string {
	t.Helper()
	c, err := nft.Open(ns.Path, 0)
	if err != nil {
		t.Fatalf("open nft: %v", err)
	}
	defer c.Close()
	names, err := c.ListTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fam, name, _ := strings.Cut(n, " ")
		st, err := c.Read(nft.ParseFamily(fam), name)
		if err != nil {
			t.Fatalf("read %s: %v", n, err)
		}
		fmt.Fprintf(&b, "table %s\n", n)
		if st == nil {
			continue
		}
		for _, s := range st.Sets {
			fmt.Fprintf(&b, "  set %s %s interval=%t timeout=%t %v\n", s.Name, s.Key, s.Interval, s.HasTimeout, s.ElementRanges())
		}
		for _, ch := range st.Chains {
			fmt.Fprintf(&b, "  chain %s hook %d prio %d\n", ch.Name, ch.Hook, int32(ch.Priority))
			for _, r := range ch.Rules {
				fmt.Fprintf(&b, "    %s\n", r.Text)
			}
		}
	}
	return b.String()
}
