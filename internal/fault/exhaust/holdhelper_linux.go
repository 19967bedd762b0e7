package exhaust

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.RegisterHelper(holdHelperName, fault.HelperMain(holdHelperName, func() fault.HelperBody { return new(holdConfig) }))
}

const (
	// holdTick is how often the helper re-reads what is free and grows
	// or gives back.
	holdTick = 100 * time.Millisecond
	// holdChunk bounds what one tick adds, so the reserve is re-checked
	// often while the helper grows.
	holdChunk = 1024
)

// HoldStatus is what the exhaust-hold helper reports each second.
type HoldStatus struct {
	Time      time.Time `json:"time"`
	Fault     string    `json:"fault"`
	PID       int       `json:"pid"`
	State     string    `json:"state"` // holding, exited
	Reason    string    `json:"reason,omitempty"`
	Resource  string    `json:"resource"`
	Target    int       `json:"target"`
	Held      int       `json:"held"`
	Free      int       `json:"free"`
	Reserve   int       `json:"reserve"`
	Capped    bool      `json:"capped,omitempty"` // holding back (or giving back) for the reserve
	LastError string    `json:"lastError,omitempty"`
	Deadline  time.Time `json:"deadline"`
}

// ReadHoldStatus reads the exhaust-hold helper's status file.
func ReadHoldStatus(path string) (*HoldStatus, error) {
	var s HoldStatus
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// holdConfig is the helper's command line: `--fault ID --deadline T
// --resource R --target N --reserve N --proc-root DIR --status FILE`.
type holdConfig struct {
	fault.HelperArgs
	resName  string
	res      hostRes
	target   int
	reserve  int
	procRoot string
}

// Flags implements fault.HelperBody.
func (c *holdConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.resName, "resource", "", "")
	fs.IntVar(&c.target, "target", 0, "")
	fs.IntVar(&c.reserve, "reserve", -1, "")
	fs.StringVar(&c.procRoot, "proc-root", "/proc", "")
}

// Check implements fault.HelperBody.
func (c *holdConfig) Check() error {
	var err error
	if c.res, err = hostResByName(c.resName); err != nil {
		return fmt.Errorf("--resource: %w", err)
	}
	switch {
	case c.target < 1 || c.reserve < c.res.minReserve:
		return fmt.Errorf("bad --target %d or --reserve %d (at least %d)", c.target, c.reserve, c.res.minReserve)
	case !filepath.IsAbs(c.procRoot):
		return fmt.Errorf("--proc-root %q is not an absolute path", c.procRoot)
	}
	return nil
}

// pool is what the helper holds: files, threads or bound ports.
type pool interface {
	grow(n int) (int, error)
	shrink(n int)
	held() int
	// unlisted is what the kernel's counts do not show of the pool.
	unlisted() int
	close()
}

// Run is the body of `bulwark helper exhaust-hold` (fault.HelperBody): it
// takes the resource until it holds --target or only --reserve is free,
// re-reading what is free before every step (so it never takes below the
// reserve, whatever others do meanwhile), reports each second, and exits at
// the deadline or on SIGTERM, releasing all. It does not give back what it
// holds when others use up the reserve: that is the drill's effect.
func (c *holdConfig) Run(ctx context.Context) error {
	cfg := *c
	p, err := newPool(cfg)
	if err != nil {
		return err
	}
	defer p.close()
	s := &HoldStatus{Fault: cfg.Fault, PID: os.Getpid(), State: "holding", Resource: cfg.res.name,
		Target: cfg.target, Reserve: cfg.reserve, Deadline: cfg.Deadline}
	report := func() {
		s.Time, s.Held = time.Now().UTC(), p.held()
		_ = cfg.WriteStatus(s)
	}
	tick := time.NewTicker(holdTick)
	defer tick.Stop()
	lastReport := time.Time{}
	for {
		reached := p.held() >= cfg.target
		if free, _, _, err := cfg.res.free(cfg.procRoot, p.unlisted()); err != nil {
			s.LastError = err.Error()
		} else {
			s.Free = free
			switch {
			case free <= cfg.reserve:
				// Never take below the reserve. What the rest of the host
				// then uses of the reserve is its own: running out of it is
				// the drill; the helper does not give back.
				s.Capped = p.held() < cfg.target
			case p.held() < cfg.target:
				want := min(cfg.target-p.held(), free-cfg.reserve, holdChunk)
				s.Capped = free-cfg.reserve < cfg.target-p.held()
				if want > 0 {
					if n, err := p.grow(want); err != nil || n < want {
						s.LastError = fmt.Sprintf("took %d of %d: %v", n, want, err)
					}
				}
			default:
				s.Capped = false
			}
		}
		if time.Since(lastReport) >= time.Second || (!reached && p.held() >= cfg.target) || s.Capped {
			// What is free after this tick's growth or give-back.
			if free, _, _, err := cfg.res.free(cfg.procRoot, p.unlisted()); err == nil {
				s.Free = free
			}
			report()
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			s.State, s.Reason = "exited", exitReason(ctx)
			p.close()
			report()
			return nil
		case <-tick.C:
		}
	}
}

func newPool(cfg holdConfig) (pool, error) {
	switch cfg.res.name {
	case "fd":
		if err := raiseNoFile(cfg.target + fdSpare); err != nil {
			return nil, err
		}
		return &filePool{}, nil
	case "pid":
		debug.SetMaxThreads(cfg.target + 10000)
		base, err := ownThreads()
		if err != nil {
			return nil, err
		}
		return &taskPool{base: base}, nil
	case "port":
		if err := raiseNoFile(cfg.target + fdSpare); err != nil {
			return nil, err
		}
		lo, hi, err := portRange(cfg.procRoot)
		if err != nil {
			return nil, err
		}
		return &portPool{lo: lo, hi: hi, fds: map[int]int{}}, nil
	}
	return nil, fmt.Errorf("%s: no pool for %q", holdHelperName, cfg.res.name)
}

// filePool holds open files: each open of /dev/null is a new entry in the
// kernel's file table (a dup would share one).
type filePool struct{ fds []int }

func (p *filePool) grow(n int) (int, error) {
	for i := range n {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return i, err
		}
		p.fds = append(p.fds, fd)
	}
	return n, nil
}

func (p *filePool) shrink(n int) {
	for ; n > 0 && len(p.fds) > 0; n-- {
		_ = unix.Close(p.fds[len(p.fds)-1])
		p.fds = p.fds[:len(p.fds)-1]
	}
}

func (p *filePool) held() int     { return len(p.fds) }
func (p *filePool) unlisted() int { return 0 }
func (p *filePool) close()        { p.shrink(len(p.fds)) }

// taskPool holds threads: a goroutine locked to its thread and blocked
// keeps that thread (and its pid) to itself; when it returns still locked,
// the runtime ends the thread.
type taskPool struct {
	base  int
	stops []chan struct{}
}

func (p *taskPool) grow(n int) (int, error) {
	for range n {
		stop, ready := make(chan struct{}), make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(ready)
			<-stop
		}()
		<-ready
		p.stops = append(p.stops, stop)
	}
	return n, nil
}

func (p *taskPool) shrink(n int) {
	for ; n > 0 && len(p.stops) > 0; n-- {
		close(p.stops[len(p.stops)-1])
		p.stops = p.stops[:len(p.stops)-1]
	}
}

// held counts the threads beyond the ones the helper started with.
func (p *taskPool) held() int {
	n, err := ownThreads()
	if err != nil {
		return len(p.stops)
	}
	return max(n-p.base, 0)
}

func (p *taskPool) unlisted() int { return 0 }
func (p *taskPool) close()        { p.shrink(len(p.stops)) }

// ownThreads reads this process's thread count.
func ownThreads() (int, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, errors.New("no Threads in /proc/self/status")
}

// portPool holds ephemeral ports: a TCP socket bound to 0.0.0.0:port
// without SO_REUSEADDR takes the port from every connect's automatic
// choice, IPv4 and IPv6 alike (one bind table per network namespace). Such
// a socket is listed in neither net/tcp nor net/tcp6.
type portPool struct {
	lo, hi int
	fds    map[int]int // port → socket
	order  []int
}

func (p *portPool) grow(n int) (int, error) {
	got := 0
	var last error
	for port := p.lo; port <= p.hi && got < n; port++ {
		if _, ok := p.fds[port]; ok {
			continue
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return got, err
		}
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port}); err != nil {
			_ = unix.Close(fd)
			last = err
			continue // in use by someone else
		}
		p.fds[port] = fd
		p.order = append(p.order, port)
		got++
	}
	if got < n {
		return got, fmt.Errorf("no more free ports in %d-%d (last: %v)", p.lo, p.hi, last)
	}
	return got, nil
}

func (p *portPool) shrink(n int) {
	for ; n > 0 && len(p.order) > 0; n-- {
		port := p.order[len(p.order)-1]
		_ = unix.Close(p.fds[port])
		delete(p.fds, port)
		p.order = p.order[:len(p.order)-1]
	}
}

func (p *portPool) held() int     { return len(p.order) }
func (p *portPool) unlisted() int { return len(p.order) }
func (p *portPool) close()        { p.shrink(len(p.order)) }
