package exhaust

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
)

// PIDID is pid.exhaust's identifier.
const PIDID = "pid.exhaust"

// pidsController is the cgroup controller pid.exhaust uses.
const pidsController = "pids"

// PID is pid.exhaust: the target moves into a child of its own pids cgroup
// whose pids.max leaves it --headroom more tasks, so its next fork or clone
// fails with EAGAIN. Other processes, including others in the target's
// original cgroup, fork as before; the original cgroup's own limits still
// apply above the child.
//
// On cgroup v2 that works only from the root cgroup: any other cgroup that
// holds a process cannot delegate pids to a child (the no-internal-processes
// rule). There the target's own cgroup is confined instead: its pids.max
// leaves --headroom more tasks to all its processes together (a service, as
// a rule), and Recover writes the previous pids.max back, compare and swap:
// only while it is still the fault's.
type PID struct{}

// pidReceiptV1 is version 1 of pid.exhaust's undo record.
type pidReceiptV1 struct {
	Target   fault.Proc `json:"target"`
	Comm     string     `json:"comm"`
	Version  int        `json:"cgroupVersion"`
	Original string     `json:"original"` // the cgroup the target was in
	Child    string     `json:"child"`    // the cgroup the fault creates
	Max      int        `json:"max"`      // the child's pids.max
	Tasks    int        `json:"tasks"`    // the target's tasks at prepare
	Headroom int        `json:"headroom"`
	// InPlace: Original's own pids.max is Max (cgroup v2, Original not the
	// root; Child is empty); Prev is its pids.max before the fault.
	InPlace bool   `json:"inPlace,omitempty"`
	Prev    string `json:"prev,omitempty"`
}

// Info implements fault.Kind.
func (PID) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             PIDID,
		Summary:        "Exhaust one process's process slots: confine it to a child pids cgroup so its next fork fails with EAGAIN; or, with --host-wide, the pid namespace's task slots down to a reserve",
		SummaryZH:      "耗尽单个进程的进程槽位：将其限制在子 pids cgroup 中，使其下一次 fork 以 EAGAIN 失败；或以 --host-wide 将 PID 命名空间的任务槽位耗尽至预留量",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesProcess, // the child cgroup and the target's place in it end at reboot
		ReceiptVersion: 2,                     // 2: host-wide receipts (hostWideReceiptV2); per-target ones are unchanged
		NewParams:      func() any { return new(PIDParams) },
	}
}

// Available implements fault.Availability.
func (PID) Available(_ context.Context, h *fault.Host) error {
	hy, err := cgroup.Detect(h)
	if err != nil {
		return err
	}
	return hy.Available(pidsController)
}

// Prepare implements fault.Kind: it checks the target, finds its pids cgroup
// and plans the child and its limit. It changes nothing.
func (k PID) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*PIDParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", PIDID, req.Params)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.HostWide {
		return prepareHostWide(h, k.Info(), req, hostPID, p.Reserve, 0, "")
	}
	proc, st, err := h.CheckTarget("pid", p.PID)
	if err != nil {
		return nil, err
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PIDID, err)
	}
	if err := hy.Available(pidsController); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PIDID, err)
	}
	_, v, err := hy.Controller(pidsController)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PIDID, err)
	}
	orig, err := hy.ProcessCgroup(p.PID, pidsController)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PIDID, err)
	}
	if strings.HasPrefix(filepath.Base(string(orig)), cgroup.ChildPrefix+"pid-exhaust-") {
		return nil, &fault.ParamError{Param: "pid", Message: fmt.Sprintf("pid %d is already confined by a pid.exhaust cgroup (%s)", p.PID, orig)}
	}
	tasks, err := taskCount(h, p.PID)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: count tasks of pid %d: %w", PIDID, p.PID, err)
	}
	if v == cgroup.V2 && !hy.IsRoot(orig) {
		// v2's no-internal-processes rule: outside the root, a cgroup that
		// holds the target cannot delegate pids to a child: confine it.
		d, err := prepareInPlace(hy, p, orig)
		if err != nil {
			return nil, err
		}
		d.Target, d.Comm, d.Tasks = proc, st.Comm, tasks
		return fault.NewReceipt(k.Info(), "pids-cgroup:"+string(orig), d)
	}
	if v == cgroup.V2 {
		sub, err := hy.ReadFile(orig, "cgroup.subtree_control")
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", PIDID, err)
		}
		if !slices.Contains(strings.Fields(sub), "pids") {
			return nil, fmt.Errorf("prepare %s: pid %d is in the root cgroup %s (cgroup v2), which does not delegate pids to child cgroups (cgroup.subtree_control), so it cannot be confined below it", PIDID, p.PID, orig)
		}
	}
	child := filepath.Join(string(orig), cgroup.ChildPrefix+childName(req.ID))
	return fault.NewReceipt(k.Info(), "pids-cgroup:"+proc.String(), pidReceiptV1{
		Target: proc, Comm: st.Comm, Version: int(v), Original: string(orig), Child: child,
		Max: tasks + p.Headroom, Tasks: tasks, Headroom: p.Headroom,
	})
}

// prepareInPlace plans pids.max in the target's own v2 cgroup orig: its
// tasks now plus --headroom, or its pids.max if that is lower already. It
// refuses the cgroup holding bulwark itself, which could no longer fork.
func prepareInPlace(hy *cgroup.Hierarchy, p *PIDParams, orig cgroup.Path) (pidReceiptV1, error) {
	d := pidReceiptV1{Version: int(cgroup.V2), Original: string(orig), Headroom: p.Headroom, InPlace: true}
	if own, err := hy.ProcessCgroup(os.Getpid(), pidsController); err == nil && own == orig {
		return d, &fault.ParamError{Param: "pid", Message: fmt.Sprintf("pid %d is in cgroup %s with bulwark itself (pid %d): on cgroup v2 pids.max applies to the whole cgroup and would keep the agent from forking", p.PID, orig, os.Getpid())}
	}
	prev, err := hy.ReadFile(orig, cgroup.PidsMaxFile)
	if err != nil {
		return d, fmt.Errorf("prepare %s: pid %d's cgroup %s (cgroup v2) has no pids.max (does its parent delegate pids?): %w", PIDID, p.PID, orig, err)
	}
	cur, err := hy.ReadFile(orig, "pids.current")
	if err != nil {
		return d, fmt.Errorf("prepare %s: %w", PIDID, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(cur))
	if err != nil {
		return d, fmt.Errorf("prepare %s: parse %s: %q", PIDID, orig.File("pids.current"), cur)
	}
	d.Prev, d.Max = strings.TrimSpace(prev), n+p.Headroom
	if old, err := strconv.Atoi(d.Prev); err == nil && old < d.Max {
		d.Max = old
	}
	return d, nil
}

// childName is the child cgroup's name after cgroup.ChildPrefix.
func childName(faultID string) string { return "pid-exhaust-" + faultID }

// Apply implements fault.Kind: it creates the child with its pids.max set
// before the target moves in, so the target is never unconfined inside it.
// On failure the child is removed again (the target, if it moved, with it
// back to the original cgroup).
func (PID) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return applyHostWide(ctx, h, r)
	}
	d, hy, err := decodePID(h, r)
	if err != nil {
		return err
	}
	if _, same := h.Same(d.Target); !same {
		return fmt.Errorf("apply %s: target %s: %w", PIDID, d.Target, fault.ErrGone)
	}
	if d.InPlace {
		if err := hy.WriteFile(cgroup.Path(d.Original), cgroup.PidsMaxFile, strconv.Itoa(d.Max)); err != nil {
			return fmt.Errorf("apply %s: %w", PIDID, err)
		}
		return nil
	}
	child, err := hy.CreateChild(pidsController, cgroup.Path(d.Original), strings.TrimPrefix(filepath.Base(d.Child), cgroup.ChildPrefix))
	if err != nil {
		return fmt.Errorf("apply %s: %w", PIDID, err)
	}
	if string(child) != d.Child {
		return errors.Join(fmt.Errorf("apply %s: created %s, not the planned %s", PIDID, child, d.Child), hy.Remove(child))
	}
	err = hy.WriteFile(child, cgroup.PidsMaxFile, strconv.Itoa(d.Max))
	if err == nil {
		err = hy.Move(d.Target.PID, child)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("apply %s: %w", PIDID, err), hy.Remove(child))
	}
	return nil
}

// Verify implements fault.Kind: the target is in the child, whose pids.max
// is the planned one; the evidence gives the tasks left.
func (PID) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyHostWide(ctx, h, r)
	}
	d, hy, err := decodePID(h, r)
	if err != nil {
		return nil, err
	}
	ev, err := confined(h, hy, d)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", PIDID, err)
	}
	cur, err := hy.ReadFile(cgroup.Path(d.confining()), "pids.current")
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", PIDID, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(cur))
	if err != nil {
		return ev, fmt.Errorf("verify %s: parse pids.current %q: %w", PIDID, cur, err)
	}
	ev = append(ev, fault.Evidence("headroom", d.Max-n <= d.Headroom, "%d tasks in %s, pids.max %d: %d left before fork fails with EAGAIN (--headroom %d)", n, d.confining(), d.Max, d.Max-n, d.Headroom))
	return ev, nil
}

// confining is the cgroup whose pids.max the fault sets: the child, or in
// place the original.
func (d pidReceiptV1) confining() string {
	if d.InPlace {
		return d.Original
	}
	return d.Child
}

// confined checks that the target is in the confining cgroup and its
// pids.max is the planned one.
func confined(h *fault.Host, hy *cgroup.Hierarchy, d pidReceiptV1) ([]bulwark.Evidence, error) {
	if _, same := h.Same(d.Target); !same {
		return []bulwark.Evidence{fault.Evidence("confined", false, "target %s is gone", d.Target)}, fmt.Errorf("target %s: %w", d.Target, fault.ErrGone)
	}
	at, err := hy.ProcessCgroup(d.Target.PID, pidsController)
	if err != nil {
		return nil, err
	}
	c := d.confining()
	if string(at) != c {
		return []bulwark.Evidence{fault.Evidence("confined", false, "pid %d is in %s, not %s", d.Target.PID, at, c)},
			fmt.Errorf("pid %d is in pids cgroup %s, not %s: it was moved", d.Target.PID, at, c)
	}
	max, err := hy.ReadFile(cgroup.Path(c), cgroup.PidsMaxFile)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(max) != strconv.Itoa(d.Max) {
		return []bulwark.Evidence{fault.Evidence("confined", false, "%s has pids.max %s, not %d", c, strings.TrimSpace(max), d.Max)},
			fmt.Errorf("%s has pids.max %s, not %d: it was changed", c, strings.TrimSpace(max), d.Max)
	}
	if d.InPlace {
		return []bulwark.Evidence{fault.Evidence("confined", true, "pid %d (%s) is in pids cgroup %s (cgroup v2) whose own pids.max is %d for all its processes (it was %s; the target had %d tasks)",
			d.Target.PID, d.Comm, c, d.Max, d.Prev, d.Tasks)}, nil
	}
	return []bulwark.Evidence{fault.Evidence("confined", true, "pid %d (%s) is in pids cgroup %s (cgroup v%d) with pids.max %d (it had %d tasks; was in %s)",
		d.Target.PID, d.Comm, c, d.Version, d.Max, d.Tasks, d.Original)}, nil
}

// Status implements fault.Statuser: someone may move the target out or
// change pids.max.
func (PID) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return statusHostWide(h, r)
	}
	d, hy, err := decodePID(h, r)
	if err != nil {
		return nil, err
	}
	ev, err := confined(h, hy, d)
	if err != nil {
		return ev, fmt.Errorf("status %s: drifted: %w", PIDID, err)
	}
	return ev, nil
}

// Recover implements fault.Kind: the target goes back to its original cgroup
// if it is still in the child (one someone moved elsewhere is left there),
// then the child is removed; any process the target started inside it moves
// to the original cgroup too. A child already gone needs nothing.
func (PID) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return recoverHostWide(ctx, h, r)
	}
	d, hy, err := decodePID(h, r)
	if err != nil {
		return err
	}
	if d.InPlace {
		return recoverInPlace(hy, d)
	}
	if _, err := os.Stat(d.Child); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, same := h.Same(d.Target); same {
		if at, err := hy.ProcessCgroup(d.Target.PID, pidsController); err == nil && string(at) == d.Child {
			if err := hy.Move(d.Target.PID, cgroup.Path(d.Original)); err != nil {
				if _, same := h.Same(d.Target); same { // not just exited meanwhile
					return fmt.Errorf("recover %s: move pid %d back to %s: %w", PIDID, d.Target.PID, d.Original, err)
				}
			}
		}
	}
	if err := hy.Remove(cgroup.Path(d.Child)); err != nil {
		return fmt.Errorf("recover %s: %w", PIDID, err)
	}
	return nil
}

// recoverInPlace writes the original cgroup's pids.max back while it is
// still the fault's; a cgroup gone (its service stopped) or a value already
// back needs nothing, and a value someone else wrote meanwhile is left
// alone and reported.
func recoverInPlace(hy *cgroup.Hierarchy, d pidReceiptV1) error {
	orig := cgroup.Path(d.Original)
	cur, err := hy.ReadFile(orig, cgroup.PidsMaxFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("recover %s: %w", PIDID, err)
	case strings.TrimSpace(cur) == d.Prev:
		return nil
	case strings.TrimSpace(cur) != strconv.Itoa(d.Max):
		return fmt.Errorf("recover %s: conflict: %s was changed by someone else while the fault was active (it is %s; the fault left %d; the original is %s), so it was not overwritten; write the original back and the next retry ends the fault",
			PIDID, orig.File(cgroup.PidsMaxFile), strings.TrimSpace(cur), d.Max, d.Prev)
	}
	if err := hy.WriteFile(orig, cgroup.PidsMaxFile, d.Prev); err != nil {
		return fmt.Errorf("recover %s: %w", PIDID, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind: the child is gone and the target,
// if it still runs, is not in it; in place, the original pids.max is back.
func (PID) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyRecoveredHostWide(h, r)
	}
	d, hy, err := decodePID(h, r)
	if err != nil {
		return nil, err
	}
	if d.InPlace {
		cur, err := hy.ReadFile(cgroup.Path(d.Original), cgroup.PidsMaxFile)
		if errors.Is(err, os.ErrNotExist) {
			return []bulwark.Evidence{fault.Evidence("pids.max", true, "cgroup %s is gone", d.Original)}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("verify %s recovered: %w", PIDID, err)
		}
		ok := strings.TrimSpace(cur) == d.Prev
		ev := []bulwark.Evidence{fault.Evidence("pids.max", ok, "%s/pids.max is %s (before the fault %s)", d.Original, strings.TrimSpace(cur), d.Prev)}
		if !ok {
			return ev, fmt.Errorf("verify %s recovered: %s/pids.max is %s, not the original %s", PIDID, d.Original, strings.TrimSpace(cur), d.Prev)
		}
		return ev, nil
	}
	if _, err := os.Stat(d.Child); !errors.Is(err, os.ErrNotExist) {
		return []bulwark.Evidence{fault.Evidence("cgroup removed", false, "%s still exists (%v)", d.Child, err)}, fmt.Errorf("verify %s recovered: %s still exists", PIDID, d.Child)
	}
	ev := []bulwark.Evidence{fault.Evidence("cgroup removed", true, "%s is gone", d.Child)}
	if _, same := h.Same(d.Target); !same {
		return append(ev, fault.Evidence("target", true, "target %s is gone", d.Target)), nil
	}
	at, err := hy.ProcessCgroup(d.Target.PID, pidsController)
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", PIDID, err)
	}
	return append(ev, fault.Evidence("target", true, "pid %d is in pids cgroup %s (was %s before the fault)", d.Target.PID, at, d.Original)), nil
}

func decodePID(h *fault.Host, r *fault.Receipt) (pidReceiptV1, *cgroup.Hierarchy, error) {
	var d pidReceiptV1
	if r.Version < 1 || r.Version > 2 {
		return d, nil, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1, 2)", PIDID, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, nil, err
	}
	switch {
	case d.InPlace:
		if d.Target.PID <= 1 || !filepath.IsAbs(d.Original) || d.Child != "" || d.Prev == "" || d.Version != int(cgroup.V2) {
			return d, nil, fmt.Errorf("decode %s receipt: bad target or in-place cgroup", PIDID)
		}
	case d.Target.PID <= 1 || d.Original == "" || filepath.Dir(d.Child) != d.Original || !strings.HasPrefix(filepath.Base(d.Child), cgroup.ChildPrefix):
		return d, nil, fmt.Errorf("decode %s receipt: bad target or cgroups", PIDID)
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return d, nil, fmt.Errorf("%s: %w", PIDID, err)
	}
	return d, hy, nil
}

// taskCount is how many tasks (threads) process pid has: what pids.current
// charges for it.
func taskCount(h *fault.Host, pid int) (int, error) {
	ents, err := os.ReadDir(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "task"))
	if err != nil {
		return 0, err
	}
	return len(ents), nil
}

var (
	_ fault.Kind         = PID{}
	_ fault.Availability = PID{}
	_ fault.Statuser     = PID{}
	_ fault.Validator    = (*PIDParams)(nil)
)
