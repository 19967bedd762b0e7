package testutil

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// SnapshotOptions says where to look when taking a HostSnapshot. The zero value
// inspects this process's network namespace, /proc and /etc/hosts, and no files
// or cgroups. A faulttest suite builds it from the Host it gives the kind.
type SnapshotOptions struct {
	// NetNSFd is the network namespace to inspect (nftables, links, ifb devices,
	// qdiscs, classes, filters, addresses, routes, rules); 0 means this process's.
	NetNSFd int
	NoNet   bool // skip the network part

	// ProcRoot is the proc filesystem to list processes from; "" means /proc.
	ProcRoot string
	NoProcs  bool // skip processes (on a shared host other processes come and go)
	// IgnoreProcess, when set, leaves matching processes out of the snapshot.
	IgnoreProcess func(Proc) bool

	// FileRoots are walked recursively: every regular file is recorded with its
	// mode, size and SHA-256, directories with their mode, symlinks with their target.
	FileRoots []string
	// HostsFile is the hosts file to hash; "" means /etc/hosts.
	HostsFile string
	NoHosts   bool // skip the hosts file
	// CgroupFiles are cgroup paths of interest: a file is recorded with its
	// content, a directory with the names of its child directories (child cgroups).
	CgroupFiles []string
	// ExtraFiles are single files recorded like files under FileRoots, or as absent.
	ExtraFiles []string
}

// Proc is one process as the residue checker sees it.
type Proc struct {
	PID   int
	PPID  int
	Comm  string
	State string // the state letter from /proc/PID/stat (R, S, D, T, t, Z, X, I…)
}

// StateClass groups state letters into what recovery must restore: "alive"
// (R, S, D, I, W, P), "stopped" (T, t), "zombie" (Z) or "dead" (X, x).
func (p Proc) StateClass() string {
	switch p.State {
	case "T", "t":
		return "stopped"
	case "Z":
		return "zombie"
	case "X", "x":
		return "dead"
	}
	return "alive"
}

// HostSnapshot is a canonical, comparable record of host state. Each entry is a
// key ("nft table inet bulwark", "qdisc lo 1: parent root", "proc 12",
// "file /tmp/x") and a canonical value.
type HostSnapshot struct {
	opts    SnapshotOptions
	entries map[string]string
}

// Snapshot takes a HostSnapshot, failing tb on error.
func Snapshot(tb testing.TB, opts SnapshotOptions) *HostSnapshot {
	tb.Helper()
	s, err := TakeSnapshot(opts)
	if err != nil {
		tb.Fatalf("testutil.Snapshot: %v", err)
	}
	return s
}

// AssertUnchanged takes a new snapshot with before's options and fails tb with
// every difference (STYLE: recovery must leave the host as it was).
func AssertUnchanged(tb testing.TB, before *HostSnapshot) {
	tb.Helper()
	after := Snapshot(tb, before.opts)
	if d := before.Diff(after); len(d) > 0 {
		tb.Errorf("host changed (residue):\n\t%s", strings.Join(d, "\n\t"))
	}
}

// Options returns the options the snapshot was taken with.
func (s *HostSnapshot) Options() SnapshotOptions { return s.opts }

// Lines returns the snapshot as sorted "key = value" lines.
func (s *HostSnapshot) Lines() []string {
	keys := s.keys()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + " = " + s.entries[k]
	}
	return out
}

// String returns Lines joined by newlines.
func (s *HostSnapshot) String() string { return strings.Join(s.Lines(), "\n") }

// Diff returns what changed from s to other, sorted by key: "- key = value" for
// entries gone, "+ key = value" for new ones, "~ key: old -> new" for changed
// ones. An empty result means no residue.
func (s *HostSnapshot) Diff(other *HostSnapshot) []string {
	var out []string
	for _, k := range s.keys() {
		nv, ok := other.entries[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("- %s = %s", k, s.entries[k]))
		case nv != s.entries[k]:
			out = append(out, fmt.Sprintf("~ %s: %s -> %s", k, s.entries[k], nv))
		}
	}
	for _, k := range other.keys() {
		if _, ok := s.entries[k]; !ok {
			out = append(out, fmt.Sprintf("+ %s = %s", k, other.entries[k]))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}

func (s *HostSnapshot) keys() []string {
	keys := make([]string, 0, len(s.entries))
	for k := range s.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// put records key = value, suffixing the key if it is already taken so that
// equal-looking entries are all kept.
func (s *HostSnapshot) put(key, value string) {
	k := key
	for i := 2; ; i++ {
		if _, taken := s.entries[k]; !taken {
			s.entries[k] = value
			return
		}
		k = fmt.Sprintf("%s (%d)", key, i)
	}
}
