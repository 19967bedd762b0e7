//go:build linux

package timeskew

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// kernelClock is CLOCK_REALTIME and CLOCK_BOOTTIME.
type kernelClock struct{}

// read takes the tightest of a few boot/real/boot readings and pairs the
// real time with the boot-time midpoint.
func (kernelClock) read() (sample, error) {
	best := sample{Spread: -1}
	for range 5 {
		var b1, r, b2 unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &b1); err != nil {
			return sample{}, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
		}
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &r); err != nil {
			return sample{}, fmt.Errorf("read CLOCK_REALTIME: %w", err)
		}
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &b2); err != nil {
			return sample{}, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
		}
		spread := time.Duration(b2.Nano() - b1.Nano())
		if best.Spread < 0 || spread < best.Spread {
			best = sample{Real: r.Nano(), Boot: b1.Nano() + int64(spread)/2, Spread: spread}
		}
	}
	return best, nil
}

// step moves CLOCK_REALTIME by d with clock_adjtime(ADJ_SETOFFSET |
// ADJ_NANO): the kernel adds d to the clock as it stands, so no time is
// lost between a read and a set. The kernel sets STA_UNSYNC.
func (kernelClock) step(d time.Duration) error {
	sec := int64(d / time.Second)
	nsec := int64(d % time.Second)
	if nsec < 0 { // the kernel wants 0 <= nsec < 1e9 and a signed second count
		sec--
		nsec += int64(time.Second)
	}
	tx := unix.Timex{Modes: unix.ADJ_SETOFFSET | unix.ADJ_NANO, Time: unix.Timeval{Sec: sec, Usec: nsec}}
	if _, err := unix.ClockAdjtime(unix.CLOCK_REALTIME, &tx); err != nil {
		return fmt.Errorf("step CLOCK_REALTIME by %v: %w", d, err)
	}
	return nil
}
