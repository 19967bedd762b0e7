package testutil

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Capabilities understood by Require. Each is probed once per process and the
// answer cached. Probes that need a network namespace run in a throwaway one on a
// discarded OS thread, so probing never changes the machine.
const (
	CapRoot     = "root"     // effective uid 0
	CapNetNS    = "netns"    // can create network namespaces
	CapMountNS  = "mountns"  // can create mount namespaces
	CapPIDNS    = "pidns"    // can create PID namespaces
	CapSandbox  = "sandbox"  // everything Sandbox needs (root, net/mount/pid/uts/ipc/cgroup namespaces)
	CapNFTables = "nftables" // nf_tables usable (a table can be added in a throwaway netns)
	CapTC       = "tc"       // traffic control usable (a tbf qdisc can be added)
	CapNetem    = "netem"    // the netem qdisc exists in this kernel
	CapIFB      = "ifb"      // ifb links can be created
	CapVeth     = "veth"     // veth pairs can be created
	CapCgroup   = "cgroup"   // a cgroup hierarchy (v1 or v2) is mounted at /sys/fs/cgroup
	CapCgroupV1 = "cgroupv1" // a cgroup v1 hierarchy is mounted (hybrid counts)
	CapCgroupV2 = "cgroupv2" // a cgroup v2 hierarchy is mounted (hybrid's unified counts)
	CapSystemd  = "systemd"  // the machine was booted with systemd (/run/systemd/system, sd_booted)
	CapPostgres = "postgres" // initdb and pg_ctl can be found (storetest's Postgres half)
	CapQEMU     = "qemu"     // qemu-system-x86_64 is on PATH (the netem VM harness)
	CapLinux    = "linux"    // runtime.GOOS is linux
	CapWindows  = "windows"  // runtime.GOOS is windows
)

// EnvCI is the variable that turns missing capabilities from skips into failures.
const EnvCI = "CI"

// probes maps a capability to its probe; a probe returns nil when the capability
// is present and an error saying what is missing otherwise. Filled per platform.
var probes = map[string]func() error{}

var probeCache struct {
	sync.Mutex
	m map[string]error
}

// Capabilities lists the capability names Require understands, sorted.
func Capabilities() []string {
	names := make([]string, 0, len(probes))
	for name := range probes {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Require skips tb unless every capability in caps is present on this machine.
// When the environment variable CI is "true" a missing capability fails tb
// instead, so CI never passes by skipping. An unknown capability name always
// fails tb. Call it first in the test, before Sandbox.
func Require(tb testing.TB, caps ...string) {
	tb.Helper()
	require(tb, os.Getenv(EnvCI) == "true", caps, probe)
}

// Slow skips tb under go test -short (STYLE §3 rule 15: -short skips everything
// slow). Sandboxed, netns and VM tests should call it.
func Slow(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("slow test skipped with -short")
	}
}

// require is Require with the CI flag and the probe injected, for tests.
func require(tb testing.TB, ci bool, caps []string, probeFn func(string) (known bool, err error)) {
	tb.Helper()
	var missing []string
	for _, c := range caps {
		known, err := probeFn(c)
		if !known {
			tb.Fatalf("testutil.Require: unknown capability %q (known: %s)", c, strings.Join(Capabilities(), ", "))
			return
		}
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%v)", c, err))
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "missing capability: " + strings.Join(missing, "; ")
	if ci {
		tb.Fatalf("%s; failing because %s=true", msg, EnvCI)
		return
	}
	tb.Skip(msg)
}

// probe runs (once per process) the probe for capability c.
func probe(c string) (bool, error) {
	fn, ok := probes[c]
	if !ok {
		return false, nil
	}
	probeCache.Lock()
	defer probeCache.Unlock()
	if probeCache.m == nil {
		probeCache.m = map[string]error{}
	}
	if err, done := probeCache.m[c]; done {
		return true, err
	}
	err := fn()
	probeCache.m[c] = err
	return true, err
}
