//go:build linux

package testutil_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// hostOpts is what the parent half of TestSandbox checks on the host: the network
// state of its namespace, /etc/hosts, and that the sandbox's scratch root never
// appears in the host's /tmp. Processes are left out: on a shared machine other
// processes come and go.
func hostOpts() testutil.SnapshotOptions {
	return testutil.SnapshotOptions{NoProcs: true, ExtraFiles: []string{"/tmp/bulwark-sandbox"}}
}

// TestSandbox does damage inside the sandbox and checks, in the parent after the
// child exited, that the host saw none of it.
func TestSandbox(t *testing.T) {
	testutil.Slow(t)
	testutil.Require(t, testutil.CapRoot, testutil.CapSandbox, testutil.CapNFTables, testutil.CapTC)
	var before *testutil.HostSnapshot
	var hostHosts []byte
	var hostname string
	if !testutil.InSandbox() {
		before = testutil.Snapshot(t, hostOpts())
		hostHosts, _ = os.ReadFile("/etc/hosts")
		hostname, _ = os.Hostname()
	}
	if !testutil.Sandbox(t) {
		testutil.AssertUnchanged(t, before)
		if b, _ := os.ReadFile("/etc/hosts"); !bytes.Equal(b, hostHosts) {
			t.Errorf("host /etc/hosts changed by the sandbox:\n%s", b)
		}
		if h, _ := os.Hostname(); h != hostname {
			t.Errorf("host hostname changed to %q", h)
		}
		return
	}

	t.Run("Identity", func(t *testing.T) {
		if os.Getpid() != 1 {
			t.Errorf("pid = %d, want 1", os.Getpid())
		}
		if h, _ := os.Hostname(); h != testutil.SandboxHostname {
			t.Errorf("hostname = %q", h)
		}
		if !testutil.InSandbox() {
			t.Error("InSandbox() = false inside")
		}
	})
	t.Run("NetNSHasOnlyLo", func(t *testing.T) {
		links, err := netlink.LinkList()
		if err != nil {
			t.Fatal(err)
		}
		if len(links) != 1 || links[0].Attrs().Name != "lo" {
			var names []string
			for _, l := range links {
				names = append(names, l.Attrs().Name)
			}
			t.Fatalf("links = %v, want only lo", names)
		}
		if links[0].Attrs().Flags&(1<<0) == 0 { // net.FlagUp
			t.Error("lo is not up")
		}
		ents, _ := os.ReadDir("/sys/class/net")
		if len(ents) != 1 || ents[0].Name() != "lo" {
			t.Errorf("/sys/class/net = %v, want only lo (fresh sysfs)", ents)
		}
	})
	t.Run("PIDNamespaceShowsFewProcesses", func(t *testing.T) {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			t.Fatal(err)
		}
		var pids []string
		for _, e := range ents {
			if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
				pids = append(pids, e.Name())
			}
		}
		if len(pids) > 3 {
			t.Errorf("sandbox /proc lists %d processes: %v", len(pids), pids)
		}
	})
	t.Run("HostsFileIsPrivate", func(t *testing.T) {
		box := testutil.SandboxPaths(t)
		f, err := os.OpenFile(box.HostsFile, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("203.0.113.9 bulwark-sandbox-test\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b, _ := os.ReadFile(box.HostsCopy)
		if !bytes.Contains(b, []byte("bulwark-sandbox-test")) {
			t.Error("write to /etc/hosts did not land in the private copy")
		}
	})
	t.Run("ScratchMountsAreTmpfs", func(t *testing.T) {
		box := testutil.SandboxPaths(t)
		for _, dir := range []string{"/tmp", box.StateDir} {
			var st unix.Statfs_t
			if err := unix.Statfs(dir, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
				t.Errorf("%s is not a tmpfs (type %#x, err %v)", dir, st.Type, err)
			}
		}
		if err := os.WriteFile(box.FileRoot+"/fill", make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat("/sys/fs/cgroup"); err != nil && testutil.InSandbox() {
			t.Logf("no cgroup hierarchy bound back: %v", err)
		}
	})
	t.Run("NFTablesAndQdiscInside", func(t *testing.T) {
		ns := testutil.SandboxNetNS(t)
		c := testutil.NFTConn(t, ns.FD)
		c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: "bulwark_sandbox_test"})
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		h := testutil.NetlinkHandle(t, ns.FD)
		lo, err := h.LinkByName("lo")
		if err != nil {
			t.Fatal(err)
		}
		tbf := &netlink.Tbf{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: lo.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
			Rate: 1 << 20, Limit: 1 << 16, Buffer: 1 << 16}
		if err := h.QdiscAdd(tbf); err != nil {
			t.Fatal(err)
		}
		// Deliberately left behind: the parent checks the host does not have them.
	})
	t.Run("ChildProcessesStayInside", func(t *testing.T) {
		out, err := exec.Command("sh", "-c", "echo $$; cat /proc/sys/kernel/hostname").Output()
		if err != nil {
			t.Fatal(err)
		}
		if f := strings.Fields(string(out)); len(f) != 2 || f[1] != testutil.SandboxHostname || len(f[0]) > 2 {
			t.Errorf("child saw pid/hostname %q", out)
		}
	})
}

// TestSandboxReapsOrphans checks that the sandbox's PID 1 reaps reparented
// orphans while exec.Cmd.Wait keeps getting its own children's statuses.
func TestSandboxReapsOrphans(t *testing.T) {
	testutil.Slow(t)
	testutil.Require(t, testutil.CapRoot, testutil.CapSandbox)
	if !testutil.Sandbox(t) {
		return
	}
	var orphans []string
	for range 5 {
		out, err := exec.Command("sh", "-c", "sleep 0.2 >/dev/null 2>&1 & echo $!").Output()
		if err != nil {
			t.Fatal(err)
		}
		orphans = append(orphans, strings.TrimSpace(string(out)))
	}
	for range 20 { // direct children keep working while orphans die around them
		if err := exec.Command("true").Run(); err != nil {
			t.Fatalf("exec.Cmd.Wait lost its child to the reaper: %v", err)
		}
		if err := exec.Command("false").Run(); err == nil {
			t.Fatal("exit status 1 lost")
		}
	}
	waitFor(t, "orphans reaped", func() bool {
		for _, pid := range orphans {
			if _, err := os.Stat("/proc/" + pid); !errors.Is(err, fs.ErrNotExist) {
				return false
			}
		}
		return true
	})
}

// TestSandboxReportsChildOutcome runs TestSandboxFixture in a separate test
// process and checks that pass, fail and skip inside the sandbox come out as
// pass, fail and skip outside, and that each child ran only its own test.
func TestSandboxReportsChildOutcome(t *testing.T) {
	testutil.Slow(t)
	testutil.Require(t, testutil.CapRoot, testutil.CapSandbox)
	if os.Getenv(fixtureEnv) != "" || testutil.InSandbox() {
		t.Skip("this is the fixture run")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestSandboxFixture$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), fixtureEnv+"=1", "CI=false")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("fixture run: err = %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{
		"--- PASS: TestSandboxFixture/pass",
		"--- FAIL: TestSandboxFixture/fail",
		"--- SKIP: TestSandboxFixture/skip",
		"deliberate failure inside",
		"skipped inside the sandbox",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("fixture output lacks %q:\n%s", want, out)
		}
	}
	for _, sub := range []string{"pass", "fail", "skip"} {
		if n := bytes.Count(out, []byte("sandbox| === RUN   TestSandboxFixture/"+sub+"\n")); n != 1 {
			t.Errorf("subtest %s ran %d times in sandboxes, want 1", sub, n)
		}
	}
}

const fixtureEnv = "BULWARK_TESTUTIL_FIXTURE"

// TestSandboxFixture is run only by TestSandboxReportsChildOutcome.
func TestSandboxFixture(t *testing.T) {
	if os.Getenv(fixtureEnv) == "" {
		t.Skip("fixture for TestSandboxReportsChildOutcome")
	}
	t.Run("pass", func(t *testing.T) {
		if !testutil.Sandbox(t) {
			return
		}
	})
	t.Run("fail", func(t *testing.T) {
		if !testutil.Sandbox(t) {
			return
		}
		t.Error("deliberate failure inside")
	})
	t.Run("skip", func(t *testing.T) {
		if !testutil.Sandbox(t) {
			return
		}
		t.Skip("deliberate skip inside")
	})
}
