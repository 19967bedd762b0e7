package process

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Service{}) }

// Service is service.stop: stop a systemd service over D-Bus, and start it
// again on recovery if it was active before.
type Service struct{}

// unitState is what service.stop reads of a unit.
type unitState struct {
	LoadState, ActiveState, SubState string
	ControlGroup                     string
	CanStart, CanStop                bool
	RefuseManualStart                bool
	RefuseManualStop                 bool
}

// unitManager is the part of systemd's D-Bus API service.stop uses. Stop and
// Start run a job in mode "replace" and return its result ("done" on
// success).
type unitManager interface {
	State(ctx context.Context, unit string) (unitState, error)
	Stop(ctx context.Context, unit string) (string, error)
	Start(ctx context.Context, unit string) (string, error)
	Close()
}

// serviceReceiptV1 is service.stop's undo record, receipt version 1.
type serviceReceiptV1 struct {
	Unit        string        `json:"unit"`
	WasActive   bool          `json:"wasActive"`
	ActiveState string        `json:"activeState"`
	SubState    string        `json:"subState"`
	Timeout     time.Duration `json:"timeout"`
}

// Info implements fault.Kind. A stopped service stays stopped through a
// bulwark crash and a reboot may or may not start it (it depends on whether
// it is enabled), so the class is OutlivesFilesystem: always recovered
// explicitly.
func (Service) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "service.stop",
		Summary:        "Stop a systemd service and start it again on recovery",
		SummaryZH:      "停止 systemd 服务,恢复时重新启动",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(ServiceParams) },
	}
}

// Prepare refuses denied, unknown, inactive and unstartable units and units
// that hold bulwark itself, and records the unit's state. It changes nothing.
func (k Service) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*ServiceParams)
	if !ok {
		return nil, fmt.Errorf("prepare service.stop: params are %T", req.Params)
	}
	if err := checkUnitDenied(h, p.Unit); err != nil {
		return nil, err
	}
	m, err := connectUnits(ctx)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return prepareService(ctx, h, m, p)
}

func prepareService(ctx context.Context, h *fault.Host, m unitManager, p *ServiceParams) (*fault.Receipt, error) {
	st, err := m.State(ctx, p.Unit)
	if err != nil {
		return nil, fmt.Errorf("read unit %s: %w", p.Unit, err)
	}
	bad := func(format string, args ...any) error {
		return &fault.ParamError{Param: "unit", Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case st.LoadState != "loaded":
		return nil, bad("no unit %s is loaded (load state %s)", p.Unit, st.LoadState)
	case st.ActiveState != "active" && st.ActiveState != "reloading":
		return nil, bad("%s is %s (%s): there is nothing to stop", p.Unit, st.ActiveState, st.SubState)
	case !st.CanStop || st.RefuseManualStop:
		return nil, bad("systemd refuses to stop %s by hand", p.Unit)
	case !st.CanStart || st.RefuseManualStart:
		return nil, bad("systemd refuses to start %s by hand, so recovery could not start it again", p.Unit)
	}
	if holdsSelf(h, st.ControlGroup) {
		return nil, bad("bulwark runs inside %s (cgroup %s): stopping it would stop bulwark", p.Unit, st.ControlGroup)
	}
	rec := serviceReceiptV1{Unit: p.Unit, WasActive: true, ActiveState: st.ActiveState, SubState: st.SubState, Timeout: time.Duration(p.Timeout)}
	return fault.NewReceipt(Service{}.Info(), "unit:"+p.Unit, rec)
}

// holdsSelf reports whether bulwark's own cgroup lies inside cg.
func holdsSelf(h *fault.Host, cg string) bool {
	if cg == "" || cg == "/" {
		return false
	}
	f, err := os.Open(filepath.Join(h.ProcRoot, "self", "cgroup"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-id:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 && (parts[2] == cg || strings.HasPrefix(parts[2], cg+"/")) {
			return true
		}
	}
	return false
}

// Apply stops the unit and waits until it is inactive.
func (Service) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return withUnits(ctx, r, func(m unitManager, rec serviceReceiptV1) error { return applyService(ctx, m, rec) })
}

func applyService(ctx context.Context, m unitManager, rec serviceReceiptV1) error {
	ctx, cancel := context.WithTimeout(ctx, rec.Timeout)
	defer cancel()
	if err := jobErr(m.Stop(ctx, rec.Unit)); err != nil {
		return fmt.Errorf("stop unit %s: %w", rec.Unit, err)
	}
	_, err := waitUnit(ctx, m, rec.Unit, isInactive)
	return err
}

// Verify reads the unit's state back.
func (Service) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var ev []bulwark.Evidence
	err := withUnits(ctx, r, func(m unitManager, rec serviceReceiptV1) (err error) {
		ev, err = stoppedEvidence(ctx, m, rec)
		return err
	})
	return ev, err
}

// Status reports drift: a unit someone started again is no longer stopped.
func (Service) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return Service{}.Verify(ctx, h, r)
}

func stoppedEvidence(ctx context.Context, m unitManager, rec serviceReceiptV1) ([]bulwark.Evidence, error) {
	st, err := m.State(ctx, rec.Unit)
	if err != nil {
		return nil, fmt.Errorf("read unit %s: %w", rec.Unit, err)
	}
	if !isInactive(st.ActiveState) {
		return nil, fmt.Errorf("unit %s is %s (%s), not stopped: something started it", rec.Unit, st.ActiveState, st.SubState)
	}
	return []bulwark.Evidence{fault.Evidence("unit-stopped", true, "%s is %s (%s); it was %s (%s)", rec.Unit, st.ActiveState, st.SubState, rec.ActiveState, rec.SubState)}, nil
}

// Recover starts the unit again if it was active before the fault and is
// not running now, and waits until it is active. A unit already running
// (someone started it) needs nothing.
func (Service) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return withUnits(ctx, r, func(m unitManager, rec serviceReceiptV1) error { return recoverService(ctx, m, rec) })
}

func recoverService(ctx context.Context, m unitManager, rec serviceReceiptV1) error {
	if !rec.WasActive {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, rec.Timeout)
	defer cancel()
	st, err := m.State(ctx, rec.Unit)
	if err != nil {
		return fmt.Errorf("read unit %s: %w", rec.Unit, err)
	}
	if isRunning(st.ActiveState) {
		return nil
	}
	if err := jobErr(m.Start(ctx, rec.Unit)); err != nil {
		return fmt.Errorf("start unit %s: %w", rec.Unit, err)
	}
	_, err = waitUnit(ctx, m, rec.Unit, func(s string) bool { return s == "active" })
	return err
}

// VerifyRecovered checks that a unit that was active is active again.
func (Service) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var ev []bulwark.Evidence
	err := withUnits(ctx, r, func(m unitManager, rec serviceReceiptV1) (err error) {
		ev, err = recoveredEvidence(ctx, m, rec)
		return err
	})
	return ev, err
}

func recoveredEvidence(ctx context.Context, m unitManager, rec serviceReceiptV1) ([]bulwark.Evidence, error) {
	if !rec.WasActive {
		return []bulwark.Evidence{fault.Evidence("unit-started", true, "%s was not active before the fault: nothing to start", rec.Unit)}, nil
	}
	st, err := m.State(ctx, rec.Unit)
	if err != nil {
		return nil, fmt.Errorf("read unit %s: %w", rec.Unit, err)
	}
	if st.ActiveState != "active" {
		return nil, fmt.Errorf("unit %s is %s (%s), not active", rec.Unit, st.ActiveState, st.SubState)
	}
	return []bulwark.Evidence{fault.Evidence("unit-started", true, "%s is active (%s) again", rec.Unit, st.SubState)}, nil
}

// jobErr turns a systemd job's result into an error unless it is "done".
func jobErr(result string, err error) error {
	if err != nil || result == "done" {
		return err
	}
	return fmt.Errorf("job ended %q", result)
}

func isInactive(s string) bool { return s == "inactive" || s == "failed" }

func isRunning(s string) bool { return s == "active" || s == "activating" || s == "reloading" }

// waitUnit polls the unit until ok(ActiveState) or ctx ends.
func waitUnit(ctx context.Context, m unitManager, unit string, ok func(string) bool) (unitState, error) {
	pause := 5 * time.Millisecond
	for {
		st, err := m.State(ctx, unit)
		if err != nil {
			return st, fmt.Errorf("read unit %s: %w", unit, err)
		}
		if ok(st.ActiveState) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("wait for unit %s: still %s (%s): %w", unit, st.ActiveState, st.SubState, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(pause*2, 200*time.Millisecond)
	}
}

// withUnits decodes the receipt, connects to systemd and runs fn.
func withUnits(ctx context.Context, r *fault.Receipt, fn func(unitManager, serviceReceiptV1) error) error {
	rec, err := decodeService(r)
	if err != nil {
		return err
	}
	m, err := connectUnits(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(m, rec)
}

// decodeService decodes every receipt version this binary knows.
func decodeService(r *fault.Receipt) (serviceReceiptV1, error) {
	var rec serviceReceiptV1
	switch {
	case r.Version > 1:
		return rec, fmt.Errorf("decode service.stop receipt v%d: %w", r.Version, bulwark.ErrNewerReceipt)
	case r.Version < 1:
		return rec, fmt.Errorf("decode service.stop receipt: no version %d", r.Version)
	}
	err := r.Decode(&rec)
	return rec, err
}

var (
	_ fault.Kind         = Service{}
	_ fault.Availability = Service{}
	_ fault.Statuser     = Service{}
)
