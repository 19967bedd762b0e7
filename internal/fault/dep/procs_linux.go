//go:build linux

package dep

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// How long Recover waits for a helper to start draining or exit after
// SIGTERM before it sends SIGKILL, and for it to go after SIGKILL.
const (
	termWait = 3 * time.Second
	killWait = 3 * time.Second
)

// helpers returns the fault's live helpers: the journaled one and any stray
// found by command line, and how many processes were scanned.
func helpers(h *fault.Host, d *receiptV1) ([]fault.Proc, int, error) {
	return h.Helpers(fault.HelperRef{Exe: d.Exe, Name: helperName, Fault: d.Fault, Started: d.Helper})
}

// alive reports whether p still names the same, not yet exited process.
func alive(h *fault.Host, p fault.Proc) bool { return h.Alive(p) }

// stop asks a helper to wind down with SIGTERM and waits until it has exited,
// or has removed its fault and is draining live proxied connections (those
// are not cut). A helper that does neither in time gets SIGKILL. Signals go
// through h.Signal, which checks the pid's start time first.
func stop(ctx context.Context, h *fault.Host, p fault.Proc, status string) error {
	if err := h.Signal(p, syscall.SIGTERM); errors.Is(err, fault.ErrGone) {
		return nil
	} else if err != nil {
		return fmt.Errorf("stop helper %s: %w", p, err)
	}
	if waitFor(ctx, termWait, func() bool { return !alive(h, p) || draining(status, p.PID) }) {
		reaped(ctx, h, p)
		return nil
	}
	if err := h.Signal(p, syscall.SIGKILL); errors.Is(err, fault.ErrGone) {
		return nil
	} else if err != nil {
		return fmt.Errorf("stop helper %s: %w", p, err)
	}
	if waitFor(ctx, killWait, func() bool { return !alive(h, p) }) {
		reaped(ctx, h, p)
		return nil
	}
	return fmt.Errorf("stop helper %s: still running after SIGKILL", p)
}

// draining reports whether the helper with pid says it has no fault left
// and lets live proxied connections finish. With none left it exits at once,
// so stop waits for that instead.
func draining(status string, pid int) bool {
	s, err := readStatus(status)
	return err == nil && s.PID == pid && s.Faults == 0 && s.State == stateDraining && s.Conns > 0
}

// holdsNoFault reports whether the helper with pid says it has removed its
// fault and only drains, or has finished and is exiting: for
// VerifyRecovered, unlike stop, it does not matter whether connections are
// still live.
func holdsNoFault(status string, pid int) bool {
	s, err := readStatus(status)
	return err == nil && s.PID == pid && s.Faults == 0 && (s.State == stateDraining || s.State == stateExited)
}

// reaped gives the parent of an exited helper (often this process, which
// reaps it in a goroutine) a moment to collect its zombie, so that the
// process table is as before once Recover returns.
func reaped(ctx context.Context, h *fault.Host, p fault.Proc) {
	if alive(h, p) {
		return // draining
	}
	waitFor(ctx, 500*time.Millisecond, func() bool { _, same := h.Same(p); return !same })
}

// waitFor polls cond until it holds or wait is over.
func waitFor(ctx context.Context, wait time.Duration, cond func() bool) bool {
	end := time.Now().Add(wait)
	for delay := 200 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return false
		}
		time.Sleep(delay)
	}
}
