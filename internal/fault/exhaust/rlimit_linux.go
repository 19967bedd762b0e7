package exhaust

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// limitKind is what fd.exhaust and pid.exhaust share: a resource limit of one
// target process lowered with prlimit(2) and restored compare-and-swap.
type limitKind struct {
	id       string
	resource int    // unix.RLIMIT_*
	name     string // "RLIMIT_NOFILE"
	effect   string // what the target sees: "open fails with EMFILE"
	// plan returns the soft limit that leaves headroom more of the resource
	// to the target, and a description of the usage it counted.
	plan func(h *fault.Host, p fault.Proc, headroom int) (uint64, string, error)
	// usage measures what the target has left under soft, for evidence.
	usage func(h *fault.Host, p fault.Proc, soft uint64) (left int, desc string, err error)
	// refuse rejects targets the limit would not hold (nil: none).
	refuse func(h *fault.Host, p fault.Proc) error
}

// limit is one process's soft and hard limit.
type limit struct {
	Cur uint64 `json:"cur"`
	Max uint64 `json:"max"`
}

func (l limit) String() string {
	return fmt.Sprintf("soft %s, hard %s", limText(l.Cur), limText(l.Max))
}

func limText(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

// limitReceiptV1 is version 1 of the undo record of fd.exhaust and
// pid.exhaust: the target, the limits it had, and the limits the fault sets.
type limitReceiptV1 struct {
	Target   fault.Proc `json:"target"`
	Comm     string     `json:"comm"`
	Limit    string     `json:"limit"`
	Headroom int        `json:"headroom"`
	Hard     bool       `json:"hard"`
	Original limit      `json:"original"`
	Applied  limit      `json:"applied"`
	Counted  string     `json:"counted"`
}

func (k limitKind) decode(r *fault.Receipt) (limitReceiptV1, error) {
	var d limitReceiptV1
	if r.Version < 1 || r.Version > 2 {
		return d, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1, 2)", k.id, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if d.Target.PID <= 1 {
		return d, fmt.Errorf("decode %s receipt: no target", k.id)
	}
	return d, nil
}

func getLimit(pid, resource int) (limit, error) {
	var rl unix.Rlimit
	if err := unix.Prlimit(pid, resource, nil, &rl); err != nil {
		return limit{}, err
	}
	return limit{rl.Cur, rl.Max}, nil
}

// swapLimit sets the limit and returns the one it replaced, atomically.
func swapLimit(pid, resource int, to limit) (limit, error) {
	var old unix.Rlimit
	if err := unix.Prlimit(pid, resource, &unix.Rlimit{Cur: to.Cur, Max: to.Max}, &old); err != nil {
		return limit{}, err
	}
	return limit{old.Cur, old.Max}, nil
}

// prepare identifies the target, refuses what is never a target or what the
// limit would not hold, and plans the lowered limit. It changes nothing.
func (k limitKind) prepare(h *fault.Host, info fault.KindInfo, pid, headroom int, hard bool) (*fault.Receipt, error) {
	p, st, err := h.CheckTarget("pid", pid)
	if err != nil {
		return nil, err
	}
	if k.refuse != nil {
		if err := k.refuse(h, p); err != nil {
			return nil, err
		}
	}
	if hard {
		if err := canRaiseHard(h); err != nil {
			return nil, &fault.ParamError{Param: "hard", Message: "a lowered hard limit could not be restored: " + err.Error()}
		}
	}
	orig, err := getLimit(pid, k.resource)
	if err != nil {
		return nil, fmt.Errorf("read %s of pid %d: %w", k.name, pid, err)
	}
	soft, counted, err := k.plan(h, p, headroom)
	if err != nil {
		return nil, fmt.Errorf("count what pid %d uses: %w", pid, err)
	}
	if soft >= orig.Cur {
		return nil, &fault.ParamError{Param: "pid", Message: fmt.Sprintf("pid %d (%s) already has %s %s, at or below the %d that --headroom %d needs (%s): nothing to lower", pid, st.Comm, k.name, orig, soft, headroom, counted)}
	}
	applied := limit{Cur: soft, Max: orig.Max}
	if hard {
		applied.Max = soft
	}
	return fault.NewReceipt(info, fmt.Sprintf("rlimit:%s:%s", k.name, p), limitReceiptV1{
		Target: p, Comm: st.Comm, Limit: k.name, Headroom: headroom, Hard: hard,
		Original: orig, Applied: applied, Counted: counted,
	})
}

// apply sets the planned limit if the target still has the limits prepare
// read; otherwise it puts back what it replaced and fails.
func (k limitKind) apply(h *fault.Host, r *fault.Receipt) error {
	d, err := k.decode(r)
	if err != nil {
		return err
	}
	if _, same := h.Same(d.Target); !same {
		return fmt.Errorf("apply %s: target %s: %w", k.id, d.Target, fault.ErrGone)
	}
	old, err := swapLimit(d.Target.PID, k.resource, d.Applied)
	if err != nil {
		return fmt.Errorf("apply %s: set %s of pid %d: %w", k.id, k.name, d.Target.PID, err)
	}
	if old != d.Original {
		_, rerr := swapLimit(d.Target.PID, k.resource, old)
		return errors.Join(fmt.Errorf("apply %s: %s of pid %d changed since prepare (%s, not %s); put back", k.id, k.name, d.Target.PID, old, d.Original), rerr)
	}
	return nil
}

// verify reads the limit back and measures what the target has left.
func (k limitKind) verify(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := k.decode(r)
	if err != nil {
		return nil, err
	}
	if _, same := h.Same(d.Target); !same {
		return nil, fmt.Errorf("verify %s: target %s: %w", k.id, d.Target, fault.ErrGone)
	}
	cur, err := getLimit(d.Target.PID, k.resource)
	if err != nil {
		return nil, fmt.Errorf("verify %s: read %s of pid %d: %w", k.id, k.name, d.Target.PID, err)
	}
	if cur != d.Applied {
		ev := fault.Evidence("limit", false, "pid %d (%s) has %s %s, not the %s set", d.Target.PID, d.Comm, k.name, cur, d.Applied)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: %s of pid %d is %s, not %s", k.id, k.name, d.Target.PID, cur, d.Applied)
	}
	ev := []bulwark.Evidence{fault.Evidence("limit", true, "pid %d (%s) has %s %s (was %s)", d.Target.PID, d.Comm, k.name, cur, d.Original)}
	left, desc, err := k.usage(h, d.Target, cur.Cur)
	if err != nil {
		return ev, fmt.Errorf("verify %s: measure pid %d: %w", k.id, d.Target.PID, err)
	}
	ev = append(ev, fault.Evidence("headroom", left <= d.Headroom, "%s: %d left before the %s (--headroom %d)", desc, left, k.effect, d.Headroom))
	return ev, nil
}

// status reports drift: the target gone, or its limit changed by someone.
func (k limitKind) status(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := k.decode(r)
	if err != nil {
		return nil, err
	}
	if _, same := h.Same(d.Target); !same {
		return []bulwark.Evidence{fault.Evidence("limit", false, "target %s is gone", d.Target)}, fmt.Errorf("status %s: target %s is gone: the fault no longer holds", k.id, d.Target)
	}
	cur, err := getLimit(d.Target.PID, k.resource)
	if err != nil {
		return nil, fmt.Errorf("status %s: read %s of pid %d: %w", k.id, k.name, d.Target.PID, err)
	}
	if cur != d.Applied {
		return []bulwark.Evidence{fault.Evidence("limit", false, "pid %d has %s %s, not the %s set", d.Target.PID, k.name, cur, d.Applied)},
			fmt.Errorf("status %s: %s of pid %d drifted to %s (the fault set %s)", k.id, k.name, d.Target.PID, cur, d.Applied)
	}
	return []bulwark.Evidence{fault.Evidence("limit", true, "pid %d (%s) still has %s %s", d.Target.PID, d.Comm, k.name, cur)}, nil
}

// recover restores the original limit compare-and-swap: only while the
// target still has the limit the fault set. A target that is gone, or that
// already has its original limit, needs nothing. Any other limit is a
// conflict: someone changed it, and it is left alone and reported.
func (k limitKind) recover(h *fault.Host, r *fault.Receipt) error {
	d, err := k.decode(r)
	if err != nil {
		return err
	}
	if _, same := h.Same(d.Target); !same {
		return nil
	}
	cur, err := getLimit(d.Target.PID, k.resource)
	if errors.Is(err, unix.ESRCH) {
		return nil
	} else if err != nil {
		return fmt.Errorf("recover %s: read %s of pid %d: %w", k.id, k.name, d.Target.PID, err)
	}
	switch cur {
	case d.Original:
		return nil
	case d.Applied:
	default:
		return fmt.Errorf("recover %s: conflict: %s of pid %d is %s, neither the %s the fault set nor the original %s; left alone", k.id, k.name, d.Target.PID, cur, d.Applied, d.Original)
	}
	old, err := swapLimit(d.Target.PID, k.resource, d.Original)
	if errors.Is(err, unix.ESRCH) {
		return nil
	} else if err != nil {
		return fmt.Errorf("recover %s: restore %s of pid %d to %s: %w", k.id, k.name, d.Target.PID, d.Original, err)
	}
	if old != d.Applied { // changed between the read and the swap: put it back
		_, rerr := swapLimit(d.Target.PID, k.resource, old)
		return errors.Join(fmt.Errorf("recover %s: conflict: %s of pid %d changed to %s while restoring; left alone", k.id, k.name, d.Target.PID, old), rerr)
	}
	return nil
}

// verifyRecovered proves the target has its original limit, or is gone.
func (k limitKind) verifyRecovered(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := k.decode(r)
	if err != nil {
		return nil, err
	}
	if _, same := h.Same(d.Target); !same {
		return []bulwark.Evidence{fault.Evidence("limit restored", true, "target %s is gone: nothing to restore", d.Target)}, nil
	}
	cur, err := getLimit(d.Target.PID, k.resource)
	if errors.Is(err, unix.ESRCH) {
		return []bulwark.Evidence{fault.Evidence("limit restored", true, "target %s is gone: nothing to restore", d.Target)}, nil
	} else if err != nil {
		return nil, fmt.Errorf("verify %s recovered: read %s of pid %d: %w", k.id, k.name, d.Target.PID, err)
	}
	if cur != d.Original {
		return []bulwark.Evidence{fault.Evidence("limit restored", false, "pid %d has %s %s, not the original %s", d.Target.PID, k.name, cur, d.Original)},
			fmt.Errorf("verify %s recovered: %s of pid %d is %s, not the original %s", k.id, k.name, d.Target.PID, cur, d.Original)
	}
	return []bulwark.Evidence{fault.Evidence("limit restored", true, "pid %d (%s) has its original %s %s", d.Target.PID, d.Comm, k.name, cur)}, nil
}

// available says why prlimit cannot work here.
func available() error {
	if _, err := getLimit(0, unix.RLIMIT_NOFILE); err != nil {
		return fmt.Errorf("prlimit(2) is not usable: %w", err)
	}
	if unix.Geteuid() != 0 {
		return errors.New("changing the limits of processes of other users needs root")
	}
	return nil
}

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/PID/status Cap* masks.
const capSysResource = 24

// canRaiseHard returns why this process could not raise a hard limit back
// (setrlimit needs CAP_SYS_RESOURCE to raise one), or nil.
func canRaiseHard(h *fault.Host) error {
	caps, err := effectiveCaps(h, os.Getpid())
	if err != nil {
		return err
	}
	if caps&(1<<capSysResource) == 0 {
		return errors.New("this bulwark process lacks CAP_SYS_RESOURCE")
	}
	return nil
}

// effectiveCaps reads CapEff of process pid.
func effectiveCaps(h *fault.Host, pid int) (uint64, error) {
	v, err := statusField(h, pid, "CapEff")
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 16, 64)
}

// statusField returns the value of one "Name:\tvalue" line of /proc/PID/status.
func statusField(h *fault.Host, pid int, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "status"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/%d/status", name, pid)
}
