package mem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memInfo is what the kinds read from /proc/meminfo, in bytes.
type memInfo struct{ Total, Available int64 }

// readMemInfo parses procRoot/meminfo.
func readMemInfo(procRoot string) (memInfo, error) {
	var m memInfo
	b, err := os.ReadFile(filepath.Join(procRoot, "meminfo"))
	if err != nil {
		return m, fmt.Errorf("read meminfo: %w", err)
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "MemTotal":
			dst = &m.Total
		case "MemAvailable":
			dst = &m.Available
		default:
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse meminfo %s: %w", k, err)
		}
		*dst = n << 10
		found++
	}
	if found != 2 {
		return m, fmt.Errorf("parse meminfo: no MemTotal or MemAvailable")
	}
	return m, nil
}

// procKB reads a "Name:  N kB" field of procRoot/PID/status in bytes.
func procKB(procRoot string, pid int, field string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in status of %d", field, pid)
}

// regionRSS returns the Rss of the mappings of pid inside [addr, addr+size)
// from procRoot/PID/smaps (mlock splits the region into several).
func regionRSS(procRoot string, pid int, addr uint64, size int64) (int64, error) {
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "smaps"))
	if err != nil {
		return 0, fmt.Errorf("read smaps of %d: %w", pid, err)
	}
	defer f.Close()
	end := addr + uint64(size)
	in, found := false, false
	var sum int64
	// smaps is not read atomically: while the helper mlocks a ramp, its
	// mapping splits, and an entry read after a split can cover addresses
	// already counted. Entries come in address order, so one that starts
	// below the previous end is such a repeat and is skipped.
	var prevEnd uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if r, _, ok := strings.Cut(line, " "); ok && strings.Contains(r, "-") && !strings.HasSuffix(r, ":") {
			lo, hi, _ := strings.Cut(r, "-")
			a, err1 := strconv.ParseUint(lo, 16, 64)
			b, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = a >= addr && b <= end && a >= prevEnd
				found = found || in
				prevEnd = max(prevEnd, b)
				continue
			}
		}
		if in {
			if v, ok := strings.CutPrefix(line, "Rss:"); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("parse smaps of %d: %w", pid, err)
				}
				sum += n << 10
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read smaps of %d: %w", pid, err)
	}
	if !found {
		return 0, fmt.Errorf("no mapping at %#x in smaps of %d", addr, pid)
	}
	return sum, nil
}
