package hostmgr

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// bootNow returns CLOCK_BOOTTIME in nanoseconds: monotonic, counting time
// spent suspended, and unaffected by settimeofday or NTP steps.
func bootNow() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		panic("clock_gettime(CLOCK_BOOTTIME): " + err.Error())
	}
	return ts.Nano()
}

// bootID returns the kernel's boot id, which changes at every boot.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
