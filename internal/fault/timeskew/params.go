package timeskew

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// maxOffset bounds --offset: a week either way.
const maxOffset = 7 * 24 * time.Hour

// The values of --ntp-daemon.
const (
	NTPRefuse = "refuse"
	NTPIgnore = "ignore"
)

// Params are the parameters of time.skew.
type Params struct {
	Offset   string `param:"offset,required" help:"signed offset of the wall clock: 90s runs it ahead, -5m behind (a week at most)"`
	HostWide bool   `param:"host-wide" help:"required: step this whole host's CLOCK_REALTIME, for every process on it (no per-process mode exists yet)"`
	PID      int    `param:"pid,target" help:"per-process mode: unavailable, refused with the reason (a running process's CLOCK_REALTIME cannot be shifted from outside it: time namespaces do not offset CLOCK_REALTIME, LD_PRELOAD faketime reaches only processes started under it, vDSO patching through ptrace is not done); use --host-wide"`
	NTP      string `param:"ntp-daemon" default:"refuse" enum:"refuse,ignore" help:"refuse while a time daemon (chronyd, ntpd, systemd-timesyncd, ptp4l, phc2sys) runs, or ignore it (cut it off with ntp.block in the same drill)"`
}

// perProcessReason is why time.skew has no per-process mode, for --pid's
// help and its refusal.
const perProcessReason = "a running process's CLOCK_REALTIME cannot be shifted from outside it: time namespaces offset only CLOCK_MONOTONIC and CLOCK_BOOTTIME and only for processes started in them; " +
	"an LD_PRELOAD library (libfaketime) reaches only processes started under it and misses static binaries and direct vDSO or syscall users such as Go programs; " +
	"patching a running process's vDSO through ptrace (Chaos Mesh's way) stops it and rewrites its memory, which bulwark does not do"

// Validate parses the offset, refuses the per-process mode and insists on
// --host-wide.
func (p *Params) Validate() error {
	if p.PID != 0 {
		return &fault.ParamError{Param: "pid", Message: "time.skew has no per-process mode: " + perProcessReason}
	}
	if _, err := p.offset(); err != nil {
		return err
	}
	if !p.HostWide {
		return &fault.ParamError{Param: "host-wide", Message: "time.skew moves the whole host's wall clock, for every process on it; say so with --host-wide (a process's CLOCK_REALTIME cannot be shifted from outside it, and time namespaces do not shift CLOCK_REALTIME)"}
	}
	return nil
}

// offset parses --offset: a Go duration with an optional sign, not zero.
func (p *Params) offset() (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimPrefix(strings.TrimSpace(p.Offset), "+"))
	switch {
	case err != nil:
		return 0, &fault.ParamError{Param: "offset", Message: fmt.Sprintf("%q is not a signed duration (90s, -5m, 1h30m)", p.Offset)}
	case d == 0:
		return 0, &fault.ParamError{Param: "offset", Message: "a zero offset changes nothing"}
	case d > maxOffset || d < -maxOffset:
		return 0, &fault.ParamError{Param: "offset", Message: fmt.Sprintf("%v is more than %v either way", d, maxOffset)}
	}
	return d, nil
}
