//go:build linux

package testutil_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestResidueChecker applies each kind of residue a fault could leave inside a
// sandbox, checks that a snapshot diff names it, undoes it and checks that the
// diff is empty again.
func TestResidueChecker(t *testing.T) {
	testutil.Slow(t)
	testutil.Require(t, testutil.CapRoot, testutil.CapSandbox, testutil.CapNFTables, testutil.CapTC, testutil.CapIFB)
	if !testutil.Sandbox(t) {
		return
	}
	box := testutil.SandboxPaths(t)
	ns := testutil.SandboxNetNS(t)
	nl := testutil.NetlinkHandle(t, ns.FD)
	nft := testutil.NFTConn(t, ns.FD)
	lo, err := nl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(box.FileRoot, "app.conf")
	mustWrite(t, conf, "v1\n", 0o644)
	cgroupDir := filepath.Join(box.Root, "fake-cgroup") // stands in for /sys/fs/cgroup/<ctl>/<group>
	if err := os.MkdirAll(cgroupDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(cgroupDir, "cpu.cfs_quota_us"), "-1\n", 0o644)
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })
	hosts, _ := os.ReadFile(box.HostsFile)

	opts := testutil.SnapshotOptions{
		NetNSFd:     ns.FD,
		ProcRoot:    box.ProcRoot,
		FileRoots:   []string{box.FileRoot},
		HostsFile:   box.HostsFile,
		CgroupFiles: []string{cgroupDir, filepath.Join(cgroupDir, "cpu.cfs_quota_us")},
		ExtraFiles:  []string{filepath.Join(box.StateDir, "journal")},
	}
	base := testutil.Snapshot(t, opts)
	t.Logf("baseline:\n%s", base)
	if d := base.Diff(testutil.Snapshot(t, opts)); len(d) > 0 {
		t.Fatalf("two snapshots of an idle sandbox differ:\n%s", strings.Join(d, "\n"))
	}

	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: "bulwark_fault"}
	tests := []struct {
		name        string
		apply, undo func(t *testing.T)
		want        string // prefix of one diff line
	}{
		{
			name: "nftables table with chain, rule and set",
			apply: func(t *testing.T) {
				nft.AddTable(table)
				ch := nft.AddChain(&nftables.Chain{Name: "out", Table: table, Type: nftables.ChainTypeFilter,
					Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter})
				set := &nftables.Set{Table: table, Name: "blocked", KeyType: nftables.TypeIPAddr}
				if err := nft.AddSet(set, []nftables.SetElement{{Key: []byte{192, 0, 2, 1}}}); err != nil {
					t.Fatal(err)
				}
				nft.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: []expr.Any{
					&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictAccept}}})
				flush(t, nft)
			},
			undo: func(t *testing.T) { nft.DelTable(table); flush(t, nft) },
			want: "+ nft table inet bulwark_fault",
		},
		{
			name: "tbf qdisc on lo",
			apply: func(t *testing.T) {
				if err := nl.QdiscAdd(tbf(lo)); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) {
				if err := nl.QdiscDel(tbf(lo)); err != nil {
					t.Fatal(err)
				}
			},
			want: "+ qdisc lo 1:0 parent root",
		},
		{
			name: "ingress qdisc and filter",
			apply: func(t *testing.T) {
				ing := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}
				if err := nl.QdiscAdd(ing); err != nil {
					t.Fatal(err)
				}
				f := &netlink.U32{FilterAttrs: netlink.FilterAttrs{LinkIndex: lo.Attrs().Index, Parent: netlink.MakeHandle(0xffff, 0), Priority: 1, Protocol: syscall.ETH_P_ALL},
					ClassId: netlink.MakeHandle(1, 1)}
				if err := nl.FilterAdd(f); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) {
				if err := nl.QdiscDel(&netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_INGRESS}}); err != nil {
					t.Fatal(err)
				}
			},
			want: "+ filter lo parent ffff:0 prio 1",
		},
		{
			name: "ifb device",
			apply: func(t *testing.T) {
				if err := nl.LinkAdd(&netlink.Ifb{LinkAttrs: netlink.LinkAttrs{Name: "bwifb0"}}); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) {
				l, err := nl.LinkByName("bwifb0")
				if err == nil {
					err = nl.LinkDel(l)
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			want: "+ link bwifb0 = kind=ifb",
		},
		{
			name: "address",
			apply: func(t *testing.T) {
				if err := nl.AddrAdd(lo, mustAddr(t, "198.51.100.7/32")); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) {
				if err := nl.AddrDel(lo, mustAddr(t, "198.51.100.7/32")); err != nil {
					t.Fatal(err)
				}
			},
			want: "+ addr lo 198.51.100.7/32",
		},
		{
			name: "stopped process",
			apply: func(t *testing.T) {
				signal(t, sleep.Process, syscall.SIGSTOP)
				waitState(t, sleep.Process.Pid, "stopped")
			},
			undo: func(t *testing.T) {
				signal(t, sleep.Process, syscall.SIGCONT)
				waitState(t, sleep.Process.Pid, "alive")
			},
			want: "~ proc ",
		},
		{
			name:  "changed file bytes",
			apply: func(t *testing.T) { mustWrite(t, conf, "v2\n", 0o644) },
			undo:  func(t *testing.T) { mustWrite(t, conf, "v1\n", 0o644) },
			want:  "~ file " + conf,
		},
		{
			name:  "changed file mode",
			apply: func(t *testing.T) { chmod(t, conf, 0o600) },
			undo:  func(t *testing.T) { chmod(t, conf, 0o644) },
			want:  "~ file " + conf,
		},
		{
			name: "fill file left behind",
			apply: func(t *testing.T) {
				mustWrite(t, filepath.Join(box.FileRoot, "fill.bulwark"), strings.Repeat("x", 1<<16), 0o600)
			},
			undo: func(t *testing.T) { remove(t, filepath.Join(box.FileRoot, "fill.bulwark")) },
			want: "+ file " + filepath.Join(box.FileRoot, "fill.bulwark"),
		},
		{
			name:  "extra file appears",
			apply: func(t *testing.T) { mustWrite(t, filepath.Join(box.StateDir, "journal"), "{}", 0o600) },
			undo:  func(t *testing.T) { remove(t, filepath.Join(box.StateDir, "journal")) },
			want:  "~ extra " + filepath.Join(box.StateDir, "journal"),
		},
		{
			name:  "hosts file",
			apply: func(t *testing.T) { mustWrite(t, box.HostsFile, string(hosts)+"192.0.2.1 db\n", 0o644) },
			undo:  func(t *testing.T) { mustWrite(t, box.HostsFile, string(hosts), 0o644) },
			want:  "~ hosts /etc/hosts",
		},
		{
			name: "child cgroup left behind",
			apply: func(t *testing.T) {
				if err := os.Mkdir(filepath.Join(cgroupDir, "bulwark-cpu"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T) { remove(t, filepath.Join(cgroupDir, "bulwark-cpu")) },
			want: "~ cgroup " + cgroupDir + ": children:  -> children: bulwark-cpu",
		},
		{
			name:  "cgroup limit",
			apply: func(t *testing.T) { mustWrite(t, filepath.Join(cgroupDir, "cpu.cfs_quota_us"), "50000\n", 0o644) },
			undo:  func(t *testing.T) { mustWrite(t, filepath.Join(cgroupDir, "cpu.cfs_quota_us"), "-1\n", 0o644) },
			want:  "~ cgroup " + filepath.Join(cgroupDir, "cpu.cfs_quota_us") + ": -1 -> 50000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.apply(t)
			diff := base.Diff(testutil.Snapshot(t, opts))
			found := false
			for _, line := range diff {
				found = found || strings.HasPrefix(line, tt.want)
			}
			if !found {
				t.Errorf("diff does not report %q:\n%s", tt.want, strings.Join(diff, "\n"))
			} else {
				t.Logf("diff:\n%s", strings.Join(diff, "\n"))
			}
			tt.undo(t)
			testutil.AssertUnchanged(t, base)
		})
	}
}

func tbf(lo netlink.Link) *netlink.Tbf {
	return &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		Rate: 1 << 20, Limit: 1 << 16, Buffer: 1 << 16}
}

func waitState(t *testing.T, pid int, class string) {
	t.Helper()
	waitFor(t, "process state "+class, func() bool {
		p, err := testutil.ReadProc("", pid)
		return err == nil && p.StateClass() == class
	})
}

func signal(t *testing.T, p *os.Process, sig os.Signal) {
	t.Helper()
	if err := p.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func flush(t *testing.T, c *nftables.Conn) {
	t.Helper()
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

func mustAddr(t *testing.T, cidr string) *netlink.Addr {
	t.Helper()
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
