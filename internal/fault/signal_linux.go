package fault

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrGone reports that a process has exited or its pid now names another one.
var ErrGone = errors.New("process is gone")

// Signal sends sig to p only if p still names the same process. Where the
// kernel has pidfd (5.3+) the check and the signal go through one pidfd, so a
// pid reused in between cannot receive the signal; elsewhere the start time is
// checked immediately before kill(2).
func (h *Host) Signal(p Proc, sig syscall.Signal) error {
	fd, err := unix.PidfdOpen(p.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return h.signalByPID(p, sig)
	}
	defer unix.Close(fd)
	if _, ok := h.Same(p); !ok {
		return ErrGone
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return fmt.Errorf("signal %d %s: %w", p.PID, sig, err)
	}
	return nil
}

func (h *Host) signalByPID(p Proc, sig syscall.Signal) error {
	if _, ok := h.Same(p); !ok {
		return ErrGone
	}
	if err := syscall.Kill(p.PID, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return ErrGone
		}
		return fmt.Errorf("signal %d %s: %w", p.PID, sig, err)
	}
	return nil
}
