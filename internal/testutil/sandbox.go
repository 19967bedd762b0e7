package testutil

import (
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// Environment variables between the parent test process and its sandboxed child.
// They only route the child; the child never trusts them for safety (it checks
// that it really is PID 1 in namespaces different from the parent's before it
// mounts anything).
const (
	envSandbox     = "BULWARK_TESTUTIL_SANDBOX"        // full name of the sandboxed test
	envSandboxFD   = "BULWARK_TESTUTIL_SANDBOX_FD"     // fd of the status pipe in the child
	envSandboxHost = "BULWARK_TESTUTIL_SANDBOX_HOSTNS" // parent's namespace ids, "mnt:[…] net:[…] pid:[…]"
)

// Paths describes the sandbox the current process runs in (see SandboxPaths).
type Paths struct {
	Root       string // tmpfs-backed scratch root of the sandbox, under /tmp
	StateDir   string // an own tmpfs, for agent state directories (journal, backups)
	FileRoot   string // an empty directory for file faults (pass as --file-roots)
	HostsFile  string // "/etc/hosts": a private copy bind-mounted over the host's
	HostsCopy  string // the bind source of HostsFile, inside Root
	ProcRoot   string // "/proc": freshly mounted, shows only the sandbox's processes
	CgroupRoot string // "/sys/fs/cgroup": the HOST's hierarchy, not isolated; create child cgroups only
}

// sandbox is the state of this process's sandbox: set once by the child after a
// successful set-up.
var sandbox struct {
	sync.Mutex
	ready bool
	paths Paths
}

// InSandbox reports whether this process is a sandbox child, that is a test
// binary started by Sandbox. It is already true before Sandbox has set the child
// up, so code before the Sandbox call can use !InSandbox() for parent-only work
// (such as a host snapshot to compare with after the child has run). Until
// Sandbox returns true the child still sees the host's /proc and /sys: do no
// namespace or /proc work there.
func InSandbox() bool {
	_, ok := os.LookupEnv(envSandbox)
	return ok
}

// sandboxReady reports whether this process has set its sandbox up.
func sandboxReady() bool {
	sandbox.Lock()
	defer sandbox.Unlock()
	return sandbox.ready
}

// SandboxPaths returns the sandbox's paths; it fails tb outside a sandbox, so a
// test can never mistake host paths for sandbox ones.
func SandboxPaths(tb testing.TB) Paths {
	tb.Helper()
	sandbox.Lock()
	defer sandbox.Unlock()
	if !sandbox.ready {
		tb.Fatal("testutil.SandboxPaths: not inside a sandbox (call testutil.Sandbox first)")
	}
	return sandbox.paths
}

// SandboxStateDir returns the sandbox's tmpfs state directory (SandboxPaths(tb).StateDir).
func SandboxStateDir(tb testing.TB) string {
	tb.Helper()
	return SandboxPaths(tb).StateDir
}

// runPattern is the -test.run value selecting exactly the test called name:
// each path element anchored and quoted.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// inTarget reports whether the test called name is the sandboxed test target or
// one of its subtests.
func inTarget(name, target string) bool {
	return name == target || strings.HasPrefix(name, target+"/")
}
