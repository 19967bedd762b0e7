package exhaust

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.RegisterHelper(portHelperName, fault.HelperMain(portHelperName, func() fault.HelperBody { return new(portConfig) }))
}

// The helper's states in its status file.
const (
	portStateHolding = "holding"
	portStateExited  = "exited"
)

const (
	// dialTimeout bounds one connect; a destination that does not accept
	// fast enough costs a retry a second later.
	dialTimeout = 2 * time.Second
	// statusEvery is how often the helper reports the count it holds.
	statusEvery = time.Second
)

// PortStatus is what the port-exhaust helper reports each second.
type PortStatus struct {
	Time        time.Time `json:"time"`
	Fault       string    `json:"fault"`
	PID         int       `json:"pid"`
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Destination string    `json:"destination"`
	Target      int       `json:"target"` // ports asked for
	Budget      int       `json:"budget"` // ports free beyond the reserve at start
	Capped      bool      `json:"capped"` // budget < target: the reserve wins
	Held        int       `json:"held"`   // connections held now
	InUseBefore int       `json:"inUseBefore"`
	LastError   string    `json:"lastError,omitempty"`
	Deadline    time.Time `json:"deadline"`
}

// ReadPortStatus reads the port helper's status file.
func ReadPortStatus(path string) (*PortStatus, error) {
	var s PortStatus
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// portConfig is the helper's command line: `--fault ID --deadline T
// --destination ADDR:PORT --count N --reserve N --status FILE`.
type portConfig struct {
	fault.HelperArgs
	destText string
	dest     netip.AddrPort
	count    int
	reserve  int
}

// Flags implements fault.HelperBody.
func (c *portConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.destText, "destination", "", "")
	fs.IntVar(&c.count, "count", 0, "")
	fs.IntVar(&c.reserve, "reserve", -1, "")
}

// Check implements fault.HelperBody.
func (c *portConfig) Check() error {
	var err error
	if c.dest, err = parseDestination(c.destText); err != nil {
		return fmt.Errorf("--destination: %w", err)
	}
	if c.count < 1 || c.reserve < 0 {
		return fmt.Errorf("bad --count %d or --reserve %d", c.count, c.reserve)
	}
	return nil
}

// exitReason says why a helper's context ended, for its status file:
// "deadline" (by either clock), else the context's error.
func exitReason(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), fault.ErrHelperDeadline) {
		return "deadline"
	}
	return ctx.Err().Error()
}

// Run is the body of `bulwark helper port-exhaust` (fault.HelperBody): it
// opens connections to the destination until it holds --count, or as many
// as are free beyond --reserve, holds them, retries each second for any it
// lacks, reports each second, and exits at the deadline or on SIGTERM,
// closing every connection with a reset.
func (c *portConfig) Run(ctx context.Context) error {
	cfg := *c
	if err := raiseNoFile(cfg.count + fdSpare); err != nil {
		return err
	}
	lo, hi, err := portRange("/proc")
	if err != nil {
		return err
	}
	inUse, err := portsInUse("/proc", cfg.dest, lo, hi)
	if err != nil {
		return err
	}
	s := &PortStatus{Fault: cfg.Fault, PID: os.Getpid(), State: portStateHolding, Destination: cfg.dest.String(),
		Target: cfg.count, InUseBefore: inUse, Deadline: cfg.Deadline}
	s.Budget = min(cfg.count, max(0, hi-lo+1-cfg.reserve-inUse))
	s.Capped = s.Budget < cfg.count
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close() // linger 0: a reset, no TIME_WAIT holding the port
		}
	}()
	report := func() {
		s.Time, s.Held = time.Now().UTC(), len(conns)
		_ = cfg.WriteStatus(s)
	}
	report()
	d := net.Dialer{Timeout: dialTimeout}
	tick := time.NewTicker(statusEvery)
	defer tick.Stop()
	for {
		last := time.Now()
		for len(conns) < s.Budget && ctx.Err() == nil {
			c, err := d.DialContext(ctx, "tcp", cfg.dest.String())
			if err != nil {
				if ctx.Err() == nil {
					s.LastError = describeDialError(err)
				}
				break
			}
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conns = append(conns, c)
			if time.Since(last) >= statusEvery || len(conns) == s.Budget {
				report()
				last = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			s.State, s.Reason = portStateExited, exitReason(ctx)
			report()
			return nil
		case <-tick.C:
			report()
		}
	}
}

func describeDialError(err error) string {
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		return "EADDRNOTAVAIL (no ephemeral port free for the destination)"
	}
	return err.Error()
}

// raiseNoFile raises this process's RLIMIT_NOFILE to hold n fds: the soft
// limit up to the hard one, and the hard one too where this process may
// (CAP_SYS_RESOURCE).
func raiseNoFile(n int) error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("%s: read RLIMIT_NOFILE: %w", portHelperName, err)
	}
	if rl.Cur >= uint64(n) {
		return nil
	}
	if rl.Max < uint64(n) {
		rl.Max = uint64(n)
	}
	rl.Cur = rl.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("%s: raise RLIMIT_NOFILE: %w", portHelperName, err)
	}
	return nil
}

// portRange reads net.ipv4.ip_local_port_range (which IPv6 uses too) of the
// reader's network namespace.
func portRange(procRoot string) (lo, hi int, err error) {
	b, err := os.ReadFile(filepath.Join(procRoot, "sys", "net", "ipv4", "ip_local_port_range"))
	if err != nil {
		return 0, 0, fmt.Errorf("read ip_local_port_range: %w", err)
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("parse ip_local_port_range %q", b)
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 65535 {
		return 0, 0, fmt.Errorf("parse ip_local_port_range %q", b)
	}
	return lo, hi, nil
}

// portsInUse counts TCP sockets whose local port is in [lo, hi] and that
// already connect to dest, or listen (a bound port no connect may take).
func portsInUse(procRoot string, dest netip.AddrPort, lo, hi int) (int, error) {
	n := 0
	err := eachTCPSocket(procRoot, func(local, remote netip.AddrPort, state string) {
		if int(local.Port()) >= lo && int(local.Port()) <= hi && (state == "0A" || remote == dest) {
			n++
		}
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// eachTCPSocket calls fn with the local and remote address and the state
// (hex, "0A" is LISTEN) of each TCP socket in net/tcp and net/tcp6 under
// procRoot, skipping lines it cannot parse. A missing file (no IPv6) is
// not an error.
func eachTCPSocket(procRoot string, fn func(local, remote netip.AddrPort, state string)) error {
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procRoot, "net", name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("read sockets: %w", err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 4 {
				continue
			}
			local, err1 := parseProcAddr(fs[1])
			remote, err2 := parseProcAddr(fs[2])
			if err1 == nil && err2 == nil {
				fn(local, remote, fs[3])
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("read sockets: %w", err)
		}
	}
	return nil
}

// parseProcAddr parses /proc/net/tcp's "0100007F:1F90": the address as
// 32-bit words in host (little-endian) order, then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	b, err := hex.DecodeString(a)
	if err != nil || len(b)%4 != 0 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	addr, ok := netip.AddrFromSlice(b)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}
