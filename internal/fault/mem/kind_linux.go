package mem

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

const (
	// readyTimeout bounds how long Apply waits for the helper's first status.
	readyTimeout = 5 * time.Second
	// tolerance is how far the resident level may be from the target.
	tolerance = 0.02
	// minFillRate is the slowest the helper is assumed to touch pages on a
	// loaded machine, which scales Verify's wait.
	minFillRate = 64 << 20
	// rampVerifyMax is the longest ramp Verify waits out; a longer one is
	// verified by its progress, and Status reports the level each second.
	rampVerifyMax = 10 * time.Second
	// statusStale is how old the status file may be before Status calls the
	// helper hung.
	statusStale = 5 * time.Second
	// How long Recover waits for a helper to go after SIGTERM, then SIGKILL.
	termWait = 2 * time.Second
	killWait = 3 * time.Second
)

// Available implements fault.Availability.
func (FillKind) Available(_ context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the mem-fill helper from")
	}
	_, err := readMemInfo(h.ProcRoot)
	return err
}

// defaultReserve is the larger of 5 % of total memory and 256 MiB.
func defaultReserve(total int64) int64 { return max(total*reservePercent/100, reserveMin) }

// Prepare implements fault.Kind: it computes the size from the host's
// memory and refuses one that would leave less than the reserve available.
func (FillKind) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*FillParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", FillID, req.Params)
	}
	m, err := readMemInfo(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", FillID, err)
	}
	size, param := int64(p.Size), "size"
	if p.Percent > 0 {
		base := m.Total
		if p.Of == "available" {
			base = m.Available
		}
		size, param = int64(math.Round(float64(base)*float64(p.Percent)/100)), "percent"
	}
	reserve := int64(p.Reserve)
	if reserve == 0 {
		reserve = defaultReserve(m.Total)
	}
	if err := checkReserve(param, size, reserve, m); err != nil {
		return nil, err
	}
	if err := checkCommon(h, req, p.Mlock, size); err != nil {
		return nil, err
	}
	return fault.NewReceipt(FillKind{}.Info(), "", receiptV1{
		Kind: FillID, Fault: req.ID, Bytes: size, Rate: int64(p.Rate), OOMScoreAdj: p.OOMScoreAdj,
		Mlock: p.Mlock, Reserve: reserve, Deadline: req.Deadline.UTC(), Exe: h.Exe,
	})
}

// checkReserve refuses a size that would leave less than reserve available.
func checkReserve(param string, size, reserve int64, m memInfo) error {
	if size <= 0 {
		return &fault.ParamError{Param: param, Message: "comes to 0 bytes"}
	}
	if m.Available-size < reserve {
		return &fault.ParamError{Param: param, Message: fmt.Sprintf("%s would leave %s of the %s available, below the reserve of %s (refused, not reduced; see --reserve)",
			fmtBytes(size), fmtBytes(max(m.Available-size, 0)), fmtBytes(m.Available), fmtBytes(reserve))}
	}
	return nil
}

// checkCommon checks what both kinds need to start a helper.
func checkCommon(h *fault.Host, req fault.Request, mlock bool, size int64) error {
	switch {
	case h.Exe == "":
		return errors.New("no bulwark executable to start the mem-fill helper from")
	case !fault.ValidFaultID(req.ID):
		return fmt.Errorf("bad fault id %q", req.ID)
	case req.Deadline.IsZero():
		return errors.New("no helper deadline")
	}
	if mlock && os.Geteuid() != 0 {
		var rl syscall.Rlimit
		if err := syscall.Getrlimit(8 /* RLIMIT_MEMLOCK */, &rl); err == nil && rl.Cur != math.MaxUint64 && int64(rl.Cur) < size {
			return &fault.ParamError{Param: "mlock", Message: fmt.Sprintf("RLIMIT_MEMLOCK is %d bytes and this is not root", rl.Cur)}
		}
	}
	return nil
}

// Apply implements fault.Kind.
func (FillKind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return apply(ctx, h, r)
}

// apply starts the helper in its own session, records it in the receipt and
// waits for its first status; on failure it stops the helper again.
func apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
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

// waitReady waits for the helper's first status file; a helper that
// reports anything but running has failed.
func waitReady(ctx context.Context, h *fault.Host, p fault.Proc, status, dir string) error {
	return h.WaitReady(ctx, p, helperName, dir, readyTimeout, func() (bool, error) {
		s, err := ReadStatus(status)
		switch {
		case err != nil:
			return false, nil // not written yet
		case s.State != stateRunning:
			return false, fmt.Errorf("it %s: %s", s.State, s.Reason)
		}
		return true, nil
	})
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

// Verify implements fault.Kind.
func (FillKind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return verify(ctx, h, r)
}

// verify measures the helper from outside: the Rss of its filled mapping in
// /proc/PID/smaps must reach the target within ±2 %, waiting at most what
// the size and rate take on a slow machine. A ramp longer than
// rampVerifyMax is verified by its progress instead.
func verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil {
		return nil, fmt.Errorf("verify %s: %w", d.Kind, errNoHelper)
	}
	p := *d.Helper
	full := time.Duration(float64(d.Bytes) / minFillRate * float64(time.Second))
	want := d.Bytes
	if d.Rate > 0 {
		ramp := time.Duration(float64(d.Bytes) / float64(d.Rate) * float64(time.Second))
		if ramp > rampVerifyMax {
			want = min(d.Bytes, d.Rate) // one second of ramp
			full = time.Second
		} else {
			full += ramp
		}
	}
	wait := 5*time.Second + full
	end := time.Now().Add(wait)
	var rss int64
	var s *Status
	for {
		if !h.Alive(p) {
			ev := fault.Evidence("helper", false, "helper %s is not running: %s", p, fault.LogTail(dataDir(h, d.Fault)))
			return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: helper %s is not running", d.Kind, p)
		}
		s, err = ReadStatus(statusPath(h, d.Fault))
		if err == nil && s.Addr != 0 {
			if rss, err = regionRSS(h.ProcRoot, p.PID, s.Addr, s.Size); err != nil {
				return nil, fmt.Errorf("verify %s: %w", d.Kind, err)
			}
			if float64(rss) >= float64(want)*(1-tolerance) {
				break
			}
		}
		if time.Now().After(end) {
			ev := fault.Evidence("resident", false, "helper %s holds %s resident of %s after %s", p, fmtBytes(rss), fmtBytes(d.Bytes), wait.Round(time.Millisecond))
			return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: %s resident of %s after %s", d.Kind, fmtBytes(rss), fmtBytes(d.Bytes), wait.Round(time.Millisecond))
		}
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return nil, fmt.Errorf("verify %s: %w", d.Kind, err)
		}
	}
	ev := []bulwark.Evidence{fault.Evidence("helper", true, "helper %s runs until %s", p, d.Deadline.Format(time.RFC3339))}
	dev := float64(rss-d.Bytes) / float64(d.Bytes) * 100
	if want < d.Bytes {
		ev = append(ev, fault.Evidence("resident", true, "ramping at %s/s: %s resident of %s so far", fmtBytes(d.Rate), fmtBytes(rss), fmtBytes(d.Bytes)))
	} else {
		ok := math.Abs(dev) <= tolerance*100
		ev = append(ev, fault.Evidence("resident", ok, "filled mapping holds %s resident of %s requested (%+.2f %%)", fmtBytes(rss), fmtBytes(d.Bytes), dev))
		if !ok {
			return ev, fmt.Errorf("verify %s: %s resident, more than 2 %% off %s", d.Kind, fmtBytes(rss), fmtBytes(d.Bytes))
		}
	}
	if vm, err := procKB(h.ProcRoot, p.PID, "VmRSS"); err == nil {
		ev = append(ev, fault.Evidence("helper rss", true, "helper's whole resident size (VmRSS) is %s", fmtBytes(vm)))
	}
	b, err := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(p.PID), "oom_score_adj"))
	adj, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	okAdj := err == nil && adj == d.OOMScoreAdj
	ev = append(ev, fault.Evidence("oom_score_adj", okAdj, "helper's oom_score_adj is %s (want %d)", strings.TrimSpace(string(b)), d.OOMScoreAdj))
	if !okAdj {
		return ev, fmt.Errorf("verify %s: helper's oom_score_adj is %q, want %d", d.Kind, strings.TrimSpace(string(b)), d.OOMScoreAdj)
	}
	return ev, nil
}

// Status implements fault.Statuser.
func (FillKind) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return status(h, r)
}

// status reports the level the helper achieved in its last status: not ok
// when the helper is gone (the OOM killer may have taken it), stale, or
// held back by the reserve.
func status(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !h.Alive(*d.Helper) {
		ev := fault.Evidence("helper", false, "the mem-fill helper of fault %s has exited (OOM-killed or stopped)", d.Fault)
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper is gone, the memory with it", d.Kind)
	}
	s, err := ReadStatus(statusPath(h, d.Fault))
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", d.Kind, err)
	}
	if age := time.Since(s.Time); s.State != stateRunning || age > statusStale {
		ev := fault.Evidence("level", false, "helper status is %s, written %s ago", s.State, age.Round(time.Millisecond))
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper status is %s and %s old", d.Kind, s.State, age.Round(time.Millisecond))
	}
	if s.Capped {
		ev := fault.Evidence("level", false, "holding %s of %s: MemAvailable %s is at the reserve of %s", fmtBytes(s.Resident), fmtBytes(s.Target), fmtBytes(s.Available), fmtBytes(d.Reserve))
		return []bulwark.Evidence{ev}, nil
	}
	ok := s.Touched < s.Target || math.Abs(float64(s.Resident-s.Target)) <= tolerance*float64(s.Target)
	return []bulwark.Evidence{fault.Evidence("level", ok, "%s resident of %s (%s touched) at %s; helper VmRSS %s",
		fmtBytes(s.Resident), fmtBytes(s.Target), fmtBytes(s.Touched), s.Time.Format(time.RFC3339), fmtBytes(s.VmRSS))}, nil
}

// Recover implements fault.Kind.
func (FillKind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return recoverFault(ctx, h, r)
}

// recoverFault stops the journaled helper and every stray of the fault
// (SIGTERM, then SIGKILL, start time checked), then removes its files. The
// kernel frees the memory with the process.
func recoverFault(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeReceipt(r)
	if err != nil {
		return err
	}
	if err := h.EndHelpers(ctx, helperRef(d), termWait, killWait); err != nil {
		return fmt.Errorf("recover %s: %w", d.Kind, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind.
func (FillKind) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return verifyRecovered(h, r)
}

func verifyRecovered(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(helperRef(d), "its "+fmtBytes(d.Bytes)+" are freed with it")
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", d.Kind, err)
	}
	return ev, nil
}

func helperRef(d receiptV1) fault.HelperRef {
	return fault.HelperRef{Exe: d.Exe, Name: helperName, Fault: d.Fault, Started: d.Helper}
}

// stop ends a helper: SIGTERM, then SIGKILL, through h.Signal (pid and start
// time checked).
func stop(ctx context.Context, h *fault.Host, p fault.Proc) error {
	return h.StopHelper(ctx, p, termWait, killWait)
}

var (
	_ fault.Kind         = FillKind{}
	_ fault.Availability = FillKind{}
	_ fault.Statuser     = FillKind{}
	_ fault.Validator    = (*FillParams)(nil)
)
