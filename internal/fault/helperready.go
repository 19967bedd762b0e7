package fault

import (
	"context"
	"fmt"
	"time"
)

// WaitReady waits for a helper started with StartHelper to report that it
// started: it polls ready (with a backoff up to 2 ms) and fails early when
// the helper exits (quoting the end of its log), after timeout, or when ctx
// ends. An error from ready (the helper reported a failure) ends the wait.
// name is the helper's name for messages.
func (h *Host) WaitReady(ctx context.Context, p Proc, name, dir string, timeout time.Duration, ready func() (bool, error)) error {
	end := time.Now().Add(timeout)
	for delay := 100 * time.Microsecond; ; delay = min(2*delay, 2*time.Millisecond) {
		ok, err := ready()
		switch {
		case err != nil:
			return fmt.Errorf("start %s helper: %w", name, err)
		case ok:
			return nil
		case !h.Alive(p):
			return fmt.Errorf("start %s helper: it exited: %s", name, LogTail(dir))
		case time.Now().After(end):
			return fmt.Errorf("start %s helper: no status after %s", name, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start %s helper: %w", name, ctx.Err())
		case <-time.After(delay):
		}
	}
}
