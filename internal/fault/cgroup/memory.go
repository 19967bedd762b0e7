package cgroup

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// v1NoLimit is where cgroup v1 memory limits mean "none": the kernel shows
// an unset limit as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB
// pages), and no real limit comes near 2^62 bytes.
const v1NoLimit = 1 << 62

// InHierarchy returns nil when p is an existing directory at or under the
// mount serving controller, and otherwise says why not.
func (hy *Hierarchy) InHierarchy(controller string, p Path) error {
	m, v, err := hy.mount(controller)
	if err != nil {
		return err
	}
	c := filepath.Clean(string(p))
	if !filepath.IsAbs(c) {
		return fmt.Errorf("%s is not an absolute path", p)
	}
	if c != m.Point && !strings.HasPrefix(c, m.Point+"/") {
		return fmt.Errorf("%s is not in the %s hierarchy (cgroup %s) mounted at %s", p, controller, v, m.Point)
	}
	st, err := os.Stat(c)
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", p, err)
	}
	if !st.IsDir() || !fileExists(filepath.Join(c, "cgroup.procs")) {
		return fmt.Errorf("%s is not a cgroup directory (no cgroup.procs)", p)
	}
	return nil
}

// parseMemoryValue reads a memory limit: bytes, "max" (v2) or a v1 value at
// or above v1NoLimit both mean none (0).
func parseMemoryValue(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory value %q is not a number of bytes", s)
	}
	if n < 0 || n >= v1NoLimit {
		return 0, nil
	}
	return n, nil
}

// MemoryLimit returns the hard memory limit in force for p: the lowest
// memory.limit_in_bytes (v1) or memory.max (v2) of p and its ancestors below
// the hierarchy's root, and the cgroup that sets it. Limits are hierarchical
// on both versions (v1 has no other mode since Linux 6.0). 0 means no limit.
func (hy *Hierarchy) MemoryLimit(p Path) (int64, Path, error) {
	m, v, err := hy.mount("memory")
	if err != nil {
		return 0, "", err
	}
	if err := hy.InHierarchy("memory", p); err != nil {
		return 0, "", err
	}
	var limit int64
	var from Path
	for c := filepath.Clean(string(p)); c != m.Point && strings.HasPrefix(c, m.Point+"/"); c = filepath.Dir(c) {
		s, err := hy.ReadFile(Path(c), MemoryLimitFile(v))
		if err != nil {
			return 0, "", err
		}
		n, err := parseMemoryValue(s)
		if err != nil {
			return 0, "", fmt.Errorf("%s: %w", Path(c).File(MemoryLimitFile(v)), err)
		}
		if n > 0 && (limit == 0 || n < limit) {
			limit, from = n, Path(c)
		}
	}
	return limit, from, nil
}

// MemoryUsage returns the memory charged to p: memory.usage_in_bytes (v1),
// memory.current (v2).
func (hy *Hierarchy) MemoryUsage(p Path) (int64, error) {
	_, v, err := hy.mount("memory")
	if err != nil {
		return 0, err
	}
	s, err := hy.ReadFile(p, MemoryUsageFile(v))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a number of bytes", p.File(MemoryUsageFile(v)), strings.TrimSpace(s))
	}
	return n, nil
}

// Within reports whether p is c or lies under it.
func Within(p, c Path) bool {
	pp, cc := filepath.Clean(string(p)), filepath.Clean(string(c))
	return pp == cc || strings.HasPrefix(pp, cc+"/")
}
