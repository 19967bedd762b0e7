//go:build linux

package tc

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Major is the major number of Bulwark's root htb ("b0b:"); its leaf
// classes are b0b:N, and their leaf qdiscs have majors chosen by the faults
// between MinLeafMajor and MaxLeafMajor.
const (
	Major        = 0xb0b
	MinLeafMajor = 0xc000
	MaxLeafMajor = 0xfef0
	// FirstMinor and LastMinor bound the fault classes on one interface.
	FirstMinor = 2
	LastMinor  = 0xff
)

// ClassHandle returns the class handle b0b:minor.
func ClassHandle(minor uint16) uint32 { return netlink.MakeHandle(Major, minor) }

// NewMajor returns a random leaf major for a new fault. Two faults on one
// interface drawing the same one is a chance of about 1 in 16000; the
// second then fails at Add and can be injected again.
func NewMajor() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return MinLeafMajor + binary.BigEndian.Uint16(b[:])%(MaxLeafMajor-MinLeafMajor+1)
}

// ErrNetNSGone means the namespace a fault was applied in no longer exists;
// its qdiscs went with it.
var ErrNetNSGone = errors.New("network namespace is gone")

// ErrLinkGone means the interface no longer exists; its qdiscs went with it.
var ErrLinkGone = errors.New("interface is gone")

// Tree is one interface's egress qdisc tree, locked for the caller until
// Close. Open it, change it, close it: never hold one across a wait.
type Tree struct {
	h       *netlink.Handle
	ns      *os.File
	link    netlink.Link
	nsInode uint64
	lock    *os.File
	record  string
}

// Open locks the record of interface ifname (dir/<netns inode>-<ifindex>)
// and returns its tree. nsPath is the namespace file (empty for this
// process's own), checked against nsInode when that is not zero.
func Open(dir, nsPath string, nsInode uint64, ifname string) (*Tree, error) {
	t := &Tree{}
	if err := t.openNS(nsPath, nsInode); err != nil {
		return nil, err
	}
	link, err := t.h.LinkByName(ifname)
	if err != nil {
		t.closeHandle()
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("interface %s: %w", ifname, ErrLinkGone)
		}
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	t.link = link
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.closeHandle()
		return nil, err
	}
	base := filepath.Join(dir, strconv.FormatUint(t.nsInode, 10)+"-"+strconv.Itoa(link.Attrs().Index))
	t.record = base + ".json"
	t.lock, err = os.OpenFile(base+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = unix.Flock(int(t.lock.Fd()), unix.LOCK_EX)
	}
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("lock the qdisc record of %s: %w", ifname, err)
	}
	return t, nil
}

func (t *Tree) openNS(path string, inode uint64) error {
	if path == "" {
		path = "/proc/thread-self/ns/net" // not /proc/self: a probe may have left the main thread in a scratch namespace
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open network namespace %s: %w", path, ErrNetNSGone)
	}
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return fmt.Errorf("stat network namespace %s: %w", path, err)
	}
	if inode != 0 && st.Ino != inode {
		f.Close()
		return fmt.Errorf("network namespace %s is now inode %d, not %d: %w", path, st.Ino, inode, ErrNetNSGone)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(f.Fd()), unix.NETLINK_ROUTE) // rtnetlink only: xfrm or nfnetlink may be missing
	if err != nil {
		f.Close()
		return fmt.Errorf("open rtnetlink in network namespace %s: %w", path, err)
	}
	t.h, t.ns, t.nsInode = h, f, st.Ino
	return nil
}

// Link returns the interface.
func (t *Tree) Link() netlink.Link { return t.link }

// NetNSInode returns the inode of the tree's network namespace.
func (t *Tree) NetNSInode() uint64 { return t.nsInode }

// Close unlocks the record and releases the netlink handle.
func (t *Tree) Close() error {
	if t.lock != nil {
		t.lock.Close() // releases the flock
		t.lock = nil
	}
	t.closeHandle()
	return nil
}

func (t *Tree) closeHandle() {
	if t.h != nil {
		t.h.Close()
		t.h = nil
	}
	if t.ns != nil {
		t.ns.Close()
		t.ns = nil
	}
}

// root returns the link's root qdisc, nil for none.
func (t *Tree) root() (netlink.Qdisc, error) {
	qs, err := t.h.QdiscList(t.link)
	if err != nil {
		return nil, fmt.Errorf("list qdiscs of %s: %w", t.name(), err)
	}
	for _, q := range qs {
		if q.Attrs().Parent == netlink.HANDLE_ROOT {
			return q, nil
		}
	}
	return nil, nil
}

// Owned reports whether Bulwark's htb is the link's root.
func (t *Tree) Owned() (bool, error) {
	q, err := t.root()
	if err != nil {
		return false, err
	}
	return isOurs(q), nil
}

func isOurs(q netlink.Qdisc) bool {
	return q != nil && q.Type() == "htb" && q.Attrs().Handle == netlink.MakeHandle(Major, 0)
}

func (t *Tree) name() string { return t.link.Attrs().Name }
