package exhaust

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// PortID is port.exhaust's identifier.
const PortID = "port.exhaust"

// portHelperName is the helper entry point: `bulwark helper port-exhaust …`.
const portHelperName = "port-exhaust"

const (
	// portReadyTimeout bounds how long Apply waits for the helper's first
	// status, and Verify for it to hold every port it was asked to.
	portReadyTimeout = 15 * time.Second
	// portStatusStale is how old the status file may be before Status calls
	// the helper hung.
	portStatusStale = 5 * time.Second
	// How long stopHelper waits for a helper to go after SIGTERM, then after
	// SIGKILL.
	termWait = 2 * time.Second
	killWait = 3 * time.Second
)

// Port is port.exhaust: a helper holds connections to one destination until
// the ephemeral port range is used up for it, so new connects from this host
// (its network namespace) to that destination fail with EADDRNOTAVAIL while
// connects elsewhere still work. A reserve of the range is always left free
// unless --reserve 0 is asked for. The helper exits by itself at its deadline.
type Port struct{}

// portReceiptV1 is version 1 of port.exhaust's undo record.
type portReceiptV1 struct {
	Fault       string      `json:"fault"`
	Destination string      `json:"destination"`
	Count       int         `json:"count"`   // ports to hold
	Reserve     int         `json:"reserve"` // ports always left free
	Low         int         `json:"low"`     // ip_local_port_range at prepare
	High        int         `json:"high"`
	Deadline    time.Time   `json:"deadline"`
	Exe         string      `json:"exe"`
	Helper      *fault.Proc `json:"helper,omitempty"`
}

// Info implements fault.Kind.
func (Port) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             PortID,
		Summary:        "Use up the ephemeral ports for one destination (IP:port): new connects to it fail with EADDRNOTAVAIL; or, with --host-wide, for every destination down to a reserve",
		SummaryZH:      "耗尽访问某一目标（IP:端口）的临时端口：新建到该目标的连接以 EADDRNOTAVAIL 失败；或以 --host-wide 对所有目标耗尽至预留量",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 2, // 2: host-wide receipts (hostWideReceiptV2); per-target ones are unchanged
		NewParams:      func() any { return new(PortParams) },
	}
}

// Available implements fault.Availability.
func (Port) Available(_ context.Context, h *fault.Host) error {
	if h.Exe == "" {
		return errors.New("no bulwark executable to start the port-exhaust helper from")
	}
	_, _, err := portRange(h.ProcRoot)
	return err
}

// Prepare implements fault.Kind: it reads the port range, applies the
// reserve and refuses the management plane. It changes nothing.
func (k Port) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*PortParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", PortID, req.Params)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.HostWide {
		return preparePortsHostWide(h, k.Info(), req, p)
	}
	dest, _ := parseDestination(p.Destination)
	for _, n := range h.Management.Networks {
		if n.Contains(dest.Addr()) {
			return nil, &fault.ParamError{Param: "destination", Message: fmt.Sprintf("%s is in the management network %s, which faults never cut", dest.Addr(), n)}
		}
	}
	if slices.Contains(h.Management.TCPPorts, dest.Port()) {
		return nil, &fault.ParamError{Param: "destination", Message: fmt.Sprintf("port %d is a management port (SSH, RDP, …), which faults never cut", dest.Port())}
	}
	switch {
	case h.NetNSPath != "":
		return nil, fmt.Errorf("prepare %s: another network namespace (%s) is not supported yet", PortID, h.NetNSPath)
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the helper from", PortID)
	case !fault.ValidFaultID(req.ID):
		return nil, fmt.Errorf("prepare %s: bad fault id %q", PortID, req.ID)
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", PortID)
	}
	lo, hi, err := portRange(h.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", PortID, err)
	}
	size := hi - lo + 1
	res, _ := parseReserve(p.Reserve)
	keep := res.of(size)
	if keep >= size {
		return nil, &fault.ParamError{Param: "reserve", Message: fmt.Sprintf("%d ports would leave nothing to exhaust in the range %d-%d (%d ports)", keep, lo, hi, size)}
	}
	count, param := size-keep, "count"
	switch {
	case p.Count > 0:
		count = p.Count
	case p.Percent > 0:
		count, param = int(math.Ceil(float64(p.Percent)*float64(size)/100)), "percent"
	}
	if count > size-keep {
		return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("%d ports would leave fewer than the reserve of %d free in the range %d-%d (%d ports); lower --reserve to go further (refused, not reduced)", count, keep, lo, hi, size)}
	}
	if most, why := heldMax(h); count > most {
		return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("%d ports is more than the helper can hold: %s; ask for --count %d or less", count, why, most)}
	}
	// One fault per destination: a second would find only the reserve left.
	return fault.NewReceipt(k.Info(), "ephemeral-ports:"+dest.String(), portReceiptV1{
		Fault: req.ID, Destination: dest.String(), Count: count, Reserve: keep, Low: lo, High: hi,
		Deadline: req.Deadline.UTC(), Exe: h.Exe,
	})
}

// fdSpare is how many fds the helper keeps for itself beyond its sockets.
const fdSpare = 64

// heldMax is how many connections one helper can hold: its RLIMIT_NOFILE
// hard limit (inherited from bulwark), or fs.nr_open where bulwark has
// CAP_SYS_RESOURCE to raise it, less fdSpare.
func heldMax(h *fault.Host) (int, string) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, "RLIMIT_NOFILE is unreadable: " + err.Error()
	}
	most, why := rl.Max, fmt.Sprintf("its RLIMIT_NOFILE hard limit is %d", rl.Max)
	if canRaiseHard(h) == nil {
		if b, err := os.ReadFile(filepath.Join(h.ProcRoot, "sys", "fs", "nr_open")); err == nil {
			if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > most {
				most, why = n, fmt.Sprintf("fs.nr_open is %d", n)
			}
		}
	}
	if most < fdSpare || most > math.MaxInt32 {
		return max(0, int(min(most, math.MaxInt32))-fdSpare), why
	}
	return int(most) - fdSpare, why
}

func decodePort(r *fault.Receipt) (portReceiptV1, error) {
	var d portReceiptV1
	if r.Version < 1 || r.Version > 2 {
		return d, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1, 2)", PortID, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if !fault.ValidFaultID(d.Fault) || d.Exe == "" {
		return d, fmt.Errorf("decode %s receipt: no fault id or helper executable", PortID)
	}
	return d, nil
}

func (d portReceiptV1) ref() fault.HelperRef {
	return fault.HelperRef{Exe: d.Exe, Name: portHelperName, Fault: d.Fault, Started: d.Helper}
}

// Apply implements fault.Kind: it starts the helper in its own session,
// records it in the receipt, and waits for its first status. On failure it
// stops the helper again.
func (Port) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return applyHostWide(ctx, h, r)
	}
	d, err := decodePort(r)
	if err != nil {
		return err
	}
	dir, status, err := h.HelperFiles(d.Fault)
	if err != nil {
		return err
	}
	p, err := spawnPortHelper(h, d, dir, status)
	if err != nil {
		return err
	}
	d.Helper = &p
	if err := r.Set(d); err != nil {
		return errors.Join(err, stopHelper(context.WithoutCancel(ctx), h, p))
	}
	if _, err := waitPortStatus(ctx, h, d, func(*PortStatus) bool { return true }); err != nil {
		return errors.Join(err, stopHelper(context.WithoutCancel(ctx), h, p))
	}
	return nil
}

func portHelperArgs(d portReceiptV1, status string) []string {
	return []string{
		"helper", portHelperName,
		"--fault", d.Fault,
		"--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--destination", d.Destination,
		"--count", fmt.Sprint(d.Count),
		"--reserve", fmt.Sprint(d.Reserve),
		"--status", status,
	}
}

// spawnPortHelper starts the helper (see fault.Host.StartHelper).
func spawnPortHelper(h *fault.Host, d portReceiptV1, dir, status string) (fault.Proc, error) {
	return h.StartHelper(d.Exe, portHelperArgs(d, status), dir)
}

// waitPortStatus waits until the helper's status satisfies ok, failing when
// the helper exits or portReadyTimeout passes.
func waitPortStatus(ctx context.Context, h *fault.Host, d portReceiptV1, ok func(*PortStatus) bool) (*PortStatus, error) {
	return waitStatus(ctx, h, d.Helper, portHelperName, d.Fault, portReadyTimeout, ok, func(s *PortStatus) error {
		return fmt.Errorf("%s helper holds %d of %d ports after %s (last error: %s)", portHelperName, s.Held, s.Target, portReadyTimeout, orNone(s.LastError))
	})
}

// waitStatus waits through fault.Host.WaitReady until the status file of
// helper p (of fault id) satisfies ok, for up to wait. A helper still
// running at the timeout with a status fails with timedOut's error, which
// says how far it got. The last status read is returned either way.
func waitStatus[S any](ctx context.Context, h *fault.Host, p *fault.Proc, name, id string, wait time.Duration, ok func(*S) bool, timedOut func(*S) error) (*S, error) {
	if p == nil {
		return nil, fmt.Errorf("%s helper exited: %s", name, fault.LogTail(h.DataPath(id)))
	}
	var last *S
	err := h.WaitReady(ctx, *p, name, h.DataPath(id), wait, func() (bool, error) {
		var s S
		if fault.ReadStatusFile(h.HelperStatusPath(id), &s) != nil {
			return false, nil
		}
		last = &s
		return ok(&s), nil
	})
	if err != nil && last != nil && ctx.Err() == nil && h.Alive(*p) {
		return last, timedOut(last)
	}
	return last, err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Verify implements fault.Kind: it waits (bounded) for the helper to hold
// every port it was asked to, and fails when fewer are free beyond the
// reserve. The evidence gives the count held and what is left.
func (Port) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyHostWide(ctx, h, r)
	}
	d, err := decodePort(r)
	if err != nil {
		return nil, err
	}
	s, err := waitPortStatus(ctx, h, d, func(s *PortStatus) bool { return s.Held >= s.Target || s.Capped })
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", PortID, err)
	}
	if s.Held < s.Target {
		ev := fault.Evidence("ports held", false, "helper %s holds %d of %d ports to %s: only %d were free beyond the reserve of %d", d.Helper, s.Held, s.Target, d.Destination, s.Budget, d.Reserve)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: only %d of %d ports could be taken without touching the reserve of %d", PortID, s.Held, s.Target, d.Reserve)
	}
	return []bulwark.Evidence{
		fault.Evidence("ports held", true, "helper %s holds %d connections to %s from the range %d-%d, until %s", d.Helper, s.Held, d.Destination, d.Low, d.High, d.Deadline.Format(time.RFC3339)),
		fault.Evidence("ports left", true, "%d ports of the range were in use for it before; %d left free (reserve %d)", s.InUseBefore, (d.High-d.Low+1)-s.InUseBefore-s.Held, d.Reserve),
	}, nil
}

// Status implements fault.Statuser: the helper runs, its status is fresh, and
// it still holds every port (a destination that resets connections frees
// them).
func (Port) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return statusHostWide(h, r)
	}
	d, err := decodePort(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !h.Alive(*d.Helper) {
		return []bulwark.Evidence{fault.Evidence("helper", false, "the port-exhaust helper of fault %s has exited", d.Fault)}, fmt.Errorf("status %s: helper is gone, the ports with it", PortID)
	}
	s, err := ReadPortStatus(h.HelperStatusPath(d.Fault))
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", PortID, err)
	}
	if age := time.Since(s.Time); age > portStatusStale {
		return []bulwark.Evidence{fault.Evidence("ports held", false, "helper status is %s old", age.Round(time.Millisecond))}, fmt.Errorf("status %s: helper status is %s old", PortID, age.Round(time.Millisecond))
	}
	ev := fault.Evidence("ports held", s.Held >= s.Target, "helper holds %d of %d connections to %s (at %s)", s.Held, s.Target, d.Destination, s.Time.Format(time.RFC3339))
	if s.Held < s.Target {
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper holds %d of %d ports: the destination dropped connections", PortID, s.Held, s.Target)
	}
	return []bulwark.Evidence{ev}, nil
}

// Recover implements fault.Kind: it stops the journaled helper and any stray
// of the fault (pid and start time checked), which closes every connection
// with a reset (no TIME_WAIT left holding ports), then removes its files.
func (Port) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return recoverHostWide(ctx, h, r)
	}
	d, err := decodePort(r)
	if err != nil {
		return err
	}
	if err := h.EndHelpers(ctx, d.ref(), termWait, killWait); err != nil {
		return fmt.Errorf("recover %s: %w", PortID, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind: no helper of the fault runs.
func (Port) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyRecoveredHostWide(h, r)
	}
	d, err := decodePort(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(d.ref(), "")
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", PortID, err)
	}
	return ev, nil
}

// stopHelper ends a helper: SIGTERM, then SIGKILL, through h.Signal (pid and start
// time checked).
func stopHelper(ctx context.Context, h *fault.Host, p fault.Proc) error {
	return h.StopHelper(ctx, p, termWait, killWait)
}

var (
	_ fault.Kind         = Port{}
	_ fault.Availability = Port{}
	_ fault.Statuser     = Port{}
	_ fault.Validator    = (*PortParams)(nil)
)
