package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Version is a cgroup interface version.
type Version int

// The two cgroup versions.
const (
	V1 Version = 1
	V2 Version = 2
)

// String returns "v1" or "v2".
func (v Version) String() string { return "v" + strconv.Itoa(int(v)) }

// Mode is the host's cgroup layout.
type Mode string

// The three layouts (see the package documentation).
const (
	Unified Mode = "unified"
	Hybrid  Mode = "hybrid"
	Legacy  Mode = "legacy"
)

// Path is the absolute directory of one cgroup.
type Path string

// File returns the path of the cgroup's interface file name.
func (p Path) File(name string) string { return filepath.Join(string(p), name) }

// Mount is one mounted cgroup hierarchy.
type Mount struct {
	Point       string   // where it is mounted
	Root        string   // the cgroup path mounted there ("/" normally)
	Version     Version  // V1 or V2
	Controllers []string // v1: from the mount options; v2: from cgroup.controllers
	ReadOnly    bool     // mounted ro
}

// Hierarchy is the host's cgroup layout found by Detect.
type Hierarchy struct {
	Mode     Mode
	V1       map[string]*Mount // v1 controller name → its mount
	V2       *Mount            // the cgroup2 mount, nil on legacy hosts
	procRoot string
	root     string
}

// v1Controllers are the controller names a v1 mount's options may carry.
var v1Controllers = []string{"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "hugetlb",
	"memory", "misc", "net_cls", "net_prio", "perf_event", "pids", "rdma"}

// Detect reads h.ProcRoot/self/mountinfo for cgroup mounts at or under
// h.CgroupRoot, or, when it lists none, probes the directory layout there.
func Detect(h *fault.Host) (*Hierarchy, error) {
	root := filepath.Clean(h.CgroupRoot)
	procRoot := h.ProcRoot
	if procRoot == "" {
		procRoot = "/proc"
	}
	hy := &Hierarchy{V1: map[string]*Mount{}, procRoot: procRoot, root: root}
	mounts, err := readMountinfo(filepath.Join(procRoot, "self", "mountinfo"), root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if len(mounts) == 0 {
		mounts = probeLayout(root)
	}
	for _, m := range mounts {
		switch m.Version {
		case V2:
			if hy.V2 == nil || m.Point == root {
				b, err := os.ReadFile(filepath.Join(m.Point, "cgroup.controllers"))
				if err == nil {
					m.Controllers = strings.Fields(string(b))
				}
				hy.V2 = m
			}
		case V1:
			for _, c := range m.Controllers {
				if old, ok := hy.V1[c]; !ok || (old.Root != "/" && m.Root == "/") {
					hy.V1[c] = m
				}
			}
		}
	}
	switch {
	case len(hy.V1) == 0 && hy.V2 == nil:
		return nil, fmt.Errorf("detect cgroups: no cgroup hierarchy mounted at or under %s", root)
	case len(hy.V1) == 0:
		hy.Mode = Unified
	case hy.V2 != nil:
		hy.Mode = Hybrid
	default:
		hy.Mode = Legacy
	}
	return hy, nil
}

// readMountinfo returns the cgroup and cgroup2 mounts at or under root.
func readMountinfo(file, root string) ([]*Mount, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var out []*Mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := slices.Index(f, "-")
		if sep < 6 || len(f) < sep+4 {
			continue
		}
		fstype, super := f[sep+1], f[sep+3]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		point := filepath.Clean(unescape(f[4]))
		if point != root && !strings.HasPrefix(point, root+"/") {
			continue
		}
		m := &Mount{Point: point, Root: unescape(f[3]), Version: V1}
		m.ReadOnly = slices.Contains(strings.Split(f[5], ","), "ro") || slices.Contains(strings.Split(super, ","), "ro")
		if fstype == "cgroup2" {
			m.Version = V2
		} else {
			for _, o := range strings.Split(super, ",") {
				if slices.Contains(v1Controllers, o) {
					m.Controllers = append(m.Controllers, o)
				}
			}
			if len(m.Controllers) == 0 {
				continue // name=systemd and other named hierarchies
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// probeLayout finds hierarchies by their files when mountinfo names none:
// cgroup.controllers at root (unified) or root/unified (hybrid), and v1
// directories named after their controllers ("cpu,cpuacct") holding tasks.
func probeLayout(root string) []*Mount {
	var out []*Mount
	if fileExists(filepath.Join(root, "cgroup.controllers")) {
		return []*Mount{{Point: root, Root: "/", Version: V2}}
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if e.Name() == "unified" && fileExists(filepath.Join(dir, "cgroup.controllers")) {
			out = append(out, &Mount{Point: dir, Root: "/", Version: V2})
			continue
		}
		if !fileExists(filepath.Join(dir, "tasks")) {
			continue
		}
		m := &Mount{Point: dir, Root: "/", Version: V1}
		for _, c := range strings.Split(e.Name(), ",") {
			if slices.Contains(v1Controllers, c) {
				m.Controllers = append(m.Controllers, c)
			}
		}
		if len(m.Controllers) > 0 {
			out = append(out, m)
		}
	}
	return out
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// names returns the v1 and v2 names of a controller: "io" and "blkio" are
// the same controller.
func names(controller string) (v1, v2 string) {
	switch controller {
	case "io", "blkio":
		return "blkio", "io"
	}
	return controller, controller
}

// mount returns the mount serving controller and its version: v2 when the
// cgroup2 mount offers it, v1 otherwise.
func (hy *Hierarchy) mount(controller string) (*Mount, Version, error) {
	n1, n2 := names(controller)
	if hy.V2 != nil && slices.Contains(hy.V2.Controllers, n2) {
		return hy.V2, V2, nil
	}
	if m, ok := hy.V1[n1]; ok {
		return m, V1, nil
	}
	return nil, 0, fmt.Errorf("no %s controller: not mounted as cgroup v1 under %s and not offered by cgroup v2 (%s)", controller, hy.root, hy.v2Desc())
}

func (hy *Hierarchy) v2Desc() string {
	if hy.V2 == nil {
		return "no cgroup2 mount"
	}
	return hy.V2.Point + "/cgroup.controllers: " + strings.Join(hy.V2.Controllers, " ")
}

// Controller returns the root cgroup of the hierarchy serving controller
// (memory, io or blkio, pids, cpu, …) and its version.
func (hy *Hierarchy) Controller(name string) (Path, Version, error) {
	m, v, err := hy.mount(name)
	if err != nil {
		return "", 0, err
	}
	return Path(m.Point), v, nil
}

// Available returns nil when controller can be used to create and fill
// child cgroups, and otherwise the reason.
func (hy *Hierarchy) Available(controller string) error {
	m, v, err := hy.mount(controller)
	if err != nil {
		return err
	}
	if m.ReadOnly {
		return fmt.Errorf("%s controller (cgroup %s) is mounted read-only at %s", controller, v, m.Point)
	}
	if !fileExists(filepath.Join(m.Point, "cgroup.procs")) {
		return fmt.Errorf("%s controller (cgroup %s) at %s has no cgroup.procs", controller, v, m.Point)
	}
	return nil
}

// IsRoot reports whether p is the root cgroup of its hierarchy (the mount
// point), where limits do not apply and children are host-wide.
func (hy *Hierarchy) IsRoot(p Path) bool {
	c := filepath.Clean(string(p))
	if hy.V2 != nil && c == hy.V2.Point {
		return true
	}
	for _, m := range hy.V1 {
		if c == m.Point {
			return true
		}
	}
	return false
}

// ProcessCgroup returns the cgroup of process pid in the hierarchy serving
// controller, from ProcRoot/PID/cgroup.
func (hy *Hierarchy) ProcessCgroup(pid int, controller string) (Path, error) {
	m, v, err := hy.mount(controller)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(hy.procRoot, strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return "", fmt.Errorf("read cgroup of pid %d: %w", pid, err)
	}
	n1, _ := names(controller)
	for _, line := range strings.Split(string(b), "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrls, rel, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		match := false
		if v == V2 {
			match = id == "0" && ctrls == ""
		} else {
			match = slices.Contains(strings.Split(ctrls, ","), n1)
		}
		if !match {
			continue
		}
		// Both paths are relative to the reader's cgroup namespace and may
		// climb out of it ("/../x"): compare them raw, before cleaning.
		mr := m.Root
		if mr != "/" {
			if rel != mr && !strings.HasPrefix(rel, mr+"/") {
				return "", fmt.Errorf("cgroup %s of pid %d is outside the hierarchy mounted at %s (root %s)", rel, pid, m.Point, mr)
			}
			rel = strings.TrimPrefix(rel, mr)
		}
		full := filepath.Join(m.Point, rel)
		if full != m.Point && !strings.HasPrefix(full, m.Point+"/") {
			return "", fmt.Errorf("cgroup %s of pid %d is outside the hierarchy mounted at %s", rel, pid, m.Point)
		}
		return Path(full), nil
	}
	return "", fmt.Errorf("pid %d has no %s cgroup (%s) in %s/%d/cgroup", pid, controller, v, hy.procRoot, pid)
}

// owns reports whether p lies at or under a detected cgroup mount.
func (hy *Hierarchy) owns(p Path) (*Mount, error) {
	c := filepath.Clean(string(p))
	var ms []*Mount
	if hy.V2 != nil {
		ms = append(ms, hy.V2)
	}
	keys := make([]string, 0, len(hy.V1))
	for k := range hy.V1 {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ms = append(ms, hy.V1[k])
	}
	for _, m := range ms {
		if c == m.Point || strings.HasPrefix(c, m.Point+"/") {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%s is not inside a cgroup mount under %s", p, hy.root)
}

// validName is what CreateChild accepts after "bulwark-".
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != "." && s != ".."
}
