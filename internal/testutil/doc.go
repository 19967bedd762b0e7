// Package testutil is Bulwark's harness for tests of root-level code (DESIGN §14,
// STYLE §3 rules 14–15). It makes "never touch the machine" a property of the
// harness rather than a convention.
//
// # Gating
//
// Every integration test states what it needs; a missing capability skips the test
// locally and fails it when CI=true:
//
//	func TestApply(t *testing.T) {
//		testutil.Slow(t)                      // skipped under -short
//		testutil.Require(t, "root", "nftables")
//		...
//	}
//
// # Sandbox
//
// A test that changes the host (nftables, qdiscs, links, /etc/hosts, processes,
// files under /tmp) runs in a sandbox. The idiom is exactly:
//
//	func TestX(t *testing.T) {
//		testutil.Require(t, "root", "netns")
//		if !testutil.Sandbox(t) {
//			return
//		}
//		// From here on the test runs as PID 1 of fresh network, mount, PID, UTS,
//		// IPC and cgroup namespaces with private mounts, a fresh /proc and /sys,
//		// tmpfs on /tmp and /var/tmp, a tmpfs state directory and a private copy
//		// of /etc/hosts.
//		box := testutil.SandboxPaths(t)
//		...
//	}
//
// In the normal test process Sandbox re-executes the test binary for this test only,
// streams its output into t.Log, fails t when the child failed (skips t when the
// child skipped) and returns false, so the caller returns. In the child it sets the
// sandbox up and returns true. Code before the Sandbox call runs in both processes;
// code after a false return runs in the parent only, after the child has exited
// (useful to check that the host is unchanged). InSandbox() is already true in
// the child before set-up, so "if !testutil.InSandbox() { before = ... }" prepares
// parent-only state.
//
// Call t.Parallel before Sandbox: each sandboxed test has its own child and
// namespaces. Subtests of one sandboxed test share its sandbox; call Sandbox in
// each subtest instead to separate them. /sys/fs/cgroup, /run and the source tree
// are not isolated; see README.md.
//
// # Namespaces and handles
//
// Netlink and nftables work goes through handles bound to a namespace fd:
// NetlinkHandle(t, fd) and NFTConn(t, fd). NewNetNS creates extra isolated network
// namespaces held only by a file descriptor (no /run/netns entry), Veth joins two of
// them, and InNetNS runs a function on a locked OS thread switched into a namespace;
// the thread is discarded if it cannot be switched back.
//
// # Residue checker
//
// Snapshot captures what a fault could leave behind (nftables ruleset, links, ifb
// devices, qdiscs, classes and filters, addresses, routes and rules, process states,
// cgroup files, files under roots, the hosts file). AssertUnchanged(t, before) takes
// a second snapshot with the same options and fails t with every difference.
//
// Tests in this package must run as root to exercise anything: go test -race ./internal/testutil/...
package testutil
