package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cgroup"
	"golang.org/x/sys/unix"
)

func init() { fault.Register(Throttle{}) }

// ThrottleID is disk.throttle's identifier.
const ThrottleID = "disk.throttle"

// sysDevBlock is where the kernel lists block devices by MAJ:MIN; a
// partition's directory has a "partition" file and lies in its disk's.
var sysDevBlock = "/sys/dev/block"

// Throttle is the disk.throttle kind: the target process is moved into a
// child cgroup of its I/O cgroup whose blkio.throttle.* (cgroup v1) or
// io.max (v2) caps its reads and writes on one block device. Recover moves
// it back and removes the child.
//
// On cgroup v2 that works only from the root cgroup: any other cgroup that
// holds a process cannot delegate io to a child (the no-internal-processes
// rule). There the caps go into the io.max of the target's own cgroup
// instead, so they apply to every process in it (a service, as a rule),
// and Recover writes the device's previous io.max values back, compare and
// swap: only while they are still the fault's.
//
// On cgroup v1, buffered writes are not throttled (the kernel's flusher
// threads write them back outside the target's cgroup): only reads and
// direct writes are. v2 throttles writeback too where the cgroup also has
// the memory controller.
type Throttle struct{}

// ThrottleParams are disk.throttle's parameters.
type ThrottleParams struct {
	PID       int              `param:"pid,required,target" help:"the process to throttle (its threads and the children it starts later)"`
	Path      string           `param:"path,target" help:"a file or directory on the block device to throttle; or --device"`
	Device    string           `param:"device,target" help:"the block device to throttle as MAJ:MIN; or --path"`
	ReadBps   bulwark.ByteRate `param:"read-bps" unit:"bytes/s" help:"read throughput cap"`
	WriteBps  bulwark.ByteRate `param:"write-bps" unit:"bytes/s" help:"write throughput cap (cgroup v1: direct writes only)"`
	ReadIOPS  int              `param:"read-iops" min:"0" help:"read operations per second cap"`
	WriteIOPS int              `param:"write-iops" min:"0" help:"write operations per second cap (cgroup v1: direct writes only)"`
}

// Validate implements fault.Validator.
func (p *ThrottleParams) Validate() error {
	switch {
	case p.Path != "" && p.Device != "":
		return &fault.ParamError{Param: "device", Message: "give --path or --device, not both"}
	case p.Path == "" && p.Device == "":
		return &fault.ParamError{Param: "path", Message: "is required (or give --device MAJ:MIN)"}
	case p.ReadBps < 0:
		return &fault.ParamError{Param: "read-bps", Message: "is negative"}
	case p.WriteBps < 0:
		return &fault.ParamError{Param: "write-bps", Message: "is negative"}
	case p.ReadBps == 0 && p.WriteBps == 0 && p.ReadIOPS == 0 && p.WriteIOPS == 0:
		return &fault.ParamError{Param: "read-bps", Message: "no cap given: set at least one of --read-bps, --write-bps, --read-iops, --write-iops"}
	}
	if p.Device != "" {
		if _, _, err := parseDevice(p.Device); err != nil {
			return &fault.ParamError{Param: "device", Message: err.Error()}
		}
	}
	return nil
}

// parseDevice parses MAJ:MIN.
func parseDevice(s string) (major, minor uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	ma, err1 := strconv.ParseUint(a, 10, 32)
	mi, err2 := strconv.ParseUint(b, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not MAJ:MIN", s)
	}
	return uint32(ma), uint32(mi), nil
}

// Info implements fault.Kind.
func (Throttle) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             ThrottleID,
		Summary:        "Cap a process's read and write bytes/s and IOPS on a block device through the cgroup I/O controller (v1 blkio or v2 io.max)",
		SummaryZH:      "通过 cgroup I/O 控制器（v1 blkio 或 v2 io.max）限制进程在块设备上的读写字节速率和 IOPS",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesProcess,
		ReceiptVersion: 2, // 2: in-place receipts (cgroup v2 io.max of the target's cgroup); child ones are unchanged
		NewParams:      func() any { return &ThrottleParams{} },
	}
}

// throttleReceiptV1 is disk.throttle's undo record: version 1, and version
// 2, which adds in-place records (InPlace, Prev).
type throttleReceiptV1 struct {
	Fault  string     `json:"fault"`
	Target fault.Proc `json:"target"`
	Comm   string     `json:"comm"`
	Orig   string     `json:"orig"`  // the target's I/O cgroup before the fault
	Child  string     `json:"child"` // the cgroup the fault creates under it; empty in place
	CgVer  int        `json:"cgroupVersion"`
	Limit  ioLimit    `json:"limit"`
	// InPlace: the caps are in Orig's own io.max (cgroup v2, Orig not the
	// root); Prev holds the device's values there before the fault.
	InPlace bool     `json:"inPlace,omitempty"`
	Prev    *ioLimit `json:"prev,omitempty"`
}

// ioLimit is the receipt's copy of a cgroup.IOLimit, with its own stable
// field names; zero means unlimited.
type ioLimit struct {
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	RBps  uint64 `json:"readBps,omitempty"`
	WBps  uint64 `json:"writeBps,omitempty"`
	RIOPS uint64 `json:"readIops,omitempty"`
	WIOPS uint64 `json:"writeIops,omitempty"`
}

func (l ioLimit) cgroup() cgroup.IOLimit { return cgroup.IOLimit(l) }

func decodeThrottle(r *fault.Receipt) (throttleReceiptV1, error) {
	var d throttleReceiptV1
	if r.Version < 1 || r.Version > 2 {
		return d, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1, 2)", ThrottleID, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if d.InPlace {
		if r.Version < 2 || !fault.ValidFaultID(d.Fault) || !filepath.IsAbs(d.Orig) || d.Child != "" || d.Prev == nil ||
			d.CgVer != int(cgroup.V2) || d.Prev.Major != d.Limit.Major || d.Prev.Minor != d.Limit.Minor {
			return d, fmt.Errorf("decode %s receipt: bad in-place record for cgroup %q", ThrottleID, d.Orig)
		}
		return d, nil
	}
	if !fault.ValidFaultID(d.Fault) || !filepath.IsAbs(d.Orig) || filepath.Dir(d.Child) != filepath.Clean(d.Orig) ||
		filepath.Base(d.Child) != cgroup.ChildPrefix+throttleName(d.Fault) {
		return d, fmt.Errorf("decode %s receipt: bad fault id or cgroups %q, %q", ThrottleID, d.Orig, d.Child)
	}
	return d, nil
}

// throttleName is the child cgroup's name after cgroup.ChildPrefix.
func throttleName(id string) string { return "throttle-" + id }

// Available implements fault.Availability: the I/O controller is mounted
// (v1 blkio or v2 io) and writable.
func (Throttle) Available(_ context.Context, h *fault.Host) error {
	hy, err := cgroup.Detect(h)
	if err != nil {
		return err
	}
	return hy.Available("io")
}

// blockDevice returns the whole disk holding the filesystem of path, or the
// disk of a MAJ:MIN: throttling applies to disks, not partitions.
func blockDevice(p *ThrottleParams) (major, minor uint32, desc string, err error) {
	param := "device"
	if p.Path != "" {
		param = "path"
		var st unix.Stat_t
		if err := unix.Stat(p.Path, &st); err != nil {
			return 0, 0, "", &fault.ParamError{Param: "path", Message: err.Error()}
		}
		major, minor = unix.Major(st.Dev), unix.Minor(st.Dev)
	} else {
		major, minor, _ = parseDevice(p.Device)
	}
	dev := fmt.Sprintf("%d:%d", major, minor)
	dir := filepath.Join(sysDevBlock, dev)
	if _, err := os.Stat(dir); err != nil {
		what := dev
		if p.Path != "" {
			what = p.Path + " (device " + dev + ")"
		}
		return 0, 0, "", &fault.ParamError{Param: param, Message: what + " is not on a block device (tmpfs, overlay or another virtual filesystem has none to throttle)"}
	}
	desc = dev
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		b, err := os.ReadFile(filepath.Join(dir, "..", "dev"))
		if err != nil {
			return 0, 0, "", fmt.Errorf("find the disk of partition %s: %w", dev, err)
		}
		if major, minor, err = parseDevice(strings.TrimSpace(string(b))); err != nil {
			return 0, 0, "", fmt.Errorf("find the disk of partition %s: %w", dev, err)
		}
		desc = fmt.Sprintf("%d:%d (the disk of partition %s)", major, minor, dev)
	}
	return major, minor, desc, nil
}

// Prepare implements fault.Kind: it checks the target, finds its I/O cgroup
// and the block device, and computes the child cgroup. It changes nothing.
func (Throttle) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*ThrottleParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", ThrottleID, req.Params)
	}
	if !fault.ValidFaultID(req.ID) {
		return nil, fmt.Errorf("prepare %s: bad fault id %q", ThrottleID, req.ID)
	}
	proc, st, err := h.CheckTarget("pid", p.PID)
	if err != nil {
		return nil, err
	}
	major, minor, _, err := blockDevice(p)
	if err != nil {
		return nil, err
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", ThrottleID, err)
	}
	if err := hy.Available("io"); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", ThrottleID, err)
	}
	_, ver, _ := hy.Controller("io")
	orig, err := hy.ProcessCgroup(p.PID, "io")
	if err != nil {
		return nil, &fault.ParamError{Param: "pid", Message: err.Error()}
	}
	if strings.HasPrefix(filepath.Base(string(orig)), cgroup.ChildPrefix+"throttle-") {
		return nil, &fault.ParamError{Param: "pid", Message: fmt.Sprintf("pid %d is already throttled (in %s)", p.PID, orig)}
	}
	d := throttleReceiptV1{Fault: req.ID, Target: proc, Comm: st.Comm, Orig: string(orig), CgVer: int(ver),
		Limit: ioLimit{Major: major, Minor: minor, RBps: uint64(p.ReadBps), WBps: uint64(p.WriteBps),
			RIOPS: uint64(p.ReadIOPS), WIOPS: uint64(p.WriteIOPS)}}
	if ver == cgroup.V2 && !hy.IsRoot(orig) {
		// The no-internal-processes rule: orig holds the target, so it
		// cannot delegate io to a child; cap orig itself.
		if err := planInPlace(hy, p.PID, &d); err != nil {
			return nil, err
		}
		return fault.NewReceipt(Throttle{}.Info(), "cgroup-io:"+string(orig), d)
	}
	d.Child = filepath.Join(string(orig), cgroup.ChildPrefix+throttleName(req.ID))
	return fault.NewReceipt(Throttle{}.Info(), "cgroup-io:"+proc.String(), d)
}

// planInPlace completes d for caps in the io.max of the target's own v2
// cgroup: it refuses a cgroup without io.max (its parent does not delegate
// io) or holding bulwark itself, records the device's values there, and
// keeps those the fault does not set.
func planInPlace(hy *cgroup.Hierarchy, pid int, d *throttleReceiptV1) error {
	orig := cgroup.Path(d.Orig)
	prev, err := hy.ReadIOLimit(orig, cgroup.V2, d.Limit.Major, d.Limit.Minor)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("prepare %s: pid %d's cgroup %s (cgroup v2) has no io.max: its parent does not delegate io (cgroup.subtree_control)", ThrottleID, pid, orig)
	}
	if err != nil {
		return fmt.Errorf("prepare %s: %w", ThrottleID, err)
	}
	if own, err := hy.ProcessCgroup(os.Getpid(), "io"); err == nil && own == orig {
		return &fault.ParamError{Param: "pid", Message: fmt.Sprintf("pid %d is in cgroup %s with bulwark itself (pid %d): on cgroup v2 the caps apply to the whole cgroup and would throttle the agent", pid, orig, os.Getpid())}
	}
	l := &d.Limit
	for _, f := range []struct{ set, old *uint64 }{{&l.RBps, &prev.RBps}, {&l.WBps, &prev.WBps}, {&l.RIOPS, &prev.RIOPS}, {&l.WIOPS, &prev.WIOPS}} {
		if *f.set == 0 {
			*f.set = *f.old
		}
	}
	p := ioLimit(prev)
	d.InPlace, d.Prev = true, &p
	return nil
}

// Apply implements fault.Kind: it creates the child cgroup, sets the caps,
// and moves the target into it; on failure it undoes what it did.
func (k Throttle) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeThrottle(r)
	if err != nil {
		return err
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return fmt.Errorf("apply %s: %w", ThrottleID, err)
	}
	if _, ok := h.Same(d.Target); !ok {
		return fmt.Errorf("apply %s: target %s has exited", ThrottleID, d.Target)
	}
	undo := func(err error) error {
		return errors.Join(fmt.Errorf("apply %s: %w", ThrottleID, err), k.Recover(context.WithoutCancel(ctx), h, r))
	}
	if d.InPlace {
		if err := hy.SetIOLimit(cgroup.Path(d.Orig), cgroup.V2, d.Limit.cgroup()); err != nil {
			return undo(err)
		}
		return nil
	}
	child, err := hy.CreateChild("io", cgroup.Path(d.Orig), throttleName(d.Fault))
	if err != nil {
		return undo(err)
	}
	if string(child) != d.Child {
		return undo(fmt.Errorf("created %s, not %s", child, d.Child))
	}
	if err := hy.SetIOLimit(child, cgroup.Version(d.CgVer), d.Limit.cgroup()); err != nil {
		return undo(err)
	}
	// The pid is checked against its start time just before the move; a
	// pid reused in the instant between is the residual risk of a
	// pid-based cgroup interface.
	if _, ok := h.Same(d.Target); !ok {
		return undo(fmt.Errorf("target %s has exited", d.Target))
	}
	if err := hy.Move(d.Target.PID, child); err != nil {
		return undo(err)
	}
	return nil
}

// Verify implements fault.Kind: the target is in the child cgroup and the
// caps read back as set.
func (Throttle) Verify(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := throttleInPlace(h, r)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", ThrottleID, err)
	}
	return ev, nil
}

// Status implements fault.Statuser: someone may move the target out of the
// child cgroup or change its caps.
func (Throttle) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := throttleInPlace(h, r)
	if err != nil {
		return ev, fmt.Errorf("status %s: %w", ThrottleID, err)
	}
	return ev, nil
}

func throttleInPlace(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeThrottle(r)
	if err != nil {
		return nil, err
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, err
	}
	if _, ok := h.Same(d.Target); !ok {
		ev := fault.Evidence("target", false, "target %s (%s) has exited", d.Target, d.Comm)
		return []bulwark.Evidence{ev}, fmt.Errorf("target %s has exited", d.Target)
	}
	cur, err := hy.ProcessCgroup(d.Target.PID, "io")
	if err != nil {
		return nil, err
	}
	capped := d.Child
	if d.InPlace {
		capped = d.Orig
	}
	if string(cur) != capped {
		ev := fault.Evidence("cgroup", false, "target %s (%s) is in %s, not %s", d.Target, d.Comm, cur, capped)
		return []bulwark.Evidence{ev}, fmt.Errorf("target %s is in %s, not the throttled %s", d.Target, cur, capped)
	}
	ev := []bulwark.Evidence{fault.Evidence("cgroup", true, "target %s (%s) is in %s (cgroup %s)", d.Target, d.Comm, capped, cgroup.Version(d.CgVer))}
	if d.InPlace {
		ev[0].Detail += "; the caps are its own io.max, for every process in it"
	}
	got, err := hy.ReadIOLimit(cgroup.Path(capped), cgroup.Version(d.CgVer), d.Limit.Major, d.Limit.Minor)
	if err != nil {
		return ev, err
	}
	ok := got == d.Limit.cgroup()
	ev = append(ev, fault.Evidence("caps", ok, "device %d:%d: read %s, write %s, read %s, write %s",
		got.Major, got.Minor, rateText(got.RBps, "B/s"), rateText(got.WBps, "B/s"), rateText(got.RIOPS, "ops/s"), rateText(got.WIOPS, "ops/s")))
	if !ok {
		return ev, fmt.Errorf("caps read back %+v, not %+v", got, d.Limit)
	}
	return ev, nil
}

// rateText is a cap for evidence: "unlimited" for zero.
func rateText(n uint64, unit string) string {
	if n == 0 {
		return "unlimited"
	}
	if unit == "B/s" {
		return bulwark.ByteRate(n).String()
	}
	return fmt.Sprintf("%d %s", n, unit)
}

// Recover implements fault.Kind: it moves the target back to its original
// cgroup if it is still in the child, then removes the child (moving any
// process the target started meanwhile to the original cgroup too). A child
// already gone is not an error.
func (Throttle) Recover(_ context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeThrottle(r)
	if err != nil {
		return err
	}
	if d.InPlace {
		return recoverInPlace(h, d)
	}
	if _, err := os.Stat(d.Child); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return fmt.Errorf("recover %s: %w", ThrottleID, err)
	}
	if _, ok := h.Same(d.Target); ok {
		if cur, err := hy.ProcessCgroup(d.Target.PID, "io"); err == nil && string(cur) == d.Child {
			if err := hy.Move(d.Target.PID, cgroup.Path(d.Orig)); err != nil && sameProc(h, d.Target) {
				return fmt.Errorf("recover %s: move %s back to %s: %w", ThrottleID, d.Target, d.Orig, err)
			}
		}
	}
	if err := hy.Remove(cgroup.Path(d.Child)); err != nil {
		return fmt.Errorf("recover %s: %w", ThrottleID, err)
	}
	return nil
}

// recoverInPlace writes the device's previous values back to the io.max of
// the target's cgroup while it still holds the fault's caps; a cgroup gone
// (its service stopped) or values already back need nothing, and values
// someone else changed meanwhile are left alone and reported.
func recoverInPlace(h *fault.Host, d throttleReceiptV1) error {
	hy, err := cgroup.Detect(h)
	if err != nil {
		return fmt.Errorf("recover %s: %w", ThrottleID, err)
	}
	orig := cgroup.Path(d.Orig)
	cur, err := hy.ReadIOLimit(orig, cgroup.V2, d.Limit.Major, d.Limit.Minor)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("recover %s: %w", ThrottleID, err)
	case cur == d.Prev.cgroup():
		return nil
	case cur != d.Limit.cgroup():
		return fmt.Errorf("recover %s: conflict: io.max of %s for %d:%d was changed by someone else while the fault was active (it is %s; the fault left %s; the original is %s), so it was not overwritten; write the original back and the next retry ends the fault",
			ThrottleID, orig, cur.Major, cur.Minor, ioMaxText(cur), ioMaxText(d.Limit.cgroup()), ioMaxText(d.Prev.cgroup()))
	}
	if err := hy.SetIOLimit(orig, cgroup.V2, d.Prev.cgroup()); err != nil {
		return fmt.Errorf("recover %s: %w", ThrottleID, err)
	}
	return nil
}

// ioMaxText is l as io.max shows it.
func ioMaxText(l cgroup.IOLimit) string {
	v := func(n uint64) string {
		if n == 0 {
			return "max"
		}
		return strconv.FormatUint(n, 10)
	}
	return fmt.Sprintf("%q", fmt.Sprintf("%d:%d rbps=%s wbps=%s riops=%s wiops=%s", l.Major, l.Minor, v(l.RBps), v(l.WBps), v(l.RIOPS), v(l.WIOPS)))
}

// sameProc reports whether p still runs (a failed move of a process that
// has just exited is no error).
func sameProc(h *fault.Host, p fault.Proc) bool { _, ok := h.Same(p); return ok }

// VerifyRecovered implements fault.Kind: the child cgroup is gone and the
// target, if it still runs, is back in its original cgroup.
func (Throttle) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeThrottle(r)
	if err != nil {
		return nil, err
	}
	if d.InPlace {
		return verifyRecoveredInPlace(h, d)
	}
	if _, err := os.Stat(d.Child); !errors.Is(err, os.ErrNotExist) {
		ev := fault.Evidence("cgroup gone", false, "%s still exists (%v)", d.Child, err)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s recovered: %s still exists", ThrottleID, d.Child)
	}
	ev := []bulwark.Evidence{fault.Evidence("cgroup gone", true, "%s is gone", d.Child)}
	if _, ok := h.Same(d.Target); !ok {
		return append(ev, fault.Evidence("target", true, "target %s has exited", d.Target)), nil
	}
	hy, err := cgroup.Detect(h)
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", ThrottleID, err)
	}
	cur, err := hy.ProcessCgroup(d.Target.PID, "io")
	if err != nil {
		if _, ok := h.Same(d.Target); !ok {
			return append(ev, fault.Evidence("target", true, "target %s has exited", d.Target)), nil
		}
		return ev, fmt.Errorf("verify %s recovered: %w", ThrottleID, err)
	}
	ok := string(cur) == d.Orig
	ev = append(ev, fault.Evidence("target", ok, "target %s is in %s (originally %s)", d.Target, cur, d.Orig))
	if !ok {
		return ev, fmt.Errorf("verify %s recovered: target %s is in %s, not its original %s", ThrottleID, d.Target, cur, d.Orig)
	}
	return ev, nil
}

// verifyRecoveredInPlace checks that the io.max of the target's cgroup
// holds the device's values from before the fault (or the cgroup is gone).
func verifyRecoveredInPlace(h *fault.Host, d throttleReceiptV1) ([]bulwark.Evidence, error) {
	hy, err := cgroup.Detect(h)
	if err != nil {
		return nil, fmt.Errorf("verify %s recovered: %w", ThrottleID, err)
	}
	cur, err := hy.ReadIOLimit(cgroup.Path(d.Orig), cgroup.V2, d.Limit.Major, d.Limit.Minor)
	if errors.Is(err, os.ErrNotExist) {
		return []bulwark.Evidence{fault.Evidence("io.max", true, "cgroup %s is gone", d.Orig)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s recovered: %w", ThrottleID, err)
	}
	ok := cur == d.Prev.cgroup()
	ev := []bulwark.Evidence{fault.Evidence("io.max", ok, "%s/io.max for %d:%d is %s (before the fault %s)", d.Orig, cur.Major, cur.Minor, ioMaxText(cur), ioMaxText(d.Prev.cgroup()))}
	if !ok {
		return ev, fmt.Errorf("verify %s recovered: io.max of %s for %d:%d is %s, not the original %s", ThrottleID, d.Orig, cur.Major, cur.Minor, ioMaxText(cur), ioMaxText(d.Prev.cgroup()))
	}
	return ev, nil
}

var (
	_ fault.Kind         = Throttle{}
	_ fault.Availability = Throttle{}
	_ fault.Statuser     = Throttle{}
	_ fault.Validator    = (*ThrottleParams)(nil)
)
