//go:build linux

package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runBurn is `cpuload burn CPU PERCENT`: the background load of the hold
// run, a plain duty cycle pinned to one CPU that runs until killed.
func runBurn(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cpuload burn CPU PERCENT")
		return 2
	}
	cpuN, err1 := strconv.Atoi(args[0])
	pct, err2 := strconv.ParseFloat(args[1], 64)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "cpuload burn: bad arguments")
		return 2
	}
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpuN)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		fmt.Fprintln(os.Stderr, "cpuload burn:", err)
		return 1
	}
	const period = 10 * time.Millisecond
	busy := time.Duration(pct / 100 * float64(period))
	for {
		start, c0 := time.Now(), threadCPU()
		for threadCPU()-c0 < busy && time.Since(start) < period {
		}
		if d := period - time.Since(start); d > 0 {
			time.Sleep(d)
		}
	}
}

func threadCPU() time.Duration {
	var ts unix.Timespec
	_, _, _ = unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
