//go:build linux

package netfault

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.RegisterHelper(portHelperName, fault.HelperMain(portHelperName, func() fault.HelperBody { return new(occupyConfig) }))
}

// PortOccupyStatus is what the helper writes to its status file: once when
// every socket is bound (or binding failed), and once when it exits.
type PortOccupyStatus struct {
	Time  time.Time `json:"time"`
	PID   int       `json:"pid"`
	State string    `json:"state"` // "holding", "failed" or "exited"
	// Bound lists "tcp 0.0.0.0:8080", one per socket held.
	Bound  []string `json:"bound,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

// ReadPortOccupyStatus reads the helper's status file.
func ReadPortOccupyStatus(path string) (*PortOccupyStatus, error) {
	var s PortOccupyStatus
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// occupyConfig is the helper's command line: `--fault ID --deadline T
// --protocol P --ports N[-M] --address A… [--netns PATH] --status FILE`.
type occupyConfig struct {
	fault.HelperArgs
	protocol, netns, portsText string
	ports                      bulwark.PortRange
	addrs                      []netip.Addr
}

// Flags implements fault.HelperBody.
func (c *occupyConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.protocol, "protocol", "", "")
	fs.StringVar(&c.netns, "netns", "", "")
	fs.StringVar(&c.portsText, "ports", "", "")
	fs.Func("address", "", func(s string) error {
		a, err := netip.ParseAddr(s)
		c.addrs = append(c.addrs, a)
		return err
	})
}

// Check implements fault.HelperBody.
func (c *occupyConfig) Check() error {
	var err error
	if c.ports, err = bulwark.ParsePortRange(c.portsText); err != nil {
		return fmt.Errorf("--ports: %w", err)
	}
	switch {
	case !bulwark.ValidID(c.Fault):
		return fmt.Errorf("bad --fault %q", c.Fault)
	case c.protocol != ProtoTCP && c.protocol != ProtoUDP:
		return fmt.Errorf("bad --protocol %q", c.protocol)
	case len(c.addrs) == 0:
		return errors.New("no --address")
	}
	return nil
}

// Run is the body of the helper (fault.HelperBody). It enters the namespace
// it is given (this process is its own, so switching its thread harms no
// one), binds every socket, reports, and holds them until ctx ends: at the
// deadline (wall clock or monotonic timer, whichever is first) or on
// SIGTERM/SIGINT/SIGHUP.
func (c *occupyConfig) Run(ctx context.Context) error {
	runtime.LockOSThread() // sockets are made in this thread's namespace; never unlocked
	if c.netns != "" {
		if err := enterNetNS(c.netns); err != nil {
			return failOccupy(c, err)
		}
	}
	n := (int(c.ports.Last) - int(c.ports.First) + 1) * len(c.addrs)
	raiseNoFile(uint64(n + 64))
	var bound []string
	var fds []int
	for p := int(c.ports.First); p <= int(c.ports.Last); p++ {
		for _, a := range c.addrs {
			fd, err := occupy(c.protocol, a, uint16(p))
			if err != nil {
				return failOccupy(c, err)
			}
			fds = append(fds, fd)
			bound = append(bound, c.protocol+" "+netip.AddrPortFrom(a, uint16(p)).String())
		}
	}
	if err := c.WriteStatus(&PortOccupyStatus{State: "holding", Bound: bound}); err != nil {
		return err
	}
	<-ctx.Done()
	reason := "signal"
	if cause := context.Cause(ctx); errors.Is(cause, fault.ErrHelperDeadline) {
		reason = cause.Error() // "deadline (monotonic timer)" or "deadline (wall clock)"
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	return c.WriteStatus(&PortOccupyStatus{State: "exited", Reason: reason})
}

// failOccupy reports a failure in the status file and returns it.
func failOccupy(c *occupyConfig, err error) error {
	_ = c.WriteStatus(&PortOccupyStatus{State: "failed", Reason: err.Error()})
	return err
}

// enterNetNS moves the locked thread into the network namespace at path.
func enterNetNS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open network namespace: %w", err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	return nil
}

// occupy binds one socket: IPv6 sockets are IPv6-only so that 0.0.0.0 and
// :: can both be held; TCP sockets set SO_REUSEADDR (a TIME_WAIT left by the
// application does not stop the fault, and a listening socket still keeps
// every other bind out) and listen.
func occupy(proto string, a netip.Addr, port uint16) (int, error) {
	fam, typ := unix.AF_INET, unix.SOCK_STREAM
	if a.Is6() {
		fam = unix.AF_INET6
	}
	if proto == ProtoUDP {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(fam, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	var sa unix.Sockaddr
	if a.Is6() {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
		sa = &unix.SockaddrInet6{Port: int(port), Addr: a.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(port), Addr: a.As4()}
	}
	if err == nil && proto == ProtoTCP {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	}
	if err == nil {
		if err = unix.Bind(fd, sa); err != nil {
			err = fmt.Errorf("bind %s %s: %w", proto, netip.AddrPortFrom(a, port), err)
		}
	}
	if err == nil && proto == ProtoTCP {
		err = unix.Listen(fd, 1)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// raiseNoFile lifts the soft descriptor limit to n where the hard one allows.
func raiseNoFile(n uint64) {
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &l) != nil || l.Cur >= n {
		return
	}
	l.Cur = min(n, l.Max)
	_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &l)
}
