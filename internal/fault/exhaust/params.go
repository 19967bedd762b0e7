package exhaust

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// maxHeadroom bounds --headroom: more than this is no exhaustion.
const maxHeadroom = 1 << 20

// checkHostWide checks the choice between one target and the host-wide
// mode (DESIGN §6.11): the mode is asked for explicitly with --host-wide,
// and --reserve means nothing without it. The reserve's default and
// minimum are the resource's (see hostres_linux.go), checked at Prepare.
func checkHostWide(hostWide, targetGiven bool, target string, reserveGiven bool) error {
	switch {
	case hostWide && targetGiven:
		return &fault.ParamError{Param: "host-wide", Message: "give --" + target + " or --host-wide, not both"}
	case !hostWide && reserveGiven:
		return &fault.ParamError{Param: "reserve", Message: "only applies with --host-wide"}
	}
	return nil
}

// FDParams are the parameters of fd.exhaust.
type FDParams struct {
	PID      int  `param:"pid,target" help:"the process whose file descriptors to exhaust (its RLIMIT_NOFILE is lowered)"`
	Headroom int  `param:"headroom" default:"0" min:"0" max:"1048576" help:"how many more files the target may still open before EMFILE"`
	Hard     bool `param:"hard" help:"lower the hard limit too, so the target cannot raise its soft limit back (root restores it on recover)"`
	HostWide bool `param:"host-wide" help:"exhaust the kernel's file table (fs.file-nr against fs.file-max) instead of one process: a helper opens files until only --reserve are free"`
	Reserve  int  `param:"reserve" min:"0" unit:"fds" help:"with --host-wide, file handles always left free for the rest of the host (default the larger of 5 % of fs.file-max and 4096; at least 1024)"`
}

// Validate implements fault.Validator.
func (p *FDParams) Validate() error {
	if err := checkHostWide(p.HostWide, p.PID != 0, "pid", p.Reserve > 0); err != nil {
		return err
	}
	if p.HostWide {
		if p.Hard || p.Headroom != 0 {
			return &fault.ParamError{Param: "host-wide", Message: "--hard and --headroom apply to one target, not --host-wide"}
		}
		return nil
	}
	return checkPID(p.PID)
}

// PIDParams are the parameters of pid.exhaust.
type PIDParams struct {
	PID      int  `param:"pid,target" help:"the process whose forks to make fail (it is moved into a child pids cgroup of its own cgroup)"`
	Headroom int  `param:"headroom" default:"0" min:"0" max:"1048576" help:"how many more tasks (processes or threads) the target may start before its fork fails with EAGAIN"`
	HostWide bool `param:"host-wide" help:"exhaust the task slots of bulwark's pid namespace (its kernel.pid_max, and the kernel's threads-max) instead of one process: a helper starts threads until only --reserve are free"`
	Reserve  int  `param:"reserve" min:"0" unit:"tasks" help:"with --host-wide, task slots always left free for the rest of the host (default the larger of 5 % of the capacity and 256; at least 64)"`
}

// Validate implements fault.Validator.
func (p *PIDParams) Validate() error {
	if err := checkHostWide(p.HostWide, p.PID != 0, "pid", p.Reserve > 0); err != nil {
		return err
	}
	if p.HostWide {
		if p.Headroom != 0 {
			return &fault.ParamError{Param: "host-wide", Message: "--headroom applies to one target, not --host-wide"}
		}
		return nil
	}
	return checkPID(p.PID)
}

func checkPID(pid int) error {
	switch {
	case pid == 0:
		return &fault.ParamError{Param: "pid", Message: "is required (exhaustion is scoped to one target process)"}
	case pid < 0:
		return &fault.ParamError{Param: "pid", Message: fmt.Sprintf("%d is not a pid", pid)}
	}
	return nil
}

// PortParams are the parameters of port.exhaust.
type PortParams struct {
	Destination string          `param:"destination,target" help:"the IP:port whose connections use up the ephemeral ports (an address literal, [v6]:port for IPv6); a listener must accept there; or --host-wide"`
	Count       int             `param:"count" min:"0" help:"how many ephemeral ports to hold; default all but --reserve"`
	Percent     bulwark.Percent `param:"percent" unit:"%" help:"how much of ip_local_port_range to hold, instead of --count"`
	Reserve     string          `param:"reserve" help:"ports of the range always left free for the destination: a number, or a share such as 5%; default 5% (at least 1); 0 must be asked for"`
	HostWide    bool            `param:"host-wide" help:"exhaust the ephemeral ports of bulwark's network namespace for every destination: a helper binds every free port of the range but --reserve (at least 16)"`
}

// Validate implements fault.Validator.
func (p *PortParams) Validate() error {
	if p.HostWide && p.Destination != "" {
		return &fault.ParamError{Param: "host-wide", Message: "give --destination or --host-wide, not both"}
	}
	if p.HostWide {
		if p.Count > 0 && p.Percent > 0 {
			return &fault.ParamError{Param: "percent", Message: "give --count or --percent, not both"}
		}
		_, err := parseReserve(p.Reserve)
		return err
	}
	if p.Destination == "" {
		return &fault.ParamError{Param: "destination", Message: "is required (or give --host-wide)"}
	}
	if _, err := parseDestination(p.Destination); err != nil {
		return err
	}
	if p.Count > 0 && p.Percent > 0 {
		return &fault.ParamError{Param: "percent", Message: "give --count or --percent, not both"}
	}
	_, err := parseReserve(p.Reserve)
	return err
}

// parseDestination parses an IP:port literal; names are refused so that no
// resolver is consulted and the address recorded is the one used.
func parseDestination(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	switch {
	case err != nil:
		return ap, &fault.ParamError{Param: "destination", Message: fmt.Sprintf("%q is not IP:port (an address literal, [v6]:port for IPv6)", s)}
	case ap.Port() == 0:
		return ap, &fault.ParamError{Param: "destination", Message: "port 0 is not a destination"}
	case ap.Addr().IsUnspecified() || ap.Addr().IsMulticast():
		return ap, &fault.ParamError{Param: "destination", Message: fmt.Sprintf("%s is not a unicast address", ap.Addr())}
	case ap.Addr().Zone() != "":
		return ap, &fault.ParamError{Param: "destination", Message: "addresses with a zone are not supported"}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// reserve is a parsed --reserve: a number of ports, or a share of the range.
type reserve struct {
	ports   int
	percent float64
	share   bool
}

// defaultReserve is the reserve when none is given: 5 % of the range.
var defaultReserve = reserve{percent: 5, share: true}

func parseReserve(s string) (reserve, error) {
	if s == "" {
		return defaultReserve, nil
	}
	if strings.HasSuffix(s, "%") {
		p, err := bulwark.ParsePercent(s)
		if err != nil {
			return reserve{}, &fault.ParamError{Param: "reserve", Message: err.Error()}
		}
		return reserve{percent: float64(p), share: true}, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return reserve{}, &fault.ParamError{Param: "reserve", Message: fmt.Sprintf("%q is not a number of ports or a share such as 5%%", s)}
	}
	return reserve{ports: n}, nil
}

// of returns the ports the reserve keeps out of a range of size n: a share is
// rounded up and at least 1 unless it is 0 %.
func (r reserve) of(n int) int {
	if !r.share {
		return r.ports
	}
	if r.percent == 0 {
		return 0
	}
	return max(1, int(math.Ceil(r.percent*float64(n)/100)))
}
