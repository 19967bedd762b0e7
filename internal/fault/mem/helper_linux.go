package mem

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.RegisterHelper(helperName, fault.HelperMain(helperName, func() fault.HelperBody { return new(helperConfig) }))
}

const (
	// tick is how often the helper grows (ramp).
	tick = 100 * time.Millisecond
	// step is how much it touches between two looks at MemAvailable.
	step = 4 << 20
)

// helperConfig is the helper's command line, as helperArgs writes it.
type helperConfig struct {
	fault.HelperArgs
	bytes   int64
	rate    int64
	oomAdj  int
	reserve int64
	mlock   bool
	procs   string
}

// Flags implements fault.HelperBody.
func (c *helperConfig) Flags(fs *flag.FlagSet) {
	fs.Int64Var(&c.bytes, "bytes", 0, "")
	fs.Int64Var(&c.rate, "rate", 0, "")
	fs.IntVar(&c.oomAdj, "oom-score-adj", 1000, "")
	fs.Int64Var(&c.reserve, "reserve", 0, "")
	fs.BoolVar(&c.mlock, "mlock", false, "")
	fs.StringVar(&c.procs, "cgroup-procs", "", "")
}

// Check implements fault.HelperBody.
func (c *helperConfig) Check() error {
	switch {
	case c.bytes <= 0:
		return fmt.Errorf("--bytes %d is out of range", c.bytes)
	case c.rate < 0 || c.reserve < 0:
		return errors.New("negative --rate or --reserve")
	case c.oomAdj < -1000 || c.oomAdj > 1000:
		return fmt.Errorf("--oom-score-adj %d is out of range", c.oomAdj)
	case c.procs != "" && !filepath.IsAbs(c.procs):
		return fmt.Errorf("--cgroup-procs %q is not an absolute path", c.procs)
	}
	return nil
}

// Run is the body of `bulwark helper mem-fill` (fault.HelperBody). It joins
// the cgroup (mem.pressure), sets its oom_score_adj, maps the region and
// fills it, and holds it until ctx ends: at the deadline or on a signal.
func (c *helperConfig) Run(ctx context.Context) error {
	cfg := *c
	pid := strconv.Itoa(os.Getpid())
	if cfg.procs != "" {
		// Before anything is mapped, so every page is charged to the cgroup.
		if err := os.WriteFile(cfg.procs, []byte(pid), 0); err != nil {
			return fmt.Errorf("%s: join cgroup: %w", helperName, err)
		}
	}
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(cfg.oomAdj)), 0); err != nil {
		return fmt.Errorf("%s: set oom_score_adj: %w", helperName, err)
	}
	page := int64(os.Getpagesize())
	size := (cfg.bytes + page - 1) / page * page
	if size > int64(^uint(0)>>1) || bits.UintSize < 64 && size > 1<<30 {
		return fmt.Errorf("%s: %d bytes do not fit this address space", helperName, size)
	}
	// A PROT_NONE guard page on each side keeps the region its own mapping
	// (never merged with a neighbour), so smaps shows its Rss alone.
	all, err := unix.Mmap(-1, 0, int(size+2*page), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("%s: map %d bytes: %w", helperName, size, err)
	}
	region := all[page : page+size]
	if err := unix.Mprotect(region, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return fmt.Errorf("%s: mprotect: %w", helperName, err)
	}
	// Exact to a page: no huge page may round the level up.
	_ = unix.Madvise(region, unix.MADV_NOHUGEPAGE)
	f := &filler{cfg: cfg, region: region, page: page, start: time.Now()}
	f.writeStatus(stateRunning, "")
	t := time.NewTicker(tick)
	defer t.Stop()
	var reason string
	for n := 0; reason == ""; n++ {
		if err := f.grow(ctx); err != nil {
			f.writeStatus(stateExited, err.Error())
			return err
		}
		if n%int(time.Second/tick) == 0 {
			f.writeStatus(stateRunning, "")
		}
		select {
		case <-ctx.Done():
			reason = stopReason(ctx)
		case <-t.C:
		}
	}
	_ = unix.Munmap(all)
	f.touched = 0
	f.writeStatus(stateExited, reason)
	return nil
}

// stopReason says why ctx ended, for the status file: "deadline (monotonic
// timer)" or "deadline (wall clock)", else "stopped: " and the cause (a
// signal).
func stopReason(ctx context.Context) string {
	if cause := context.Cause(ctx); errors.Is(cause, fault.ErrHelperDeadline) {
		return cause.Error()
	}
	return "stopped: " + context.Cause(ctx).Error()
}

// filler is the helper's state.
type filler struct {
	cfg     helperConfig
	region  []byte
	page    int64
	start   time.Time
	touched int64
	capped  bool
	avail   int64
}

// grow touches the pages the ramp allows by now, step by step, holding back
// while MemAvailable would fall below the reserve.
func (f *filler) grow(ctx context.Context) error {
	want := int64(len(f.region))
	if f.cfg.rate > 0 {
		want = min(want, int64(time.Since(f.start).Seconds()*float64(f.cfg.rate)+float64(f.cfg.rate)*tick.Seconds()))
	}
	f.capped = false
	for f.touched < want && ctx.Err() == nil {
		n := min(step, want-f.touched)
		n = (n + f.page - 1) / f.page * f.page
		n = min(n, int64(len(f.region))-f.touched)
		if m, err := readMemInfo("/proc"); err == nil {
			f.avail = m.Available
			if m.Available-n < f.cfg.reserve {
				f.capped = true
				return nil
			}
		}
		chunk := f.region[f.touched : f.touched+n]
		for i := int64(0); i < n; i += f.page {
			chunk[i] = 1
		}
		if f.cfg.mlock {
			if err := unix.Mlock(chunk); err != nil {
				return fmt.Errorf("%s: mlock: %w", helperName, err)
			}
		}
		f.touched += n
	}
	return nil
}

// resident counts the region's resident pages with mincore.
func (f *filler) resident() int64 {
	if len(f.region) == 0 || f.touched == 0 {
		return 0
	}
	vec := make([]byte, (int64(len(f.region))+f.page-1)/f.page)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(f.region))), uintptr(len(f.region)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if e != 0 {
		return -1
	}
	var n int64
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * f.page
}

// writeStatus records the level. A failure to write is not fatal: the
// effect matters more than its report, and Status notices a stale file.
func (f *filler) writeStatus(state, reason string) {
	s := &Status{
		Time: time.Now().UTC(), Fault: f.cfg.Fault, PID: os.Getpid(), State: state, Reason: reason,
		Target: f.cfg.bytes, Touched: f.touched, Capped: f.capped, Available: f.avail, Deadline: f.cfg.Deadline,
	}
	if state == stateRunning {
		s.Resident = f.resident()
		s.Addr = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(f.region))))
		s.Size = int64(len(f.region))
	}
	s.VmRSS, _ = procKB("/proc", os.Getpid(), "VmRSS")
	_ = f.cfg.WriteStatus(s)
}

var errNoHelper = errors.New("no helper recorded")
