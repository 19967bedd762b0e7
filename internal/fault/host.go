package fault

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Host is everything a kind may touch, so that tests can point kinds at a
// sandbox and no kind hardcodes /proc, /sys/fs/cgroup or /etc/hosts.
type Host struct {
	ProcRoot   string // "/proc"
	CgroupRoot string // "/sys/fs/cgroup"
	HostsFile  string // "/etc/hosts"
	// FileRoots confines file faults (DESIGN §6.7).
	FileRoots []string
	// StateDir is the host manager's directory; kinds keep backups under
	// StateDir/data/<fault id>.
	StateDir string
	// NetNSPath, when set, is the network namespace network kinds act in
	// (/run/netns/NAME or /proc/PID/ns/net); empty means the caller's own.
	NetNSPath string
	// Exe is the bulwark binary that helpers are started from.
	Exe string
	// Management lists what network faults must never cut (DESIGN §6.10).
	Management Management
	// DenyProcesses names processes that are never targets, beyond pid 1 and
	// bulwark itself (DESIGN §6.7).
	DenyProcesses []string
	// ServerNames are the DNS names of the Bulwark server (the management
	// plane) that net.dns refuses to override or fail (DESIGN §6.10); empty
	// by default. Compared case-insensitively, without a trailing dot.
	ServerNames []string
	// Now is the wall clock; tests may replace it.
	Now func() time.Time
}

// Management is the management plane that network faults exclude.
type Management struct {
	// TCPPorts are local service ports kept open in both directions (22 SSH,
	// 3389 RDP by default).
	TCPPorts []uint16
	// Networks are address ranges kept reachable whatever a fault says: the
	// server's pinned addresses, bastions, LDAP/Kerberos/DNS servers.
	Networks []netip.Prefix
}

// DefaultDenyProcesses are the names never targeted on Linux: init, the
// journal, SSH and common monitoring agents.
var DefaultDenyProcesses = []string{
	"systemd", "init", "systemd-journal", "systemd-journald", "journald", "rsyslogd", "sshd",
	"node_exporter", "zabbix_agentd", "zabbix_agent2", "telegraf", "datadog-agent",
	"falcon-agent", "categraf", "filebeat", "fluent-bit", "bulwark",
}

// DefaultHost returns the real host with the default roots and deny-lists.
// stateDir is the host manager's directory.
func DefaultHost(stateDir string) *Host {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return &Host{
		ProcRoot:      "/proc",
		CgroupRoot:    "/sys/fs/cgroup",
		HostsFile:     "/etc/hosts",
		FileRoots:     []string{"/tmp", "/var/tmp"},
		StateDir:      stateDir,
		Exe:           exe,
		Management:    Management{TCPPorts: []uint16{22, 3389}},
		DenyProcesses: DefaultDenyProcesses,
		Now:           time.Now,
	}
}

// ParseFileRoots splits a colon-separated list of absolute directories
// (BULWARK_FILE_ROOTS, --file-roots).
func ParseFileRoots(s string) ([]string, error) {
	var roots []string
	for _, r := range strings.Split(s, ":") {
		if r == "" {
			continue
		}
		if !filepath.IsAbs(r) {
			return nil, bulwark.Errorf(bulwark.EINVALID, "file root %q is not an absolute path", r)
		}
		roots = append(roots, filepath.Clean(r))
	}
	return roots, nil
}

// ConfinePath resolves p (following symlinks in every existing element) and
// returns it if it lies inside one of the host's file roots, and a
// *ParamError naming param otherwise. The roots are resolved the same way, so
// a root that is itself a symlink still works.
func (h *Host) ConfinePath(param, p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", &ParamError{param, "path " + p + " is not absolute"}
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", &ParamError{param, "resolve " + p + ": " + err.Error()}
	}
	for _, root := range h.FileRoots {
		rr, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && rel != "." {
			return real, nil
		}
	}
	return "", &ParamError{param, "path " + p + " is outside the file roots (" + strings.Join(h.FileRoots, ":") + "); set --file-roots or BULWARK_FILE_ROOTS"}
}

// DataDir returns the directory where the fault's kind keeps backups,
// StateDir/data/<id>, creating it 0700.
func (h *Host) DataDir(id string) (string, error) {
	d := filepath.Join(h.StateDir, "data", id)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	return d, nil
}

func (h *Host) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}
