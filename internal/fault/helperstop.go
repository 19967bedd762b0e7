package fault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// StopHelper ends a helper: SIGTERM, then SIGKILL if it has not gone within
// termWait, waiting up to killWait for that. Both signals go through
// h.Signal, which checks the pid's start time first; a helper already gone is
// not an error.
func (h *Host) StopHelper(ctx context.Context, p Proc, termWait, killWait time.Duration) error {
	for _, s := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGTERM, termWait}, {syscall.SIGKILL, killWait}} {
		if err := h.Signal(p, s.sig); errors.Is(err, ErrGone) {
			return nil
		} else if err != nil {
			return fmt.Errorf("stop helper %s: %w", p, err)
		}
		if h.WaitGone(ctx, p, s.wait) {
			return nil
		}
	}
	return fmt.Errorf("stop helper %s: still running after SIGKILL", p)
}

// WaitGone polls until p has exited or wait is over. A zombie counts as gone,
// except this process's own child before wait is over: StartHelper's
// goroutine reaps it in a moment.
func (h *Host) WaitGone(ctx context.Context, p Proc, wait time.Duration) bool {
	end := time.Now().Add(wait)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 2*time.Millisecond) {
		st, same := h.Same(p)
		if !same || st.State == 'Z' && (st.PPID != os.Getpid() || time.Now().After(end)) {
			return true
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
	}
}

// DataPath returns StateDir/data/<id>, where a fault's helper keeps its log
// and status, without creating it (DataDir creates it).
func (h *Host) DataPath(id string) string { return filepath.Join(h.StateDir, "data", id) }

// EndHelpers is the Recover of a kind whose effect lives in helpers: it
// stops every live helper of r (the recorded one and strays, pid and start
// time checked) and then removes the fault's data directory. Nothing left to
// stop is not an error, so it is idempotent.
func (h *Host) EndHelpers(ctx context.Context, r HelperRef, termWait, killWait time.Duration) error {
	procs, _, err := h.Helpers(r)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range procs {
		errs = append(errs, h.StopHelper(ctx, p, termWait, killWait))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if h.StateDir == "" {
		return nil
	}
	if err := os.RemoveAll(h.DataPath(r.Fault)); err != nil {
		return fmt.Errorf("remove helper files: %w", err)
	}
	return nil
}

// HelpersGone is the VerifyRecovered of such a kind: evidence that no
// helper of r runs, or an error listing those that do. detail is added to
// the passing evidence (what went away with the helpers).
func (h *Host) HelpersGone(r HelperRef, detail string) ([]bulwark.Evidence, error) {
	procs, scanned, err := h.Helpers(r)
	if err != nil {
		return nil, err
	}
	if len(procs) > 0 {
		err := fmt.Errorf("%s helpers of fault %s still run: %v", r.Name, r.Fault, procs)
		return []bulwark.Evidence{Evidence("helper gone", false, "%v", err)}, err
	}
	if detail != "" {
		detail = "; " + detail
	}
	return []bulwark.Evidence{Evidence("helper gone", true, "no %s helper of fault %s among %d processes%s", r.Name, r.Fault, scanned, detail)}, nil
}
