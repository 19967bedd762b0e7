package process

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// fakeUnits is a unitManager holding one unit's state in memory: stop and
// start jobs change it as systemd would.
type fakeUnits struct {
	st            unitState
	starts, stops int
	startResult   string
	stopResult    string
}

func (f *fakeUnits) State(ctx context.Context, unit string) (unitState, error) { return f.st, nil }
func (f *fakeUnits) Close()                                                    {}

func (f *fakeUnits) Stop(ctx context.Context, unit string) (string, error) {
	f.stops++
	if f.stopResult != "" {
		return f.stopResult, nil
	}
	f.st.ActiveState, f.st.SubState = "inactive", "dead"
	return "done", nil
}

func (f *fakeUnits) Start(ctx context.Context, unit string) (string, error) {
	f.starts++
	if f.startResult != "" {
		return f.startResult, nil
	}
	f.st.ActiveState, f.st.SubState = "active", "running"
	return "done", nil
}

func activeUnit() *fakeUnits {
	return &fakeUnits{st: unitState{LoadState: "loaded", ActiveState: "active", SubState: "running", CanStart: true, CanStop: true, ControlGroup: "/system.slice/app.service"}}
}

func TestServiceLifecycleWithFake(t *testing.T) {
	ctx := context.Background()
	h := fault.DefaultHost(t.TempDir())
	m := activeUnit()
	r, err := prepareService(ctx, h, m, &ServiceParams{Unit: "app.service", Timeout: 5e9})
	if err != nil {
		t.Fatal(err)
	}
	if m.stops != 0 || r.Resource != "unit:app.service" {
		t.Fatalf("prepare stopped the unit or named %q", r.Resource)
	}
	rec, err := decodeService(r)
	if err != nil || !rec.WasActive || rec.SubState != "running" {
		t.Fatalf("receipt %+v %v", rec, err)
	}
	if err := applyService(ctx, m, rec); err != nil {
		t.Fatal(err)
	}
	if ev, err := stoppedEvidence(ctx, m, rec); err != nil || !strings.Contains(ev[0].Detail, "inactive") {
		t.Fatalf("verify %+v %v", ev, err)
	}
	for range 2 { // idempotent
		if err := recoverService(ctx, m, rec); err != nil {
			t.Fatal(err)
		}
	}
	if m.starts != 1 {
		t.Fatalf("%d start jobs, want 1", m.starts)
	}
	if ev, err := recoveredEvidence(ctx, m, rec); err != nil || !ev[0].OK {
		t.Fatalf("verify recovered %+v %v", ev, err)
	}
	// Drift: someone started the unit while the fault held it.
	if _, err := stoppedEvidence(ctx, m, rec); err == nil || !strings.Contains(err.Error(), "something started it") {
		t.Fatalf("status of a started unit: %v, want drift", err)
	}
	// A receipt of a unit that was not active never starts it.
	m.st.ActiveState = "inactive"
	rec.WasActive = false
	if err := recoverService(ctx, m, rec); err != nil || m.starts != 1 {
		t.Fatalf("recover of a not-active unit: %v, %d starts", err, m.starts)
	}
}

func TestServicePrepareRefusesWithFake(t *testing.T) {
	ctx := context.Background()
	h := fault.DefaultHost(t.TempDir())
	cases := []struct {
		name string
		edit func(*unitState)
		msg  string
	}{
		{"not found", func(s *unitState) { s.LoadState = "not-found" }, "no unit"},
		{"inactive", func(s *unitState) { s.ActiveState, s.SubState = "inactive", "dead" }, "nothing to stop"},
		{"failed", func(s *unitState) { s.ActiveState = "failed" }, "nothing to stop"},
		{"refuses stop", func(s *unitState) { s.RefuseManualStop = true }, "refuses to stop"},
		{"refuses start", func(s *unitState) { s.RefuseManualStart = true }, "could not start it again"},
		{"holds bulwark", func(s *unitState) { s.ControlGroup = ownCgroup(t) }, "would stop bulwark"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := activeUnit()
			tc.edit(&m.st)
			_, err := prepareService(ctx, h, m, &ServiceParams{Unit: "app.service", Timeout: 5e9})
			var pe *fault.ParamError
			if !errors.As(err, &pe) || pe.Param != "unit" || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want --unit: …%s…", err, tc.msg)
			}
		})
	}
}

func TestServiceJobFailures(t *testing.T) {
	ctx := context.Background()
	rec := serviceReceiptV1{Unit: "app.service", WasActive: true, Timeout: time.Second}
	m := activeUnit()
	m.stopResult = "failed"
	if err := applyService(ctx, m, rec); err == nil || !strings.Contains(err.Error(), `job ended "failed"`) {
		t.Fatalf("apply with a failed job: %v", err)
	}
	m = activeUnit()
	m.st.ActiveState = "inactive"
	m.startResult = "dependency"
	if err := recoverService(ctx, m, rec); err == nil || !strings.Contains(err.Error(), "dependency") {
		t.Fatalf("recover with a failed job: %v", err)
	}
	if _, err := recoveredEvidence(ctx, m, rec); err == nil {
		t.Fatal("verify recovered of an inactive unit passed")
	}
}

// ownCgroup returns the path of this process's cgroup in one hierarchy, or
// skips.
func ownCgroup(t *testing.T) string {
	b, err := readFile("/proc/self/cgroup")
	if err != nil {
		t.Skip("no /proc/self/cgroup")
	}
	for _, l := range strings.Split(strings.TrimSpace(b), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[2] != "/" {
			return parts[2]
		}
	}
	t.Skip("this process is in the root cgroup")
	return ""
}

func readFile(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
