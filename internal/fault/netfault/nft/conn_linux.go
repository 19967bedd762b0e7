//go:build linux

package nft

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// ErrNetNSGone means the namespace a fault was applied in no longer exists:
// its path is gone or now leads to another namespace. The namespace's rules
// went with it.
var ErrNetNSGone = errors.New("network namespace is gone")

// Conn is a netlink connection to nf_tables bound to one network namespace.
// It is not safe for concurrent use. Close it when done.
type Conn struct {
	nc *nftables.Conn
	ns *os.File
}

// Open returns a Conn in the network namespace at path, or in the process's
// own namespace when path is empty. A non-zero inode must be that of the
// namespace reached: for a path, a mismatch or a missing file means the
// namespace is gone (ErrNetNSGone); for the process's own namespace, a
// mismatch means this process runs elsewhere and cannot reach it.
func Open(path string, inode uint64) (*Conn, error) {
	c := &Conn{}
	opts := []nftables.ConnOption{nftables.AsLasting()}
	if path == "" {
		if err := checkOwnNetNS(inode); err != nil {
			return nil, err
		}
	} else {
		f, err := openNetNS(path, inode)
		if err != nil {
			return nil, err
		}
		c.ns = f
		opts = append(opts, nftables.WithNetNSFd(int(f.Fd())))
	}
	nc, err := nftables.New(opts...)
	if err != nil {
		c.closeNS()
		return nil, fmt.Errorf("open nftables netlink socket: %w", err)
	}
	c.nc = nc
	return c, nil
}

func openNetNS(path string, inode uint64) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open network namespace %s: %w", path, ErrNetNSGone)
	}
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	if inode == 0 {
		return f, nil
	}
	got, err := inodeOf(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat network namespace %s: %w", path, err)
	}
	if got != inode {
		f.Close()
		return nil, fmt.Errorf("network namespace %s is now inode %d, not %d: %w", path, got, inode, ErrNetNSGone)
	}
	return f, nil
}

func checkOwnNetNS(inode uint64) error {
	if inode == 0 {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return fmt.Errorf("stat own network namespace: %w", err)
	}
	if st.Ino != inode {
		return fmt.Errorf("network namespace %d is not this process's (%d); run from that namespace", inode, st.Ino)
	}
	return nil
}

func inodeOf(f *os.File) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// Close releases the netlink socket and the namespace file.
func (c *Conn) Close() error {
	err := c.nc.CloseLasting()
	c.closeNS()
	if err != nil {
		return fmt.Errorf("close nftables netlink socket: %w", err)
	}
	return nil
}

func (c *Conn) closeNS() {
	if c.ns != nil {
		c.ns.Close()
		c.ns = nil
	}
}

// ListTables returns the names of every table in the namespace as
// "family name" ("inet bulwark_…"). It doubles as the probe that nf_tables
// is reachable at all.
func (c *Conn) ListTables() ([]string, error) {
	ts, err := c.nc.ListTables()
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", explain(err))
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, FamilyName(t.Family)+" "+t.Name)
	}
	return out, nil
}

// Exists reports whether the table is there.
func (c *Conn) Exists(family nftables.TableFamily, name string) (bool, error) {
	_, err := c.nc.ListTableOfFamily(name, family)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, fmt.Errorf("look up table %s %s: %w", FamilyName(family), name, explain(err))
}

// explain adds what a bare errno means for nf_tables.
func explain(err error) error {
	switch {
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("%w (needs root or CAP_NET_ADMIN)", err)
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		return fmt.Errorf("%w (kernel without nf_tables)", err)
	}
	return err
}

// FamilyName returns the nft name of a table family ("inet", "ip", "ip6").
func FamilyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return fmt.Sprintf("family%d", f)
}

// ParseFamily is the inverse of FamilyName; an unknown name gives
// TableFamilyUnspecified.
func ParseFamily(name string) nftables.TableFamily {
	for _, f := range []nftables.TableFamily{
		nftables.TableFamilyINet, nftables.TableFamilyIPv4, nftables.TableFamilyIPv6,
		nftables.TableFamilyARP, nftables.TableFamilyBridge, nftables.TableFamilyNetdev,
	} {
		if FamilyName(f) == name {
			return f
		}
	}
	return nftables.TableFamilyUnspecified
}
