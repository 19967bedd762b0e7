//go:build linux

package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func init() {
	probes[CapRoot] = probeRoot
	probes[CapNetNS] = func() error { return probeUnshare(unix.CLONE_NEWNET) }
	probes[CapMountNS] = func() error { return probeUnshare(unix.CLONE_NEWNS) }
	probes[CapPIDNS] = func() error { return probeUnshare(unix.CLONE_NEWPID) }
	probes[CapSandbox] = func() error {
		if err := probeRoot(); err != nil {
			return err
		}
		return probeUnshare(sandboxCloneFlags)
	}
	probes[CapNFTables] = probeNFTables
	probes[CapTC] = func() error {
		return probeQdisc(&netlink.Tbf{Rate: 1 << 20, Limit: 1 << 16, Buffer: 1 << 16})
	}
	probes[CapNetem] = func() error { return probeQdisc(&netlink.Netem{Latency: 1000, Limit: 1000}) }
	probes[CapIFB] = func() error { return probeLink(&netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: "probe0"}}) }
	probes[CapVeth] = func() error {
		return probeLink(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "probe0"}, PeerName: "probe1"})
	}
	probes[CapCgroup] = func() error { return probeCgroup(true, true) }
	probes[CapCgroupV1] = func() error { return probeCgroup(true, false) }
	probes[CapCgroupV2] = func() error { return probeCgroup(false, true) }
	probes[CapSystemd] = func() error {
		// sd_booted(3): the directory exists only when systemd is PID 1 of the host.
		if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
			return errors.New("not booted with systemd (no /run/systemd/system)")
		}
		return nil
	}
	probes[CapPostgres] = probePostgres
	probes[CapQEMU] = func() error { _, err := exec.LookPath("qemu-system-x86_64"); return err }
	probes[CapLinux] = func() error { return nil }
	probes[CapWindows] = func() error { return errors.New("needs windows, this is " + runtime.GOOS) }
}

func probeRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("euid is %d, not 0", os.Geteuid())
	}
	return nil
}

// probeUnshare unshares flags on a throwaway OS thread.
func probeUnshare(flags int) error {
	return onThrowawayThread(func() error {
		if err := unix.Unshare(flags); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		return nil
	})
}

// inThrowawayNetNS runs fn on a throwaway OS thread moved into a new, empty network
// namespace; netlink and nftables calls without a namespace fd act on that
// namespace. The thread (and with it the namespace) is discarded afterwards.
func inThrowawayNetNS(fn func() error) error {
	return onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare netns: %w", err)
		}
		return fn()
	})
}

func probeNFTables() error {
	return inThrowawayNetNS(func() error {
		c, err := nftables.New()
		if err != nil {
			return err
		}
		c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "bulwark_probe"})
		if err := c.Flush(); err != nil {
			return fmt.Errorf("add nftables table: %w", err)
		}
		_, err = c.ListTables()
		return err
	})
}

func probeQdisc(q netlink.Qdisc) error {
	return inThrowawayNetNS(func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		*q.Attrs() = netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT}
		if err := netlink.QdiscAdd(q); err != nil {
			return fmt.Errorf("add %s qdisc: %w", q.Type(), err)
		}
		return nil
	})
}

func probeLink(l netlink.Link) error {
	return inThrowawayNetNS(func() error {
		if err := netlink.LinkAdd(l); err != nil {
			return fmt.Errorf("add %s link: %w", l.Type(), err)
		}
		return nil
	})
}

func probeCgroup(v1, v2 bool) error {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return fmt.Errorf("statfs /sys/fs/cgroup: %w", err)
	}
	hasV2 := st.Type == unix.CGROUP2_SUPER_MAGIC
	if !hasV2 {
		if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			hasV2 = true
		}
	}
	hasV1 := false
	if ents, err := os.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, e := range ents {
			var sub unix.Statfs_t
			if unix.Statfs(filepath.Join("/sys/fs/cgroup", e.Name()), &sub) == nil && sub.Type == unix.CGROUP_SUPER_MAGIC {
				hasV1 = true
				break
			}
		}
	}
	switch {
	case v1 && v2 && (hasV1 || hasV2), v1 && !v2 && hasV1, v2 && !v1 && hasV2:
		return nil
	}
	return fmt.Errorf("no matching cgroup hierarchy (v1 mounted: %t, v2 mounted: %t)", hasV1, hasV2)
}

func probePostgres() error {
	for _, b := range []string{"initdb", "pg_ctl"} {
		if _, err := exec.LookPath(b); err == nil {
			continue
		}
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + b); len(m) > 0 {
			continue
		}
		return fmt.Errorf("%s not found on PATH or in /usr/lib/postgresql/*/bin", b)
	}
	return nil
}
