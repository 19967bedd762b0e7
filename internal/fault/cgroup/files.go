package cgroup

import (
	"fmt"
	"strconv"
	"strings"
)

// MemoryLimitFile is the hard memory limit: memory.limit_in_bytes (v1),
// memory.max (v2).
func MemoryLimitFile(v Version) string {
	if v == V1 {
		return "memory.limit_in_bytes"
	}
	return "memory.max"
}

// MemoryHighFile is the throttling limit: memory.high (v2); v1 has only the
// weaker memory.soft_limit_in_bytes, applied under global pressure.
func MemoryHighFile(v Version) string {
	if v == V1 {
		return "memory.soft_limit_in_bytes"
	}
	return "memory.high"
}

// MemoryUsageFile is the memory charged to the cgroup: memory.usage_in_bytes
// (v1), memory.current (v2).
func MemoryUsageFile(v Version) string {
	if v == V1 {
		return "memory.usage_in_bytes"
	}
	return "memory.current"
}

// PidsMaxFile is the process count limit, pids.max in both versions.
const PidsMaxFile = "pids.max"

// IOLimit is a per-device I/O cap; zero means unlimited.
type IOLimit struct {
	Major, Minor uint32
	RBps, WBps   uint64 // bytes per second
	RIOPS, WIOPS uint64 // operations per second
}

// v1IOFiles are the blkio.throttle files in IOLimit field order.
var v1IOFiles = [4]string{"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"}

// SetIOLimit writes l for p: the four blkio.throttle.*_device files on v1
// ("MAJ:MIN N", 0 removes the rule), one io.max line on v2 ("MAJ:MIN
// rbps=N wbps=N riops=N wiops=N", "max" for unlimited).
func (hy *Hierarchy) SetIOLimit(p Path, v Version, l IOLimit) error {
	dev := fmt.Sprintf("%d:%d", l.Major, l.Minor)
	vals := [4]uint64{l.RBps, l.WBps, l.RIOPS, l.WIOPS}
	if v == V1 {
		for i, f := range v1IOFiles {
			// Writing 0 for a device with no rule fails on some kernels.
			if err := hy.WriteFile(p, f, dev+" "+strconv.FormatUint(vals[i], 10)); err != nil && vals[i] != 0 {
				return err
			}
		}
		return nil
	}
	keys := [4]string{"rbps", "wbps", "riops", "wiops"}
	parts := []string{dev}
	for i, k := range keys {
		val := "max"
		if vals[i] != 0 {
			val = strconv.FormatUint(vals[i], 10)
		}
		parts = append(parts, k+"="+val)
	}
	return hy.WriteFile(p, "io.max", strings.Join(parts, " "))
}

// ReadIOLimit reads the cap of device major:minor in p (zero fields where
// none is set).
func (hy *Hierarchy) ReadIOLimit(p Path, v Version, major, minor uint32) (IOLimit, error) {
	l := IOLimit{Major: major, Minor: minor}
	dev := fmt.Sprintf("%d:%d", major, minor)
	fields := [4]*uint64{&l.RBps, &l.WBps, &l.RIOPS, &l.WIOPS}
	if v == V1 {
		for i, f := range v1IOFiles {
			s, err := hy.ReadFile(p, f)
			if err != nil {
				return l, err
			}
			for _, line := range strings.Split(s, "\n") {
				if d, n, ok := strings.Cut(strings.TrimSpace(line), " "); ok && d == dev {
					*fields[i], _ = strconv.ParseUint(strings.TrimSpace(n), 10, 64)
				}
			}
		}
		return l, nil
	}
	s, err := hy.ReadFile(p, "io.max")
	if err != nil {
		return l, err
	}
	keys := map[string]*uint64{"rbps": &l.RBps, "wbps": &l.WBps, "riops": &l.RIOPS, "wiops": &l.WIOPS}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != dev {
			continue
		}
		for _, kv := range f[1:] {
			k, val, _ := strings.Cut(kv, "=")
			if dst, ok := keys[k]; ok && val != "max" {
				*dst, _ = strconv.ParseUint(val, 10, 64)
			}
		}
	}
	return l, nil
}
