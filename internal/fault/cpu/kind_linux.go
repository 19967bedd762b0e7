package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

const (
	// readyTimeout bounds how long Apply waits for the helper's first status.
	readyTimeout = 5 * time.Second
	// verifyWindow is the shortest window Verify measures the burn over (a
	// whole duty-cycle period); verifyMax is how long it waits for any burn.
	verifyWindow = periodMax
	verifyMax    = 500 * time.Millisecond
	// statusStale is how old the status file may be before Status calls the
	// helper hung.
	statusStale = 5 * time.Second
	// statusTolerance is how far, in percentage points, the achieved level may
	// be from the target before Status marks its evidence not ok.
	statusTolerance = 5.0
)

// Available implements fault.Availability.
func (Kind) Available(_ context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the cpu-burn helper from")
	}
	if _, err := allowedCPUs(); err != nil {
		return err
	}
	return nil
}

// Apply implements fault.Kind. It starts the helper in its own session,
// records its pid and start time in the receipt, and returns once the helper
// has pinned its burners and written its first status. On any failure it
// stops the helper again.
func (Kind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeReceipt(r)
	if err != nil {
		return err
	}
	dir, status, err := h.HelperFiles(d.Fault)
	if err != nil {
		return err
	}
	p, err := spawn(h, d, dir, status)
	if err != nil {
		return err
	}
	d.Helper = &p
	if err := r.Set(d); err != nil {
		return errors.Join(err, stop(context.WithoutCancel(ctx), h, p))
	}
	if err := waitReady(ctx, h, p, status, dir); err != nil {
		return errors.Join(err, stop(context.WithoutCancel(ctx), h, p))
	}
	return nil
}

// spawn starts the helper (see fault.Host.StartHelper).
func spawn(h *fault.Host, d receiptV1, dir, status string) (fault.Proc, error) {
	return h.StartHelper(d.Exe, helperArgs(d, status), dir)
}

// waitReady waits for the helper's first status file, failing early if the
// helper exits.
func waitReady(ctx context.Context, h *fault.Host, p fault.Proc, status, dir string) error {
	return h.WaitReady(ctx, p, helperName, dir, readyTimeout, func() (bool, error) {
		_, err := os.Stat(status)
		return err == nil, nil
	})
}

// Verify implements fault.Kind: the helper is alive with its recorded start
// time, and its CPU time grows. The evidence gives the level measured over
// the verify window (a couple of duty-cycle periods, so it is rough; the
// status file has the level over each second).
func (Kind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil {
		return nil, fmt.Errorf("verify %s: no helper recorded", ID)
	}
	p := *d.Helper
	if !alive(h, p) {
		ev := fault.Evidence("helper", false, "helper %s is not running", p)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: helper %s is not running", ID, p)
	}
	ev := []bulwark.Evidence{fault.Evidence("helper", true, "helper %s runs until %s", p, d.Deadline.Format(time.RFC3339))}
	used, took, err := measureBurn(ctx, h, p)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", ID, err)
	}
	level := float64(used) / float64(took) / float64(d.Cores) * 100
	ev = append(ev, fault.Evidence("burn", true, "helper used %s of CPU in %s: %.1f %% of each of %d core(s) (%s target %g %%)",
		used.Round(10*time.Microsecond), took.Round(10*time.Microsecond), level, d.Cores, d.Mode, d.Percent))
	return ev, nil
}

// measureBurn samples the helper's CPU time until it has grown over at least
// verifyWindow, and fails if it has not grown within verifyMax.
func measureBurn(ctx context.Context, h *fault.Host, p fault.Proc) (used, took time.Duration, err error) {
	c0, err := procCPU(h.ProcRoot, p.PID)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	for {
		if err := sleepCtx(ctx, time.Millisecond); err != nil {
			return 0, 0, err
		}
		c, err := procCPU(h.ProcRoot, p.PID)
		if err != nil {
			return 0, 0, err
		}
		used, took = c-c0, time.Since(t0)
		switch {
		case used > 0 && took >= verifyWindow:
			return used, took, nil
		case took >= verifyMax:
			return used, took, fmt.Errorf("helper %s used no CPU in %s", p, took.Round(time.Millisecond))
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Status implements fault.Statuser: the helper still runs and its status
// file is fresh. The evidence gives the level achieved over the last second;
// it is not ok when that is more than statusTolerance points off the target
// (the cores are busier than an add can reach, or the helper is throttled).
func (Kind) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !alive(h, *d.Helper) {
		ev := fault.Evidence("helper", false, "the cpu-burn helper of fault %s has exited", d.Fault)
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper is gone, the load with it", ID)
	}
	if st, _ := h.ReadProcStat(d.Helper.PID); st.State == 'T' || st.State == 't' {
		ev := fault.Evidence("helper", false, "helper %s is stopped", d.Helper)
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper %s is stopped", ID, d.Helper)
	}
	s, err := ReadStatus(statusPath(h, d.Fault))
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", ID, err)
	}
	if age := now(h).Sub(s.Time); s.State != stateRunning || age > statusStale {
		ev := fault.Evidence("level", false, "helper status is %s, written %s ago", s.State, age.Round(time.Millisecond))
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper status is %s and %s old", ID, s.State, age.Round(time.Millisecond))
	}
	if len(s.Achieved) == 0 {
		return []bulwark.Evidence{fault.Evidence("level", true, "helper started at %s; no level measured yet", s.Time.Format(time.RFC3339))}, nil
	}
	ok := levelOK(s)
	return []bulwark.Evidence{fault.Evidence("level", ok, "achieved %.1f %% (per core %s) of %s target %g %% over the second to %s",
		s.Total, percents(s.Achieved), s.Mode, s.Target, s.Time.Format(time.RFC3339))}, nil
}

// levelOK reports whether the achieved level is what the mode promises:
// within statusTolerance of the target, or in hold mode above it only while
// the other load alone is above it (the helper then burns nothing).
func levelOK(s *Status) bool {
	if math.Abs(s.Total-s.Target) <= statusTolerance {
		return true
	}
	if s.Mode != ModeHold || s.Total < s.Target {
		return false
	}
	for _, b := range s.BurnTarget {
		if b > 0 {
			return false
		}
	}
	return true
}

func now(h *fault.Host) time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func percents(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, ", ")
}

// Recover implements fault.Kind: it stops the journaled helper and every
// stray helper of the fault (SIGTERM, then SIGKILL, pid and start time
// checked), then removes the fault's status file and log. A helper that has
// already exited is not an error.
func (Kind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeReceipt(r)
	if err != nil {
		return err
	}
	if err := h.EndHelpers(ctx, helperRef(d), termWait, killWait); err != nil {
		return fmt.Errorf("recover %s: %w", ID, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind: no helper of the fault runs, by
// its recorded identity or by command line.
func (Kind) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(helperRef(d), "")
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", ID, err)
	}
	return ev, nil
}
