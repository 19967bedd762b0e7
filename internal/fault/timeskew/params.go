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
	NTP      string `param:"ntp-daemon" default:"refuse" enum:"refuse,ignore" help:"refuse while a time daemon (chronyd, ntpd, systemd-timesyncd, ptp4l, phc2sys) runs, or ignore it (cut it off with ntp.block in the same drill)"`
}

// Validate parses the offset and insists on --host-wide.
func (p *Params) Validate() error {
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
