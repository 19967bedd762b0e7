//go:build linux

package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// statCPU returns utime+stime of a process from /proc/PID/stat: every
// thread, live or exited, in USER_HZ (10 ms) ticks.
func statCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// schedCPU sums the run time of a process's live threads from schedstat
// (ns), and returns the run time of its thread named burnComm prefix too.
func schedCPU(pid int, burnPrefix string) (all, burn time.Duration, found bool) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		all += time.Duration(ns)
		if burnPrefix != "" {
			if c, _ := os.ReadFile(filepath.Join(dir, t.Name(), "comm")); strings.HasPrefix(string(c), burnPrefix) {
				burn, found = burn+time.Duration(ns), true
			}
		}
	}
	return all, burn, found
}

// tree returns pid and its descendants.
func tree(pid int) []int {
	kids := map[int][]int{}
	for _, p := range pids() {
		if pp := ppid(p); pp > 0 {
			kids[pp] = append(kids[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, kids[out[i]]...)
	}
	return out
}

func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

func cmdline(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// helperPID finds the running cpu-burn helper of fault id.
func helperPID(exe, id string) (int, error) {
	for _, p := range pids() {
		a := cmdline(p)
		if len(a) >= 5 && a[0] == exe && a[2] == "cpu-burn" && a[4] == id {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no helper for fault %s", id)
}

// coreTicks returns one CPU's busy and total ticks from /proc/stat.
func coreTicks(cpu int) (busy, total uint64) {
	b, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu"+strconv.Itoa(cpu) {
			continue
		}
		for i, v := range f[1:9] {
			n, _ := strconv.ParseUint(v, 10, 64)
			total += n
			if i != 3 && i != 4 {
				busy += n
			}
		}
	}
	return busy, total
}

// coreMeter measures one CPU's usage between two readings.
type coreMeter struct {
	cpu         int
	busy, total uint64
}

func newCoreMeter(cpu int) *coreMeter {
	m := &coreMeter{cpu: cpu}
	m.busy, m.total = coreTicks(cpu)
	return m
}

// usage returns the CPU's usage in percent since the meter started.
func (m *coreMeter) usage() float64 {
	b, t := coreTicks(m.cpu)
	if t <= m.total {
		return 0
	}
	return float64(b-m.busy) / float64(t-m.total) * 100
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && !strings.HasPrefix(line, "cpu ") {
			n++
		}
	}
	return n
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// stats summarises samples.
type stats struct{ mean, sd, maxAbsErr float64 }

func summarise(xs []float64, target float64) stats {
	var s stats
	if len(xs) == 0 {
		return s
	}
	for _, x := range xs {
		s.mean += x
		s.maxAbsErr = max(s.maxAbsErr, abs(x-target))
	}
	s.mean /= float64(len(xs))
	for _, x := range xs {
		s.sd += (x - s.mean) * (x - s.mean)
	}
	if len(xs) > 1 {
		s.sd = math.Sqrt(s.sd / float64(len(xs)-1))
	}
	return s
}

func abs(x float64) float64 { return max(x, -x) }

// percentile returns the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// niceValue returns this process's nice value (from /proc/self/stat).
func niceValue() int {
	b, _ := os.ReadFile("/proc/self/stat")
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 17 {
		return 0
	}
	n, _ := strconv.Atoi(f[16])
	return n
}
