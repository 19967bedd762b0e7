package process

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Kill{}) }

// Kill is process.kill: send a signal (SIGKILL by default) to a process
// chosen by pid, name or listening port. Its effect is instantaneous: a killed
// process cannot be brought back, so recovery changes nothing and only
// reports whether a supervisor restarted the service (see the package doc).
type Kill struct{}

// killReceiptV1 is process.kill's record, receipt version 1. It holds what
// was selected (to look for a restarted process on recovery), the signal,
// and each target with what happened to it.
type killReceiptV1 struct {
	Signal   int           `json:"signal"`
	SigName  string        `json:"signalName"`
	Wait     time.Duration `json:"wait"`
	Name     string        `json:"name,omitempty"`
	Port     int           `json:"port,omitempty"`
	Protocol string        `json:"protocol,omitempty"`
	Targets  []killTarget  `json:"targets"`
}

// killTarget is one signalled process; Outcome is set by Apply: "signalled"
// or "gone" (it exited between Prepare and Apply).
type killTarget struct {
	procTarget
	Outcome string `json:"outcome,omitempty"`
}

// Info implements fault.Kind.
//
// Outlives is OutlivesProcess: the effect is on another process and nothing
// of it survives a reboot; there is nothing to undo, so a crash or a reboot
// changes nothing about recovery. The fault's duration still bounds the
// record (the resource stays claimed until it ends).
func (Kill) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "process.kill",
		Summary:        "Send a signal (SIGKILL by default) to a process chosen by pid, name or port; a supervisor restarts it",
		SummaryZH:      "向进程(按 PID、名称或端口选择)发送信号(默认 SIGKILL);由守护/编排系统负责重启",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesProcess,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(KillParams) },
	}
}

// Prepare identifies the targets and records them with the signal. It
// refuses the processes that are never targets. It changes nothing.
func (k Kill) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*KillParams)
	if !ok {
		return nil, fmt.Errorf("prepare process.kill: params are %T", req.Params)
	}
	sig, err := parseSignal(p.Signal)
	if err != nil {
		return nil, err
	}
	procs, err := findTargets(h, p.selector())
	if err != nil {
		return nil, err
	}
	rec := killReceiptV1{Signal: int(sig), SigName: signalName(sig), Wait: time.Duration(p.Wait), Name: p.Name, Port: p.Port}
	if p.Port != 0 {
		rec.Protocol = p.Protocol
	}
	for _, t := range procs {
		rec.Targets = append(rec.Targets, killTarget{procTarget: t})
	}
	return fault.NewReceipt(k.Info(), resourceOf(procs), rec)
}

// Apply signals every target that still has its recorded start time, and
// records per target whether it was signalled or had already exited. It
// fails when no target could be signalled at all, or when a signal could
// not be sent (permission): a kill cannot be taken back, so the targets
// signalled before stay signalled and the receipt says which.
func (Kill) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeKill(r)
	if err != nil {
		return err
	}
	var errs []error
	sent := 0
	for i := range rec.Targets {
		t := &rec.Targets[i]
		switch err := h.Signal(t.Proc, syscall.Signal(rec.Signal)); {
		case err == nil:
			t.Outcome = "signalled"
			sent++
		case errors.Is(err, fault.ErrGone):
			t.Outcome = "gone"
		default:
			errs = append(errs, fmt.Errorf("signal pid %d (%s) with %s: %w", t.PID, t.Comm, rec.SigName, err))
		}
	}
	if err := r.Set(rec); err != nil {
		errs = append(errs, err)
	}
	if sent == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("signal %s: every target exited before the signal: %w", resourceOf(procsOf(rec.Targets)), fault.ErrGone))
	}
	return errors.Join(errs...)
}

// Verify waits, up to the receipt's wait, until every signalled target is
// gone (exited, a zombie, or its pid reused). A target that survives SIGKILL
// fails the inject; one that survives another signal is reported: it
// catches, ignores or blocks it, and that is the drill's finding.
func (Kill) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeKill(r)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(rec.Wait)
	var ev []bulwark.Evidence
	for _, t := range rec.Targets {
		if t.Outcome == "gone" {
			ev = append(ev, fault.Evidence("process-exited", true, "pid %d (%s) exited between prepare and the signal", t.PID, t.Comm))
			continue
		}
		st, err := waitExit(ctx, h, t.Proc, deadline)
		switch {
		case err == nil:
			ev = append(ev, fault.Evidence("process-exited", true, "pid %d (%s) is gone %s after %s",
				t.PID, t.Comm, time.Since(start).Round(time.Microsecond), rec.SigName))
		case rec.Signal == int(syscall.SIGKILL) || ctx.Err() != nil:
			return ev, fmt.Errorf("verify pid %d (%s) killed: %w", t.PID, t.Comm, err)
		default:
			ev = append(ev, fault.Evidence("process-survived", true, "pid %d (%s) is still running (state %c) %s after %s: %s",
				t.PID, t.Comm, st.State, rec.Wait, rec.SigName, disposition(h, t.PID, rec.Signal)))
		}
	}
	return ev, nil
}

// Recover changes nothing: a killed process cannot be brought back, and
// restarting it is its supervisor's job (systemd, Kubernetes, a watchdog),
// which is what a kill drill tests. It is idempotent by construction.
func (Kill) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	_, err := decodeKill(r)
	return err
}

// VerifyRecovered reports, as evidence and never as a failure, whether each
// target is still gone and whether a process with the same name (or on the
// same port) is running again: the supervisor's restart, if there is one.
func (Kill) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeKill(r)
	if err != nil {
		return nil, err
	}
	ev := []bulwark.Evidence{fault.Evidence("nothing-to-undo", true, "process.kill changes nothing on recovery: restarting a killed process is its supervisor's job")}
	for _, t := range rec.Targets {
		if st, same := h.Same(t.Proc); same && !exited(st.State) {
			ev = append(ev, fault.Evidence("target-running", true, "pid %d (%s) is still running (state %c)", t.PID, t.Comm, st.State))
		}
	}
	return append(ev, restartEvidence(h, rec)), nil
}

// restartEvidence looks for a process that replaced the targets: one with
// the same name, or holding the same port, that is not one of them.
func restartEvidence(h *fault.Host, rec killReceiptV1) bulwark.Evidence {
	var what string
	var pids []int
	var err error
	switch {
	case rec.Port != 0:
		what = fmt.Sprintf("holds %s port %d", protoText(rec.Protocol), rec.Port)
		pids, err = pidsOnPort(h, rec.Protocol, rec.Port)
	default:
		name := rec.Name
		if name == "" && len(rec.Targets) > 0 {
			name = rec.Targets[0].Comm
		}
		what = fmt.Sprintf("is named %q", name)
		pids, err = pidsNamed(h, name)
	}
	if err != nil {
		return fault.Evidence("restarted", true, "could not look for a restarted process: %v", err)
	}
	var fresh []int
	for _, pid := range pids {
		st, err := h.ReadProcStat(pid)
		if err != nil || exited(st.State) || isTarget(rec.Targets, fault.Proc{PID: pid, StartTime: st.StartTime}) {
			continue
		}
		fresh = append(fresh, pid)
	}
	if len(fresh) == 0 {
		return fault.Evidence("restarted", true, "no new process %s yet (not restarted, or its supervisor is slower than this check)", what)
	}
	return fault.Evidence("restarted", true, "a new process %s: pid %s", what, pidList(fresh))
}

func isTarget(ts []killTarget, p fault.Proc) bool {
	for _, t := range ts {
		if t.Proc == p {
			return true
		}
	}
	return false
}

func procsOf(ts []killTarget) []procTarget {
	out := make([]procTarget, len(ts))
	for i, t := range ts {
		out[i] = t.procTarget
	}
	return out
}

// exited reports a state in which the process has ended: a zombie waits
// only for its parent to collect the exit status.
func exited(s byte) bool { return s == 'Z' || s == 'X' || s == 'x' }

// waitExit polls until p has exited or its pid names another process, the
// deadline or ctx.
func waitExit(ctx context.Context, h *fault.Host, p fault.Proc, deadline time.Time) (fault.ProcStat, error) {
	pause := 50 * time.Microsecond
	for {
		st, same := h.Same(p)
		if !same || exited(st.State) {
			return st, nil
		}
		if !time.Now().Before(deadline) {
			return st, fmt.Errorf("still running (state %c) at the end of the wait", st.State)
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, 10*time.Millisecond)
	}
}

// decodeKill decodes every receipt version this binary knows.
func decodeKill(r *fault.Receipt) (killReceiptV1, error) {
	var rec killReceiptV1
	switch {
	case r.Version > 1:
		return rec, fmt.Errorf("decode process.kill receipt v%d: %w", r.Version, bulwark.ErrNewerReceipt)
	case r.Version < 1:
		return rec, fmt.Errorf("decode process.kill receipt: no version %d", r.Version)
	}
	err := r.Decode(&rec)
	return rec, err
}

var (
	_ fault.Kind         = Kill{}
	_ fault.Availability = Kill{}
)
