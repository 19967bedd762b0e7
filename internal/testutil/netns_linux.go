//go:build linux

package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetNS is an isolated network namespace created by NewNetNS (or the sandbox's own,
// from SandboxNetNS). It is held only by FD: there is no /run/netns entry, so
// nothing is left on the filesystem if the test dies.
type NetNS struct {
	Name string // label for logs and link names; not a /run/netns name
	Path string // /proc/<pid>/fd/<fd>: open it from child processes (nsenter --net=Path)
	FD   int    // namespace fd for NetlinkHandle, NFTConn, InNetNS, netlink.NsFd
}

// NewNetNS creates a fresh network namespace with lo up, closed (and so deleted,
// once nothing else holds it) by t.Cleanup. It never touches the current namespace.
func NewNetNS(t testing.TB) *NetNS {
	t.Helper()
	fd := -1
	err := onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare netns: %w", err)
		}
		var err error
		fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open new netns: %w", err)
		}
		return linkUp("lo")
	})
	if err != nil {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		t.Fatalf("testutil.NewNetNS: %v", err)
	}
	ns := &NetNS{Name: "bw-" + randHex(3), FD: fd, Path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return ns
}

// SandboxNetNS returns the sandbox's own network namespace (the one the test
// process lives in), for Veth or Snapshot. It fails t outside a sandbox, so it can
// never hand out the host's namespace.
func SandboxNetNS(t testing.TB) *NetNS {
	t.Helper()
	if !sandboxReady() {
		t.Fatal("testutil.SandboxNetNS: not inside a sandbox (call testutil.Sandbox first)")
	}
	fd, err := unix.Open(ownNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("testutil.SandboxNetNS: %v", err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return &NetNS{Name: "sandbox", FD: fd, Path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)}
}

// Veth creates a veth pair with one end in a and the other in b, assigns cidrA
// ("10.0.0.1/24") and cidrB (either may be empty for no address), sets both up and
// returns the two link names. The pair is deleted by t.Cleanup.
func Veth(t testing.TB, a, b *NetNS, cidrA, cidrB string) (nameA, nameB string) {
	t.Helper()
	ha, hb := NetlinkHandle(t, a.FD), NetlinkHandle(t, b.FD)
	suffix := randHex(4)
	nameA, nameB = "bwa"+suffix, "bwb"+suffix
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(b.FD)}
	if err := ha.LinkAdd(veth); err != nil {
		t.Fatalf("testutil.Veth: add %s/%s: %v", nameA, nameB, err)
	}
	t.Cleanup(func() {
		if l, err := ha.LinkByName(nameA); err == nil {
			_ = ha.LinkDel(l) // deletes both ends
		}
	})
	for _, e := range []struct {
		h          *netlink.Handle
		name, cidr string
	}{{ha, nameA, cidrA}, {hb, nameB, cidrB}} {
		if err := setupLink(e.h, e.name, e.cidr); err != nil {
			t.Fatalf("testutil.Veth: %v", err)
		}
	}
	return nameA, nameB
}

func setupLink(h *netlink.Handle, name, cidr string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if cidr != "" {
		addr, err := netlink.ParseAddr(cidr)
		if err != nil {
			return fmt.Errorf("parse %q: %w", cidr, err)
		}
		if err := h.AddrAdd(l, addr); err != nil {
			return fmt.Errorf("add %s to %s: %w", cidr, name, err)
		}
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

// NetlinkHandle returns a netlink handle bound to the network namespace nsFD
// (netlink.NewHandleAt, rtnetlink only), closed by t.Cleanup.
func NetlinkHandle(t testing.TB, nsFD int) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(netns.NsHandle(nsFD), unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("testutil.NetlinkHandle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// NFTConn returns a lasting nftables connection bound to the network namespace
// nsFD (nftables.WithNetNSFd), closed by t.Cleanup.
func NFTConn(t testing.TB, nsFD int) *nftables.Conn {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(nsFD), nftables.AsLasting())
	if err != nil {
		t.Fatalf("testutil.NFTConn: %v", err)
	}
	t.Cleanup(func() { _ = c.CloseLasting() })
	return c
}

// InNetNS runs fn on a dedicated goroutine whose OS thread is locked and switched
// into the network namespace nsFD; the caller's goroutine and thread never change
// namespace. After fn the thread is switched back and unlocked; if switching back
// fails the thread stays locked and the runtime discards it when the goroutine
// exits. Sockets opened by fn stay in nsFD's namespace (a listener made here keeps
// working after InNetNS returns); goroutines started by fn do not inherit the
// namespace. A panic in fn is re-raised in the caller, and a runtime.Goexit in fn
// (t.FailNow) is repeated in the caller.
func InNetNS(nsFD int, fn func() error) error {
	return onLockedThread(func() (restore func() error, err error) {
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open current netns: %w", err)
		}
		if err := unix.Setns(nsFD, unix.CLONE_NEWNET); err != nil {
			_ = unix.Close(orig)
			return nil, fmt.Errorf("enter netns: %w", err)
		}
		return func() error {
			defer unix.Close(orig)
			if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("return to original netns: %w", err)
			}
			return nil
		}, nil
	}, fn)
}

// onThrowawayThread runs fn on a locked OS thread that is never unlocked, so the
// runtime destroys the thread (and whatever namespaces only it held) afterwards.
func onThrowawayThread(fn func() error) error {
	return onLockedThread(func() (func() error, error) {
		return func() error { return errKeepLocked }, nil
	}, fn)
}

// ownNetNS is the network namespace of the calling thread. Use it, not
// /proc/self/ns/net, for "this process's namespace": /proc/self follows the main
// thread, which a locked goroutine may have moved (see onLockedThread). Goroutines
// that are not locked always run on threads in the process's own namespace.
const ownNetNS = "/proc/thread-self/ns/net"

// errKeepLocked is returned by a restore func to keep its thread locked (and so
// discarded) without reporting an error.
var errKeepLocked = errors.New("keep thread locked")

// onLockedThread runs enter, fn and the restore func returned by enter on one
// goroutine locked to its thread. The thread is unlocked (and so reused) only when
// restore succeeds; otherwise it dies with the goroutine. An enter error is
// returned as is (enter must leave the thread unchanged when it fails). A panic
// or runtime.Goexit in fn is repeated in the caller.
func onLockedThread(enter func() (restore func() error, err error), fn func() error) error {
	r := runLocked(enter, fn)
	switch {
	case r.panicked:
		panic(r.pv)
	case !r.done:
		runtime.Goexit()
	}
	return r.err
}

// lockedResult is how fn ended on its locked thread.
type lockedResult struct {
	err      error
	done     bool // fn (or enter, failing) returned normally
	panicked bool
	pv       any
}

// runLocked is onLockedThread without re-raising; it never runs fn on the main
// thread.
func runLocked(enter func() (restore func() error, err error), fn func() error) lockedResult {
	ch := make(chan lockedResult, 1)
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// This is the main thread. The runtime never terminates it: a goroutine
			// exiting locked to it wedges it, still in the namespace it was moved to,
			// and /proc/self/ns/* follow the main thread. Hold it so the nested
			// goroutine cannot be scheduled here, and work on another thread.
			r := runLocked(enter, fn)
			runtime.UnlockOSThread()
			ch <- r
			return
		}
		var r lockedResult
		defer func() {
			if p := recover(); p != nil {
				r.panicked, r.pv = true, p
			}
			ch <- r
		}()
		restore, err := enter()
		if err != nil {
			runtime.UnlockOSThread()
			r.err, r.done = err, true
			return
		}
		defer func() {
			if rerr := restore(); rerr == nil {
				runtime.UnlockOSThread()
			} else if !errors.Is(rerr, errKeepLocked) {
				r.err = errors.Join(r.err, rerr)
			}
		}()
		r.err = fn()
		r.done = true
	}()
	return <-ch
}

// linkUp sets the named link up in the calling thread's network namespace.
func linkUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
