package fault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
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
