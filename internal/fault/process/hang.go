package process

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Hang{}) }

// verifyWait bounds how long Verify waits for a stopped state and
// VerifyRecovered for a resumed one. A process in uninterruptible sleep (D)
// stops only when it leaves it; if that takes longer, the inject fails and is
// undone.
const verifyWait = 2 * time.Second

// Hang is process.hang: SIGSTOP on apply, SIGCONT on recovery, each sent only
// to the process with the recorded pid and start time.
type Hang struct{}

// hangReceiptV1 is process.hang's undo record, receipt version 1.
type hangReceiptV1 struct {
	Procs []procTarget `json:"procs"`
}

// Info implements fault.Kind.
func (Hang) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "process.hang",
		Summary:        "Stop a process (SIGSTOP) and resume it (SIGCONT) on recovery",
		SummaryZH:      "挂起进程(SIGSTOP),恢复时继续运行(SIGCONT)",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesProcess,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(HangParams) },
	}
}

// Prepare identifies the target processes and records their identity and
// state. It refuses the processes that are never targets and those that are
// already stopped. It changes nothing.
func (k Hang) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*HangParams)
	if !ok {
		return nil, fmt.Errorf("prepare process.hang: params are %T", req.Params)
	}
	procs, err := findTargets(h, p.selector())
	if err != nil {
		return nil, err
	}
	param := "pid"
	if p.Name != "" {
		param = "name"
	}
	if err := refuseStopped(param, procs); err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), resourceOf(procs), hangReceiptV1{Procs: procs})
}

// Apply stops every target. If one cannot be stopped, the ones already
// stopped are resumed and the receipt is narrowed to any that could not be,
// so that nothing or everything is applied.
func (Hang) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeHang(r)
	if err != nil {
		return err
	}
	for i, p := range rec.Procs {
		if err := stop(h, p); err != nil {
			left := resume(h, rec.Procs[:i])
			if serr := r.Set(hangReceiptV1{Procs: left}); serr != nil {
				err = errors.Join(err, serr)
			}
			return err
		}
	}
	return nil
}

// stop sends SIGSTOP to p unless it is gone or someone stopped it since
// Prepare (then recovery must not resume it).
func stop(h *fault.Host, p procTarget) error {
	st, same := h.Same(p.Proc)
	if !same {
		return fmt.Errorf("stop pid %d (%s): %w", p.PID, p.Comm, fault.ErrGone)
	}
	if isStopped(st.State) {
		return fmt.Errorf("stop pid %d (%s): it was stopped by someone else after prepare (state %c)", p.PID, p.Comm, st.State)
	}
	if err := h.Signal(p.Proc, stopSignal); err != nil {
		return fmt.Errorf("stop pid %d (%s): %w", p.PID, p.Comm, err)
	}
	return nil
}

// resume sends SIGCONT to each process that still has its recorded start
// time and returns those it could not signal.
func resume(h *fault.Host, procs []procTarget) []procTarget {
	var left []procTarget
	for _, p := range procs {
		if err := h.Signal(p.Proc, contSignal); err != nil && !errors.Is(err, fault.ErrGone) {
			left = append(left, p)
		}
	}
	return left
}

// Verify waits, for a bounded time, until every target is in state T.
func (Hang) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeHang(r)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(verifyWait)
	var ev []bulwark.Evidence
	for _, p := range rec.Procs {
		st, err := waitState(ctx, h, p.Proc, isStopped, deadline)
		if err != nil {
			return ev, fmt.Errorf("verify pid %d (%s) stopped: %w", p.PID, p.Comm, err)
		}
		ev = append(ev, fault.Evidence("process-stopped", true, "pid %d (%s) is in state %c (stopped; was %s) %s after SIGSTOP",
			p.PID, p.Comm, st.State, p.Prior, time.Since(start).Round(time.Microsecond)))
	}
	return ev, nil
}

// Recover sends SIGCONT to every target that still has its recorded start
// time. It is sent whatever the state reads, so a SIGSTOP still pending (a
// process in uninterruptible sleep) is discarded too. A process that has
// exited, or whose pid now names another process, needs nothing.
func (Hang) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeHang(r)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range rec.Procs {
		if err := h.Signal(p.Proc, contSignal); err != nil && !errors.Is(err, fault.ErrGone) {
			errs = append(errs, fmt.Errorf("resume pid %d (%s): %w", p.PID, p.Comm, err))
		}
	}
	return errors.Join(errs...)
}

// VerifyRecovered checks that no target is left in state T; a target that
// is gone counts as recovered, and the evidence says so.
func (Hang) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeHang(r)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(verifyWait)
	var ev []bulwark.Evidence
	for _, p := range rec.Procs {
		st, err := waitState(ctx, h, p.Proc, func(s byte) bool { return s != 'T' }, deadline)
		switch {
		case errors.Is(err, fault.ErrGone):
			ev = append(ev, fault.Evidence("process-resumed", true, "pid %d (%s) is gone (exited, or the pid names another process now): nothing to resume", p.PID, p.Comm))
		case err != nil:
			return ev, fmt.Errorf("verify pid %d (%s) resumed: %w", p.PID, p.Comm, err)
		default:
			ev = append(ev, fault.Evidence("process-resumed", true, "pid %d (%s) is in state %c (not stopped)", p.PID, p.Comm, st.State))
		}
	}
	return ev, nil
}

// Status reports drift: a target that was resumed by someone else, or that
// is gone, is no longer hung.
func (Hang) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeHang(r)
	if err != nil {
		return nil, err
	}
	var ev []bulwark.Evidence
	for _, p := range rec.Procs {
		st, same := h.Same(p.Proc)
		switch {
		case !same:
			return ev, fmt.Errorf("pid %d (%s) is gone: the fault no longer holds it", p.PID, p.Comm)
		case st.State != 'T':
			return ev, fmt.Errorf("pid %d (%s) is no longer stopped (state %c): something resumed it", p.PID, p.Comm, st.State)
		}
		ev = append(ev, fault.Evidence("process-stopped", true, "pid %d (%s) is still in state T (stopped)", p.PID, p.Comm))
	}
	return ev, nil
}

func isStopped(s byte) bool { return s == 'T' || s == 't' }

// waitState polls the process until ok(state), the deadline or ctx. It
// returns fault.ErrGone when the process exits or its pid is reused.
func waitState(ctx context.Context, h *fault.Host, p fault.Proc, ok func(byte) bool, deadline time.Time) (fault.ProcStat, error) {
	pause := 50 * time.Microsecond
	for {
		st, same := h.Same(p)
		if !same {
			return st, fault.ErrGone
		}
		if ok(st.State) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("still in state %c after %s", st.State, verifyWait)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, 5*time.Millisecond)
	}
}

// decodeHang decodes every receipt version this binary knows.
func decodeHang(r *fault.Receipt) (hangReceiptV1, error) {
	var rec hangReceiptV1
	switch {
	case r.Version > 1:
		return rec, fmt.Errorf("decode process.hang receipt v%d: %w", r.Version, bulwark.ErrNewerReceipt)
	case r.Version < 1:
		return rec, fmt.Errorf("decode process.hang receipt: no version %d", r.Version)
	}
	err := r.Decode(&rec)
	return rec, err
}

var (
	_ fault.Kind         = Hang{}
	_ fault.Availability = Hang{}
	_ fault.Statuser     = Hang{}
	_ fault.Validator    = (*HangParams)(nil)
)
