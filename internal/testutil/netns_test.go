//go:build linux

package testutil_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestNetNS joins two fresh namespaces with a veth pair, talks TCP across it
// through InNetNS, and checks that nothing is visible from the sandbox's own
// namespace. It runs in a sandbox although NewNetNS never touches the current
// namespace: belt and braces.
func TestNetNS(t *testing.T) {
	testutil.Slow(t)
	testutil.Require(t, testutil.CapRoot, testutil.CapSandbox, testutil.CapVeth, testutil.CapNFTables)
	if !testutil.Sandbox(t) {
		return
	}
	a, b := testutil.NewNetNS(t), testutil.NewNetNS(t)
	nameA, nameB := testutil.Veth(t, a, b, "10.77.0.1/24", "10.77.0.2/24")

	t.Run("LinksLandInTheirNamespaces", func(t *testing.T) {
		for _, c := range []struct {
			ns         *testutil.NetNS
			want, deny string
		}{{a, nameA, nameB}, {b, nameB, nameA}} {
			h := testutil.NetlinkHandle(t, c.ns.FD)
			if _, err := h.LinkByName(c.want); err != nil {
				t.Errorf("%s not in its namespace: %v", c.want, err)
			}
			if _, err := h.LinkByName(c.deny); err == nil {
				t.Errorf("%s visible in the other namespace", c.deny)
			}
			lo, err := h.LinkByName("lo")
			if err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
				t.Errorf("lo not up in %s: %v", c.ns.Name, err)
			}
		}
		own := testutil.NetlinkHandle(t, testutil.SandboxNetNS(t).FD)
		if links, _ := own.LinkList(); len(links) != 1 {
			t.Errorf("sandbox namespace has %d links, want only lo", len(links))
		}
	})

	t.Run("TCPAcrossVethWithInNetNS", func(t *testing.T) {
		var ln net.Listener
		if err := testutil.InNetNS(b.FD, func() (err error) {
			ln, err = net.Listen("tcp", "10.77.0.2:0")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				_, _ = c.Write([]byte("hi"))
				c.Close()
			}
		}()
		var got []byte
		if err := testutil.InNetNS(a.FD, func() error {
			c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			got, err = io.ReadAll(c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if string(got) != "hi" {
			t.Errorf("read %q", got)
		}
		// The sandbox namespace has no route to 10.77.0.0/24.
		if c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond); err == nil {
			c.Close()
			t.Error("reached namespace b from the sandbox namespace")
		}
	})

	t.Run("NFTConnIsBound", func(t *testing.T) {
		ca := testutil.NFTConn(t, a.FD)
		ca.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "only_in_a"})
		if err := ca.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			fd   int
			want int
		}{{"a", a.FD, 1}, {"b", b.FD, 0}, {"sandbox", testutil.SandboxNetNS(t).FD, 0}} {
			tables, err := testutil.NFTConn(t, c.fd).ListTables()
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != c.want {
				t.Errorf("namespace %s has %d tables, want %d", c.name, len(tables), c.want)
			}
		}
	})

	t.Run("InNetNSLeavesCallerAlone", func(t *testing.T) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before := nsID(t)
		inside := ""
		if err := testutil.InNetNS(a.FD, func() error { inside = nsID(t); return nil }); err != nil {
			t.Fatal(err)
		}
		if inside == before {
			t.Error("fn did not run in the target namespace")
		}
		if after := nsID(t); after != before {
			t.Errorf("caller's thread moved from %s to %s", before, after)
		}
		if own := nsIDOf(t, "/proc/self/ns/net"); own != before {
			t.Errorf("/proc/self/ns/net = %s, want %s (main thread moved)", own, before)
		}
	})

	t.Run("InNetNSErrorsAndPanics", func(t *testing.T) {
		called := false
		if err := testutil.InNetNS(-1, func() error { called = true; return nil }); err == nil || called {
			t.Errorf("bad fd: err = %v, fn called = %t", err, called)
		}
		sentinel := errors.New("sentinel")
		if err := testutil.InNetNS(a.FD, func() error { return sentinel }); !errors.Is(err, sentinel) {
			t.Errorf("fn error lost: %v", err)
		}
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		_ = testutil.InNetNS(a.FD, func() error { panic("boom") })
	})
}

// TestNewNetNSOutsideSandbox shows NewNetNS is safe without a sandbox: the new
// namespace is private and the current one is untouched.
func TestNewNetNSOutsideSandbox(t *testing.T) {
	testutil.Require(t, testutil.CapRoot, testutil.CapNetNS)
	before := nsIDOf(t, "/proc/thread-self/ns/net")
	ns := testutil.NewNetNS(t)
	h := testutil.NetlinkHandle(t, ns.FD)
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Attrs().Name != "lo" || links[0].Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("new namespace links = %v, want lo up", links)
	}
	if id := nsIDOf(t, ns.Path); id == before {
		t.Error("NewNetNS returned the current namespace")
	}
	if after := nsIDOf(t, "/proc/thread-self/ns/net"); after != before {
		t.Errorf("current namespace changed: %s -> %s", before, after)
	}
}

func nsID(t *testing.T) string { return nsIDOf(t, "/proc/thread-self/ns/net") }

func nsIDOf(t *testing.T, path string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
