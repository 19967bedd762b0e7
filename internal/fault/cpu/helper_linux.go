package cpu

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.RegisterHelper(helperName, fault.HelperMain(helperName, func() fault.HelperBody { return new(helperConfig) }))
}

// Sampling of the helper's main loop: how often it reads /proc/stat and its
// burners, how many samples the hold controller averages over, and how many
// make the status file's "last second".
const (
	sampleEvery   = 100 * time.Millisecond
	holdWindow    = 5  // samples: 500 ms
	statusWindow  = 10 // samples: 1 s
	statusSamples = statusWindow + 1
)

// helperConfig is the helper's command line: `--fault ID --deadline T
// --percent P --cores N --mode M --status FILE`.
type helperConfig struct {
	fault.HelperArgs
	percent float64
	cores   int
	mode    string
}

// Flags implements fault.HelperBody.
func (c *helperConfig) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.percent, "percent", 0, "")
	fs.IntVar(&c.cores, "cores", 1, "")
	fs.StringVar(&c.mode, "mode", ModeAdd, "")
}

// Check implements fault.HelperBody.
func (c *helperConfig) Check() error {
	switch {
	case !(c.percent > 0 && c.percent <= 100):
		return fmt.Errorf("--percent %v is out of range", c.percent)
	case c.cores < 1:
		return fmt.Errorf("--cores %d is out of range", c.cores)
	case c.mode != ModeAdd && c.mode != ModeHold:
		return fmt.Errorf("bad --mode %q", c.mode)
	}
	return nil
}

// parseHelperArgs parses the arguments helperArgs writes.
func parseHelperArgs(args []string) (helperConfig, error) {
	var c helperConfig
	err := fault.ParseHelperArgs(helperName, args, &c)
	return c, err
}

// Run is the body of `bulwark helper cpu-burn` (fault.HelperBody): it burns
// until ctx ends, at the deadline or on a signal.
func (c *helperConfig) Run(ctx context.Context) error {
	runtime.GOMAXPROCS(c.cores + 1)
	cpus, err := allowedCPUs()
	if err != nil {
		return err
	}
	if len(cpus) < c.cores {
		return fmt.Errorf("%s: --cores %d but only %d cpus are allowed", helperName, c.cores, len(cpus))
	}
	h := &helper{cfg: *c, cpus: cpus[:c.cores], procRoot: "/proc"}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return h.run(ctx, cancel)
}

// helper is a running cpu-burn helper.
type helper struct {
	cfg      helperConfig
	cpus     []int
	procRoot string
	burners  []*burner
	samples  []sample // ring of the last statusSamples samples, oldest first
}

// sample is one reading of the burners' CPU and the cores' /proc/stat lines.
type sample struct {
	wall  time.Time
	proc  time.Duration // the helper process's CPU
	burn  []int64       // ns per burner
	times []cpuTimes
}

func (h *helper) run(ctx context.Context, cancel context.CancelFunc) error {
	var wg sync.WaitGroup
	if err := h.start(ctx, &wg); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	h.sample()
	h.writeStatus(stateRunning, "")
	tick := time.NewTicker(sampleEvery)
	defer tick.Stop()
	var reason error
	for n := 1; reason == nil; n++ {
		select {
		case <-ctx.Done():
			reason = context.Cause(ctx)
		case <-tick.C:
			h.sample()
			if h.cfg.mode == ModeHold {
				h.hold()
			} else {
				h.offset()
			}
			if n%statusWindow == 0 {
				h.writeStatus(stateRunning, "")
			}
		}
	}
	// Stop the burners and report, without waiting for each to notice: a
	// burner may sleep up to a period before it looks, and the process's
	// exit ends its thread anyway.
	cancel()
	h.writeStatus(stateExited, reason.Error())
	return nil
}

// start starts one burner per CPU and waits until each is pinned. In hold
// mode the burners start at the full target and the first samples correct
// them for the other load.
func (h *helper) start(ctx context.Context, wg *sync.WaitGroup) error {
	ready := make(chan error, len(h.cpus))
	for _, c := range h.cpus {
		b := newBurner(c, h.cfg.percent)
		h.burners = append(h.burners, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.run(ctx, ready)
		}()
	}
	var errs []error
	for range h.cpus {
		errs = append(errs, <-ready)
	}
	return errors.Join(errs...)
}

// sample appends a reading to the ring.
func (h *helper) sample() {
	s := sample{wall: time.Now(), proc: processCPU(), burn: make([]int64, len(h.burners))}
	for i, b := range h.burners {
		s.burn[i] = b.cpuNS.Load()
	}
	s.times, _ = readCPUTimes(h.procRoot, h.cpus) // nil when unreadable: hold then burns the target
	h.samples = append(h.samples, s)
	if len(h.samples) > statusSamples {
		h.samples = h.samples[1:]
	}
}

// over returns, across the last n sample intervals (fewer when the helper is
// younger), each core's own burn and total usage in percent, and the CPU the
// helper's other threads used, in percent of one core. usage is nil when
// /proc/stat could not be read.
func (h *helper) over(n int) (burn, use []float64, rest float64) {
	burn = make([]float64, len(h.burners))
	if len(h.samples) < 2 {
		return burn, nil, 0
	}
	a, b := h.samples[max(0, len(h.samples)-1-n)], h.samples[len(h.samples)-1]
	wall := float64(b.wall.Sub(a.wall))
	rest = float64(b.proc - a.proc)
	for i := range burn {
		d := float64(b.burn[i] - a.burn[i])
		burn[i] = clamp(d/wall*100, 0, 100)
		rest -= d
	}
	if a.times != nil && b.times != nil {
		use = usage(a.times, b.times)
	}
	return burn, use, max(rest/wall*100, 0)
}

// offset spreads the CPU of the helper's other threads (the main loop, the
// Go runtime) over the burners, so that in add mode the helper as a whole
// adds the target.
func (h *helper) offset() {
	_, _, rest := h.over(holdWindow)
	for _, b := range h.burners {
		b.setOffset(rest / float64(len(h.burners)))
	}
}

// hold sets each burner to the target minus the other load on its core,
// filling the least loaded cores first, never below zero.
func (h *helper) hold() {
	burn, use, _ := h.over(holdWindow)
	if use == nil {
		return
	}
	other := make([]float64, len(use))
	for i := range use {
		other[i] = max(0, use[i]-burn[i])
	}
	for i, b := range holdBurn(h.cfg.percent, other) {
		h.burners[i].setTarget(b)
	}
}

// writeStatus records the last second. A failure to write is not fatal:
// the effect matters more than its report, and Status notices a stale file.
func (h *helper) writeStatus(state, reason string) {
	s := &Status{
		Time: time.Now().UTC(), Fault: h.cfg.Fault, PID: os.Getpid(), State: state, Reason: reason,
		Mode: h.cfg.mode, Target: h.cfg.percent, Deadline: h.cfg.Deadline, CPUs: h.cpus,
	}
	for _, b := range h.burners {
		s.BurnTarget = append(s.BurnTarget, b.getTarget())
	}
	if len(h.samples) >= 2 { // else nothing measured yet
		burn, use, rest := h.over(statusWindow)
		s.Burn, s.Usage, s.Achieved = burn, use, make([]float64, len(burn))
		for i := range burn {
			s.Achieved[i] = burn[i] + rest/float64(len(burn)) // the whole helper's share
		}
		if h.cfg.mode == ModeHold && use != nil {
			s.Achieved = use
		}
		s.Total = mean(s.Achieved)
	}
	_ = h.cfg.WriteStatus(s)
}
