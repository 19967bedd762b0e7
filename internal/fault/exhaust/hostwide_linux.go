package exhaust

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// holdHelperName is the host-wide helper: `bulwark helper exhaust-hold …`.
const holdHelperName = "exhaust-hold"

// holdReadyTimeout bounds how long Verify waits for the helper to hold its
// target (thousands of threads or files take a moment).
const holdReadyTimeout = 30 * time.Second

// hostWideReceiptV2 is the undo record of the host-wide modes of the three
// kinds (receipt version 2; version 1 knew only per-target records, and a
// binary of that version refuses version 2), told apart from the
// per-target records, which are unchanged in version 2, by HostWide.
type hostWideReceiptV2 struct {
	HostWide bool        `json:"hostWide"`
	Fault    string      `json:"fault"`
	Resource string      `json:"resource"` // fd, pid, port
	Target   int         `json:"target"`   // how many to hold
	Reserve  int         `json:"reserve"`  // always left free
	Free     int         `json:"free"`     // free at prepare
	Capacity int         `json:"capacity"`
	Counted  string      `json:"counted"`
	ProcRoot string      `json:"procRoot"`
	Deadline time.Time   `json:"deadline"`
	Exe      string      `json:"exe"`
	Helper   *fault.Proc `json:"helper,omitempty"`
}

// isHostWide reports whether r is a host-wide receipt.
func isHostWide(r *fault.Receipt) bool {
	var d struct {
		HostWide bool `json:"hostWide"`
	}
	return r.Version >= 2 && r.Decode(&d) == nil && d.HostWide
}

func decodeHostWide(r *fault.Receipt) (hostWideReceiptV2, error) {
	var d hostWideReceiptV2
	if r.Version != 2 {
		return d, fmt.Errorf("decode %s receipt: a host-wide record needs version 2, not %d", r.Kind, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if _, err := hostResByName(d.Resource); err != nil || !fault.ValidFaultID(d.Fault) || d.Exe == "" || !filepath.IsAbs(d.ProcRoot) {
		return d, fmt.Errorf("decode %s receipt: bad host-wide record", r.Kind)
	}
	return d, nil
}

func (d hostWideReceiptV2) ref() fault.HelperRef {
	return fault.HelperRef{Exe: d.Exe, Name: holdHelperName, Fault: d.Fault, Started: d.Helper}
}

// prepareHostWide plans a host-wide fault: it reads what is free, applies
// the reserve (the default, at least the minimum) and refuses what would go
// below it or beyond what one helper holds. count 0 holds all but the
// reserve. It changes nothing.
func prepareHostWide(h *fault.Host, info fault.KindInfo, req fault.Request, res hostRes, reserve, count int, countParam string) (*fault.Receipt, error) {
	switch {
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the helper from", res.kind)
	case !fault.ValidFaultID(req.ID):
		return nil, fmt.Errorf("prepare %s: bad fault id %q", res.kind, req.ID)
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", res.kind)
	}
	free, capacity, desc, err := res.free(h.ProcRoot, 0)
	if err != nil {
		return nil, fmt.Errorf("prepare %s --host-wide: %w", res.kind, err)
	}
	if reserve == 0 {
		reserve = max(res.defaultReserve(capacity), res.minReserve)
	}
	if reserve < res.minReserve {
		return nil, &fault.ParamError{Param: "reserve", Message: fmt.Sprintf("%d %s is below the minimum reserve of %d for --host-wide", reserve, res.unit, res.minReserve)}
	}
	if free <= reserve {
		return nil, &fault.ParamError{Param: "reserve", Message: fmt.Sprintf("only %d %s are free (%s): a reserve of %d leaves nothing to exhaust", free, res.unit, desc, reserve)}
	}
	target := free - reserve
	if count > 0 {
		if count > target {
			return nil, &fault.ParamError{Param: countParam, Message: fmt.Sprintf("%d %s would leave fewer than the reserve of %d free (%d free: %s; refused, not reduced)", count, res.unit, reserve, free, desc)}
		}
		target = count
	}
	if most, why := res.maxHold(h); target > most {
		return nil, &fault.ParamError{Param: "host-wide", Message: fmt.Sprintf("exhausting this host means holding %d %s (%s, reserve %d), but %s; use the per-process mode, or a larger --reserve",
			target, res.unit, desc, reserve, why)}
	}
	return fault.NewReceipt(info, "host-wide:"+res.name, hostWideReceiptV2{
		HostWide: true, Fault: req.ID, Resource: res.name, Target: target, Reserve: reserve, Free: free,
		Capacity: capacity, Counted: desc, ProcRoot: h.ProcRoot, Deadline: req.Deadline.UTC(), Exe: h.Exe,
	})
}

func holdHelperArgs(d hostWideReceiptV2, status string) []string {
	return []string{
		"helper", holdHelperName,
		"--fault", d.Fault,
		"--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--resource", d.Resource,
		"--target", strconv.Itoa(d.Target),
		"--reserve", strconv.Itoa(d.Reserve),
		"--proc-root", d.ProcRoot,
		"--status", status,
	}
}

// applyHostWide starts the helper, records it and waits for its first
// status; on failure it stops the helper again.
func applyHostWide(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeHostWide(r)
	if err != nil {
		return err
	}
	dir, status, err := h.HelperFiles(d.Fault)
	if err != nil {
		return err
	}
	p, err := h.StartHelper(d.Exe, holdHelperArgs(d, status), dir)
	if err != nil {
		return err
	}
	d.Helper = &p
	if err := r.Set(d); err != nil {
		return errors.Join(err, stopHelper(context.WithoutCancel(ctx), h, p))
	}
	if _, err := waitHold(ctx, h, d, 5*time.Second, func(*HoldStatus) bool { return true }); err != nil {
		return errors.Join(err, stopHelper(context.WithoutCancel(ctx), h, p))
	}
	return nil
}

// waitHold waits until the helper's status satisfies ok.
func waitHold(ctx context.Context, h *fault.Host, d hostWideReceiptV2, wait time.Duration, ok func(*HoldStatus) bool) (*HoldStatus, error) {
	return waitStatus(ctx, h, d.Helper, holdHelperName, d.Fault, wait, ok, func(s *HoldStatus) error {
		return fmt.Errorf("%s helper holds %d of %d %s after %s (free %d, reserve %d, last error: %s)", holdHelperName, s.Held, s.Target, d.Resource, wait, s.Free, d.Reserve, orNone(s.LastError))
	})
}

// verifyHostWide waits (bounded) for the helper to hold its target, or to
// stop at the reserve; the evidence gives what it holds and what is free.
func verifyHostWide(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeHostWide(r)
	if err != nil {
		return nil, err
	}
	s, err := waitHold(ctx, h, d, holdReadyTimeout, func(s *HoldStatus) bool { return s.Held >= s.Target || s.Capped && s.Free <= s.Reserve })
	if err != nil {
		return nil, fmt.Errorf("verify %s --host-wide: %w", r.Kind, err)
	}
	res, _ := hostResByName(d.Resource)
	free, _, desc, ferr := res.free(d.ProcRoot, s.Held)
	if ferr != nil {
		return nil, fmt.Errorf("verify %s --host-wide: %w", r.Kind, ferr)
	}
	// Exhausted: the helper holds its plan, or it stopped short because
	// others took the rest meanwhile and only the reserve is free.
	ok := exhausted(s)
	held := fault.Evidence("held", ok, "helper %s holds %d of the %d %s planned until %s", d.Helper, s.Held, s.Target, res.unit, d.Deadline.Format(time.RFC3339))
	left := fault.Evidence("free", free >= d.Reserve || ok, "%d %s free now, reserve %d (%s)", free, res.unit, d.Reserve, desc)
	ev := []bulwark.Evidence{held, left}
	if !ok {
		return ev, fmt.Errorf("verify %s --host-wide: the helper holds %d of %d %s with %d free, reserve %d (%s)", r.Kind, s.Held, s.Target, res.unit, s.Free, d.Reserve, orNone(s.LastError))
	}
	return ev, nil
}

// statusHostWide reports the helper's last status: it runs, is fresh and
// holds its target.
func statusHostWide(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeHostWide(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !h.Alive(*d.Helper) {
		return []bulwark.Evidence{fault.Evidence("helper", false, "the %s helper of fault %s has exited", holdHelperName, d.Fault)},
			fmt.Errorf("status %s --host-wide: helper is gone, and what it held with it", r.Kind)
	}
	s, err := ReadHoldStatus(filepath.Join(h.DataPath(d.Fault), "status.json"))
	if err != nil {
		return nil, fmt.Errorf("status %s --host-wide: %w", r.Kind, err)
	}
	if age := time.Since(s.Time); age > portStatusStale {
		return []bulwark.Evidence{fault.Evidence("held", false, "helper status is %s old", age.Round(time.Millisecond))}, fmt.Errorf("status %s --host-wide: helper status is %s old", r.Kind, age.Round(time.Millisecond))
	}
	ok := exhausted(s)
	ev := []bulwark.Evidence{fault.Evidence("held", ok, "helper holds %d of %d %s, %d free (reserve %d) at %s", s.Held, s.Target, d.Resource, s.Free, d.Reserve, s.Time.Format(time.RFC3339))}
	if !ok {
		return ev, fmt.Errorf("status %s --host-wide: helper holds %d of %d with %d free (reserve %d): it gave back to keep the reserve free, or cannot take more", r.Kind, s.Held, s.Target, s.Free, d.Reserve)
	}
	return ev, nil
}

// recoverHostWide ends the helper (and any stray of the fault); the kernel
// frees what it held with it.
func recoverHostWide(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeHostWide(r)
	if err != nil {
		return err
	}
	if err := h.EndHelpers(ctx, d.ref(), termWait, killWait); err != nil {
		return fmt.Errorf("recover %s --host-wide: %w", r.Kind, err)
	}
	return nil
}

// verifyRecoveredHostWide checks that no helper of the fault runs.
func verifyRecoveredHostWide(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeHostWide(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(d.ref(), fmt.Sprintf("the %d %s it held are freed with it", d.Target, d.Resource))
	if err != nil {
		return ev, fmt.Errorf("verify %s --host-wide recovered: %w", r.Kind, err)
	}
	return ev, nil
}

// preparePortsHostWide plans port.exhaust --host-wide: --reserve and
// --count or --percent are of bulwark's network namespace's range.
func preparePortsHostWide(h *fault.Host, info fault.KindInfo, req fault.Request, p *PortParams) (*fault.Receipt, error) {
	if h.NetNSPath != "" {
		return nil, fmt.Errorf("prepare %s: another network namespace (%s) is not supported yet", PortID, h.NetNSPath)
	}
	lo, hi, err := portRange(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PortID, err)
	}
	size := hi - lo + 1
	reserve := 0
	if p.Reserve != "" {
		r, _ := parseReserve(p.Reserve)
		if reserve = r.of(size); reserve == 0 {
			return nil, &fault.ParamError{Param: "reserve", Message: fmt.Sprintf("0 is below the minimum reserve of %d for --host-wide", hostPort.minReserve)}
		}
	}
	count, param := p.Count, "count"
	if p.Percent > 0 {
		count, param = int(math.Ceil(float64(p.Percent)*float64(size)/100)), "percent"
	}
	return prepareHostWide(h, info, req, hostPort, reserve, count, param)
}

// exhausted reports whether the helper's status shows the resource used up
// to the reserve: the plan is held, or the helper holds some and only the
// reserve (or less) is free because others took the rest.
func exhausted(s *HoldStatus) bool {
	return s.Held >= s.Target || s.Held > 0 && s.Free <= s.Reserve
}
