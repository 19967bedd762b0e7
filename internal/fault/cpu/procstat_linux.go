package cpu

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cpuTimes is one CPU's line of /proc/stat, in USER_HZ ticks.
type cpuTimes struct {
	busy, total uint64
}

// readCPUTimes reads the per-CPU lines of procRoot/stat for the given CPUs.
// Busy time is everything but idle and iowait (guest time is already in
// user).
func readCPUTimes(procRoot string, cpus []int) ([]cpuTimes, error) {
	b, err := os.ReadFile(filepath.Join(procRoot, "stat"))
	if err != nil {
		return nil, fmt.Errorf("read cpu times: %w", err)
	}
	all := map[int]cpuTimes{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "cpu") || strings.HasPrefix(line, "cpu ") {
			continue
		}
		f := strings.Fields(line)
		n, err := strconv.Atoi(strings.TrimPrefix(f[0], "cpu"))
		if err != nil || len(f) < 5 {
			continue
		}
		var t cpuTimes
		for i, s := range f[1:min(len(f), 9)] { // user nice system idle iowait irq softirq steal
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse %s line: %w", f[0], err)
			}
			t.total += v
			if i != 3 && i != 4 {
				t.busy += v
			}
		}
		all[n] = t
	}
	out := make([]cpuTimes, len(cpus))
	for i, c := range cpus {
		t, ok := all[c]
		if !ok {
			return nil, fmt.Errorf("read cpu times: no cpu%d in %s/stat", c, procRoot)
		}
		out[i] = t
	}
	return out, nil
}

// usage returns the percentage of each CPU that was busy between a and b.
func usage(a, b []cpuTimes) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		if dt := b[i].total - a[i].total; dt > 0 && b[i].total >= a[i].total {
			out[i] = clamp(float64(b[i].busy-a[i].busy)/float64(dt)*100, 0, 100)
		}
	}
	return out
}

// allowedCPUs returns the CPUs this process may run on, in order.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("get cpu affinity: %w", err)
	}
	var cpus []int
	for c, n := 0, set.Count(); c < 1<<16 && len(cpus) < n; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// usableCPUs is how many CPUs a helper started now could pin to.
func usableCPUs() (int, error) {
	cpus, err := allowedCPUs()
	return len(cpus), err
}

// processCPU returns the CPU time the calling process has used.
func processCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
