package cpu

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The duty cycle. Each period's length is drawn from [periodMin, periodMax]
// so that it never locks in phase with the scheduler tick (100, 250, 300 or
// 1000 Hz), which samples per-CPU usage in /proc/stat.
const (
	periodMin = 8 * time.Millisecond
	periodMax = 12 * time.Millisecond
	// idleNap is how long a burner with nothing to burn sleeps before it
	// looks at its target again: the hold controller's sampling interval.
	idleNap = 100 * time.Millisecond
)

// burner burns a set share of one CPU on one locked, pinned OS thread.
type burner struct {
	cpu    int
	target atomic.Uint64 // float64 bits, percent of the core
	// offset (float64 bits, percentage points) is taken off the target: in
	// add mode, this burner's share of the CPU the helper's other threads
	// use, so that the whole process adds the target and not a bit more.
	offset atomic.Uint64
	cpuNS  atomic.Int64 // CPU the burn thread has used since it started, ns
	sink   uint64       // the spin's arithmetic, kept so it is not optimised away
}

func newBurner(cpu int, target float64) *burner {
	b := &burner{cpu: cpu}
	b.setTarget(target)
	return b
}

func (b *burner) setTarget(pct float64) { b.target.Store(math.Float64bits(clamp(pct, 0, 100))) }
func (b *burner) getTarget() float64    { return math.Float64frombits(b.target.Load()) }
func (b *burner) setOffset(pts float64) { b.offset.Store(math.Float64bits(clamp(pts, 0, 5))) }
func (b *burner) getOffset() float64    { return math.Float64frombits(b.offset.Load()) }

// run locks the goroutine to its thread, pins the thread to b.cpu, reports
// on ready, and burns until ctx is done. The thread is never unlocked, so the
// runtime ends it with the goroutine instead of reusing a pinned thread.
func (b *burner) run(ctx context.Context, ready chan<- error) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(b.cpu)
	if err := unix.SchedSetaffinity(unix.Gettid(), &set); err != nil {
		ready <- fmt.Errorf("pin burn thread to cpu %d: %w", b.cpu, err)
		return
	}
	setThreadName(fmt.Sprintf("cpu-burn/%d", b.cpu))
	ready <- nil
	b.loop(ctx)
}

// loop runs the duty cycle. Within each period it spins until the thread's
// own CPU clock shows the period's budget used (or the period is over, when
// other work preempted it), then sleeps to the period's end.
//
// The budget is closed-loop on the thread's CPU clock: it is the target share
// of the period plus the debt, the CPU the thread was owed (or overspent)
// against the target share of the wall time actually elapsed. Sleeping late,
// the runtime's own work on the thread and clock overheads are so paid back
// in the next period. The debt is bounded to one period either way, and is
// never carried while the thread was starved, so load that other processes
// took is not paid back as a burst later.
func (b *burner) loop(ctx context.Context) {
	clk := newMonoClock()
	start := threadCPU()
	last, lastCPU := time.Now(), start
	var debt time.Duration
	for ctx.Err() == nil {
		period := periodMin + rand.N(periodMax-periodMin)
		pstart := time.Now()
		tgt := max(b.getTarget()-b.getOffset(), 0)
		if tgt == 0 {
			// Nothing to burn (hold with the cores already busy enough):
			// park the goroutine until the next set-point instead of
			// waking a hundred times a second.
			time.Sleep(idleNap)
			last, lastCPU, debt = time.Now(), threadCPU(), 0
			b.cpuNS.Store(int64(lastCPU - start))
			continue
		}
		budget := min(max(share(tgt, period)+debt, 0), period)
		starved := b.spin(budget, pstart.Add(period))
		clk.sleepUntil(pstart.Add(period))
		now, used := time.Now(), threadCPU()
		b.cpuNS.Store(int64(used - start))
		debt += share(tgt, now.Sub(last)) - (used - lastCPU)
		if starved || now.Sub(last) > 2*periodMax {
			debt = min(debt, 0)
		}
		debt = min(max(debt, -periodMax), periodMax)
		last, lastCPU = now, used
	}
}

// share returns pct percent of d.
func share(pct float64, d time.Duration) time.Duration {
	return time.Duration(pct / 100 * float64(d))
}

// spin burns until the thread has used budget of CPU, or until end. It
// reports whether it ran out of time first.
func (b *burner) spin(budget time.Duration, end time.Time) bool {
	if budget <= 0 {
		return false
	}
	x, c0 := b.sink, threadCPU()
	defer func() { b.sink = x }()
	for {
		x = work(x)
		if threadCPU()-c0 >= budget {
			return false
		}
		if !time.Now().Before(end) {
			return true
		}
	}
}

// work is a few hundred nanoseconds of arithmetic between clock reads.
func work(x uint64) uint64 {
	for i := range uint64(256) {
		x = x*6364136223846793005 + i
	}
	return x
}

// threadCPU returns the calling thread's CPU time. It is a raw system call
// (CLOCK_THREAD_CPUTIME_ID has no vDSO path): a spin loop calling it must
// not look like a blocking syscall to the Go scheduler, whose monitor would
// then wake every 20 µs and burn CPU of its own.
func threadCPU() time.Duration {
	var ts unix.Timespec
	_, _, _ = unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

// monoClock maps time.Time's monotonic readings to CLOCK_MONOTONIC, to sleep
// to an absolute instant.
type monoClock struct {
	base time.Duration // CLOCK_MONOTONIC at t0
	t0   time.Time
}

func newMonoClock() monoClock {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return monoClock{base: time.Duration(ts.Nano()), t0: time.Now()}
}

// sleepUntil blocks the thread until t with clock_nanosleep(TIMER_ABSTIME).
// It is a raw system call on purpose: the burner keeps its P while it sleeps
// (GOMAXPROCS is cores+1, so the helper's main loop still has one), and the
// Go scheduler neither hands the P off nor has another thread run a timer to
// wake this one, which costs more CPU than the sleep saves (about 1.5 % of a
// core against 0.7 % measured at 100 periods a second).
func (c monoClock) sleepUntil(t time.Time) {
	ts := unix.NsecToTimespec(int64(c.base + t.Sub(c.t0)))
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_CLOCK_NANOSLEEP, unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e != unix.EINTR {
			return
		}
	}
}

// setThreadName names the calling thread ("cpu-burn/3"), so `top -H` and
// /proc/PID/task/TID/comm show which threads burn.
func setThreadName(name string) {
	b := append([]byte(name), 0)
	if len(b) > 16 {
		b = append(b[:15], 0)
	}
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}
