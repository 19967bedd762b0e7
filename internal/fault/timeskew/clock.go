package timeskew

import "time"

// clock reads and steps the host's wall clock. The real one is the
// kernel's; tests use a fake, since stepping CLOCK_REALTIME would move this
// machine's clock (it is not namespaced).
type clock interface {
	// read returns the two clocks read as close together as it can.
	read() (sample, error)
	// step moves CLOCK_REALTIME by d, atomically in the kernel.
	step(d time.Duration) error
}

// hostClock is the clock the kind acts on.
var hostClock clock = kernelClock{}
