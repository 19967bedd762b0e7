//go:build !linux

package hostmgr

import "time"

var processStart = time.Now()

// bootNow falls back to the process's monotonic clock where there is no
// CLOCK_BOOTTIME. bootID is then unique per process start, so a later process
// treats the deadline as unknown and recovers by wall clock.
func bootNow() int64 { return int64(time.Since(processStart)) }

var processBootID = time.Now().Format(time.RFC3339Nano)

func bootID() string { return processBootID }
