package mem

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
)

// Available implements fault.Availability: a helper can be started, and a
// writable memory controller is mounted (v1 or v2).
func (PressureKind) Available(_ context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the mem-fill helper from")
	}
	if _, err := readMemInfo(h.ProcRoot); err != nil {
		return err
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return err
	}
	return hy.Available("memory")
}

// Prepare implements fault.Kind: it finds the memory cgroup (the target's,
// or the one named), refuses the root cgroup and any cgroup holding bulwark
// itself, computes the size from the cgroup's limit and checks the host's
// reserve. It changes nothing.
func (PressureKind) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*PressureParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", PressureID, req.Params)
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PressureID, err)
	}
	if err := hy.Available("memory"); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PressureID, err)
	}
	_, ver, _ := hy.Controller("memory")
	d := receiptV1{Kind: PressureID, Fault: req.ID, OOMScoreAdj: p.OOMScoreAdj, Rate: int64(p.Rate),
		Deadline: req.Deadline.UTC(), Exe: h.Exe, Version: int(ver)}
	cg, err := pressureCgroup(h, hy, p, &d)
	if err != nil {
		return nil, err
	}
	limit, from, err := hy.MemoryLimit(cg)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PressureID, err)
	}
	size, sizeParam, err := pressureSize(p, cg, limit, from, ver)
	if err != nil {
		return nil, err
	}
	m, err := readMemInfo(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PressureID, err)
	}
	d.Reserve = int64(p.Reserve)
	if d.Reserve == 0 {
		d.Reserve = defaultReserve(m.Total)
	}
	if err := checkReserve(sizeParam, size, d.Reserve, m); err != nil {
		return nil, err
	}
	if err := checkCommon(h, req, false, size); err != nil {
		return nil, err
	}
	d.Bytes, d.Cgroup, d.Procs, d.Limit = size, string(cg), cg.File("cgroup.procs"), limit
	return fault.NewReceipt(PressureKind{}.Info(), "memcg:"+string(cg), d)
}

// pressureCgroup resolves --pid or --cgroup to a memory cgroup that is not
// the root and does not hold bulwark, recording the target in d.
func pressureCgroup(h *fault.Host, hy *cgroup.Hierarchy, p *PressureParams, d *receiptV1) (cgroup.Path, error) {
	var cg cgroup.Path
	param := "cgroup"
	what := "cgroup " + p.Cgroup
	if p.PID != 0 {
		param = "pid"
		proc, st, err := h.CheckTarget("pid", p.PID)
		if err != nil {
			return "", err
		}
		if cg, err = hy.ProcessCgroup(p.PID, "memory"); err != nil {
			return "", &fault.ParamError{Param: param, Message: err.Error()}
		}
		d.Target = &proc
		what = fmt.Sprintf("pid %d (%s) is in memory cgroup %s", p.PID, st.Comm, cg)
	} else {
		cg = cgroup.Path(filepath.Clean(p.Cgroup))
		if err := hy.InHierarchy("memory", cg); err != nil {
			return "", &fault.ParamError{Param: param, Message: err.Error()}
		}
	}
	if hy.IsRoot(cg) {
		msg := fmt.Sprintf("%s is the root memory cgroup: pressure there would be host-wide (use mem.fill for that)", cg)
		if d.Target != nil {
			msg = fmt.Sprintf("pid %d is in the root memory cgroup (%s): it has no memory cgroup of its own, so pressure there would be host-wide (use mem.fill for that, or run the target in a cgroup of its own)", p.PID, cg)
		}
		return "", &fault.ParamError{Param: param, Message: msg}
	}
	if _, v, _ := hy.Controller("memory"); v == cgroup.V2 {
		// No internal processes: a v2 cgroup that delegates controllers to
		// its children holds no process, so the helper could not join it.
		if sub, err := hy.ReadFile(cg, "cgroup.subtree_control"); err == nil && strings.TrimSpace(sub) != "" {
			return "", &fault.ParamError{Param: param, Message: fmt.Sprintf("%s delegates %s to its children (cgroup.subtree_control): on cgroup v2 such a cgroup holds no process, so the helper could not join it; name one of its leaf cgroups", what, strings.Join(strings.Fields(sub), " "))}
		}
	}
	if own, err := hy.ProcessCgroup(os.Getpid(), "memory"); err == nil && cgroup.Within(own, cg) {
		return "", &fault.ParamError{Param: param, Message: fmt.Sprintf("%s, which holds bulwark itself (pid %d, in %s): pressure there would press on the agent", what, os.Getpid(), own)}
	}
	return cg, nil
}

// pressureSize computes the bytes to charge: --size, or --percent of the
// cgroup's limit; a size above the limit is refused.
func pressureSize(p *PressureParams, cg cgroup.Path, limit int64, from cgroup.Path, v cgroup.Version) (int64, string, error) {
	lf := cgroup.MemoryLimitFile(v)
	if p.Percent > 0 {
		if limit == 0 {
			return 0, "percent", &fault.ParamError{Param: "percent", Message: fmt.Sprintf("cgroup %s has no memory limit (%s unset in it and every ancestor): give --size", cg, lf)}
		}
		size := int64(math.Round(float64(limit) * float64(p.Percent) / 100))
		if size <= 0 {
			return 0, "percent", &fault.ParamError{Param: "percent", Message: "comes to 0 bytes"}
		}
		return size, "percent", nil
	}
	size := int64(p.Size)
	if limit > 0 && size > limit {
		return 0, "size", &fault.ParamError{Param: "size", Message: fmt.Sprintf("%s is more than the memory limit of %s (%s of %s): the helper could never hold it", fmtBytes(size), fmtBytes(limit), lf, from)}
	}
	return size, "size", nil
}

// Apply implements fault.Kind: the helper writes its pid to the cgroup's
// cgroup.procs before it maps anything.
func (PressureKind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return apply(ctx, h, r)
}

// Verify implements fault.Kind: mem.fill's checks of the level and the OOM
// score, and that the helper is a member of the cgroup, with the cgroup's
// usage against its limit.
func (PressureKind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := verify(ctx, h, r)
	if err != nil {
		return ev, err
	}
	more, err := cgroupEvidence(h, r)
	return append(ev, more...), err
}

// Status implements fault.Statuser: the level from the helper's status file
// and its membership of the cgroup.
func (PressureKind) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := status(h, r)
	if err != nil {
		return ev, err
	}
	more, err := cgroupEvidence(h, r)
	return append(ev, more...), err
}

// cgroupEvidence checks that the helper is in the receipt's cgroup and
// reports the cgroup's usage and limit.
func cgroupEvidence(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeReceipt(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil {
		return nil, fmt.Errorf("%s: %w", d.Kind, errNoHelper)
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Kind, err)
	}
	in, err := hy.ProcessCgroup(d.Helper.PID, "memory")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Kind, err)
	}
	ok := filepath.Clean(string(in)) == filepath.Clean(d.Cgroup)
	ev := []bulwark.Evidence{fault.Evidence("cgroup", ok, "helper %s is in memory cgroup %s (want %s)", d.Helper, in, d.Cgroup)}
	if !ok {
		return ev, fmt.Errorf("%s: helper %s is in memory cgroup %s, not %s", d.Kind, d.Helper, in, d.Cgroup)
	}
	usage, err := hy.MemoryUsage(cgroup.Path(d.Cgroup))
	if err != nil {
		return ev, fmt.Errorf("%s: %w", d.Kind, err)
	}
	if d.Limit > 0 {
		ev = append(ev, fault.Evidence("cgroup usage", true, "cgroup %s uses %s of its %s limit (%.1f %%), %s of it the helper's",
			d.Cgroup, fmtBytes(usage), fmtBytes(d.Limit), float64(usage)/float64(d.Limit)*100, fmtBytes(d.Bytes)))
	} else {
		ev = append(ev, fault.Evidence("cgroup usage", true, "cgroup %s uses %s (no limit), %s of it the helper's", d.Cgroup, fmtBytes(usage), fmtBytes(d.Bytes)))
	}
	if d.Target != nil {
		_, alive := h.Same(*d.Target)
		ev = append(ev, fault.Evidence("target", true, "target %s running: %t", d.Target, alive))
	}
	return ev, nil
}

// Recover implements fault.Kind: ending the helper takes it out of the
// cgroup and uncharges its pages.
func (PressureKind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return recoverFault(ctx, h, r)
}

// VerifyRecovered implements fault.Kind: no helper of the fault is left, so
// none is in the cgroup; the cgroup's usage now is reported.
func (PressureKind) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := verifyRecovered(h, r)
	if err != nil {
		return ev, err
	}
	d, _ := decodeReceipt(r)
	if hy, herr := cgroup.Detect(h); herr == nil {
		if usage, uerr := hy.MemoryUsage(cgroup.Path(d.Cgroup)); uerr == nil {
			ev = append(ev, fault.Evidence("cgroup usage", true, "cgroup %s uses %s after recovery", d.Cgroup, fmtBytes(usage)))
		}
	}
	return ev, nil
}

var (
	_ fault.Availability = PressureKind{}
	_ fault.Statuser     = PressureKind{}
)
