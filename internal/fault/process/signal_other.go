//go:build !linux

package process

import (
	"context"
	"errors"
	"slices"
	"syscall"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The signal numbers are never sent here: fault.Host.Signal is unsupported
// off Linux and Available refuses first.
const (
	stopSignal = syscall.Signal(19)
	contSignal = syscall.Signal(18)
)

// errNoHang is why process.hang is unavailable off Linux.
var errNoHang = errors.New("process.hang is Linux-only for now: on Windows it needs NtSuspendProcess/NtResumeProcess (a nesting suspend count) with the process creation time checked before each call, which is not built yet")

// Available implements fault.Availability.
func (Hang) Available(ctx context.Context, h *fault.Host) error { return errNoHang }

// otherSignals numbers the signals as generic Linux does, so that parameters
// validate the same everywhere; process.kill is never available here.
var otherSignals = []string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
	"SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH",
	"SIGIO", "SIGPWR", "SIGSYS"}

// signalNum returns the signal called name ("SIGTERM").
func signalNum(name string) (syscall.Signal, bool) {
	i := slices.Index(otherSignals, name)
	return syscall.Signal(i), i > 0
}

// signalName returns the name of a signal ("SIGTERM"), or "" for an unknown one.
func signalName(s syscall.Signal) string {
	if s <= 0 || int(s) >= len(otherSignals) {
		return ""
	}
	return otherSignals[s]
}

// errNoKill is why process.kill is unavailable off Linux.
var errNoKill = errors.New("process.kill is Linux-only for now: on Windows it needs TerminateProcess with the process creation time checked through the same handle, which is not built yet")

// Available implements fault.Availability.
func (Kill) Available(ctx context.Context, h *fault.Host) error { return errNoKill }
