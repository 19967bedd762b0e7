package timeskew

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Kind{}) }

// Tolerances of the read-backs. A wall clock nobody touches keeps its
// position on the boot-time line to within microseconds; NTP-style slewing
// would move it by at most 0.5 ms a second.
const (
	// settled is how close to its target the clock must be after a step.
	settled = 50 * time.Millisecond
	// driftAfter is how far it may wander before Status calls it drift.
	driftAfter = time.Second
	// noStep is the shift under which Recover leaves the clock alone.
	noStep = 100 * time.Microsecond
)

// Kind is time.skew: the host's wall clock stepped by a signed offset, and
// stepped back onto its anchored time line at recover.
type Kind struct{}

// skewV1 is time.skew's receipt data, version 1.
type skewV1 struct {
	// Offset is signed, in nanoseconds (bulwark.Duration is never negative).
	Offset time.Duration `json:"offsetNs"`
	// Anchor is the clocks as read at Prepare, before any step.
	Anchor sample `json:"anchor"`
	// AppliedAt is the wall time just after Apply's step (display only).
	AppliedAt *time.Time `json:"appliedAt,omitempty"`
}

// Info implements fault.Kind.
func (Kind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "time.skew",
		Summary:        "Step this host's wall clock (CLOCK_REALTIME) by a signed offset, host-wide by explicit opt-in; restored onto its time line at recover",
		SummaryZH:      "时钟偏移：按有符号偏移量调整本机系统时间（CLOCK_REALTIME，须明确指定全机生效），恢复时回到原时间线",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(Params) },
	}
}

// Available reports whether this host can step its clock: Linux, and root
// (CAP_SYS_TIME).
func (Kind) Available(ctx context.Context, h *fault.Host) error {
	if runtime.GOOS != "linux" {
		return errors.New("time.skew needs Linux clock_adjtime")
	}
	if os.Geteuid() != 0 {
		return errors.New("time.skew needs root (CAP_SYS_TIME) to step the clock")
	}
	return nil
}

// Prepare checks the offset, refuses while a time daemon runs (unless told
// to ignore it), and anchors the wall clock on the boot-time line. It
// changes nothing.
func (k Kind) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*Params)
	if !ok {
		return nil, fmt.Errorf("prepare time.skew: params are %T", req.Params)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	off, _ := p.offset()
	if p.NTP != NTPIgnore {
		ds, err := runningTimeDaemons(h.ProcRoot)
		if err != nil {
			return nil, err
		}
		if len(ds) > 0 {
			return nil, &fault.ParamError{Param: "ntp-daemon", Message: fmt.Sprintf("%s would set the clock back during the fault and fight the restore; stop it, or block its servers with ntp.block in the same drill and pass --ntp-daemon=ignore", strings.Join(ds, ", "))}
		}
	}
	anchor, err := hostClock.read()
	if err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), "clock:realtime", &skewV1{Offset: off, Anchor: anchor})
}

// Apply steps the clock so that it stands Offset from the anchored time
// line. Computed from the anchor, it is exact however long after Prepare it
// runs, and stepping twice is harmless.
func (Kind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	if err := moveTo(d, d.Offset); err != nil {
		return err
	}
	now := time.Now().UTC()
	d.AppliedAt = &now
	return r.Set(d)
}

// Verify reads the clock back: it stands Offset from the anchored line.
func (Kind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return check(r, settled)
}

// Status reports drift: the clock moved by someone else since the step.
func (Kind) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return check(r, driftAfter)
}

// Recover steps the clock back onto the anchored time line: the anchored
// wall time plus the boot time elapsed since, so the fault's time is kept.
// A clock already on the line is left alone.
func (Kind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	return moveTo(d, 0)
}

// VerifyRecovered checks the clock is back on the anchored time line.
func (Kind) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	now, err := hostClock.read()
	if err != nil {
		return nil, err
	}
	s := shift(d.Anchor, now)
	if s > settled || s < -settled {
		err := fmt.Errorf("the wall clock stands %v from its time line anchored at inject", s)
		return []bulwark.Evidence{fault.Evidence("clock", false, "%v", err)}, err
	}
	return []bulwark.Evidence{fault.Evidence("clock", true, "the wall clock is back on its time line anchored at inject (%v off, read within %v); time that passed during the fault is kept", s, now.Spread)}, nil
}

// moveTo steps the clock so that it stands offset from d's anchored line.
func moveTo(d *skewV1, offset time.Duration) error {
	now, err := hostClock.read()
	if err != nil {
		return err
	}
	step := stepFor(d.Anchor, now, offset)
	if step < noStep && step > -noStep {
		return nil
	}
	return hostClock.step(step)
}

// check reads the clock and compares its position with the offset.
func check(r *fault.Receipt, tolerance time.Duration) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	now, err := hostClock.read()
	if err != nil {
		return nil, err
	}
	s, want := shift(d.Anchor, now), d.Offset
	if off := s - want; off > tolerance || off < -tolerance {
		err := fmt.Errorf("the wall clock stands %v from its anchored time line, want %v: moved by %v since the step (by an NTP daemon or a person?)", s, want, off)
		return []bulwark.Evidence{fault.Evidence("clock", false, "%v", err)}, err
	}
	return []bulwark.Evidence{
		fault.Evidence("clock", true, "CLOCK_REALTIME reads %s, %v from its time line anchored at inject (want %v; read within %v)",
			time.Unix(0, now.Real).UTC().Format(time.RFC3339Nano), s, want, now.Spread),
		fault.Evidence("scope", true, "host-wide: every process on this host sees the skewed wall clock; CLOCK_MONOTONIC and CLOCK_BOOTTIME, and the fault's own deadline, are unaffected"),
	}, nil
}

// decode reads receipt data of any version this binary knows.
func decode(r *fault.Receipt) (*skewV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("time.skew receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d skewV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if d.Offset == 0 || d.Anchor.Boot == 0 {
		return nil, fmt.Errorf("time.skew receipt lacks its offset or anchor")
	}
	return &d, nil
}

var (
	_ fault.Kind         = Kind{}
	_ fault.Availability = Kind{}
	_ fault.Statuser     = Kind{}
)
