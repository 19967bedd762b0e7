package bulwark_test

import (
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

func TestFormatTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   time.Time
		want string
	}{
		{"Zone", time.Date(2025, 3, 14, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600)), "2025-03-14T01:30:00.123456789Z"},
		{"WholeSecond", time.Date(2025, 3, 14, 1, 30, 0, 0, time.UTC), "2025-03-14T01:30:00.000000000Z"},
		{"OneNano", time.Date(2025, 3, 14, 1, 30, 0, 1, time.UTC), "2025-03-14T01:30:00.000000001Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bulwark.FormatTime(tc.in)
			if got != tc.want {
				t.Fatalf("FormatTime = %q, want %q", got, tc.want)
			}
			back, err := bulwark.ParseTime(got)
			if err != nil || !back.Equal(tc.in) || back.Location() != time.UTC {
				t.Fatalf("ParseTime(%q) = %v, %v; want %v in UTC", got, back, err, tc.in)
			}
		})
	}
	if _, err := bulwark.ParseTime("2025-03-14T01:30:00Z"); err == nil {
		t.Error("ParseTime accepted a time without nanoseconds")
	}
}

func TestSamplePhase(t *testing.T) {
	for _, tc := range []struct {
		phase bulwark.SamplePhase
		valid bool
		step  int
	}{
		{bulwark.PhaseBefore, true, 0},
		{bulwark.PhaseAfter, true, 0},
		{bulwark.StepPhase(3), true, 3},
		{"step:0", false, 0},
		{"step:x", false, 0},
		{"during", false, 0},
		{"", false, 0},
	} {
		t.Run(string(tc.phase), func(t *testing.T) {
			if got := tc.phase.Valid(); got != tc.valid {
				t.Errorf("Valid = %v, want %v", got, tc.valid)
			}
			if n, _ := tc.phase.Step(); n != tc.step {
				t.Errorf("Step = %d, want %d", n, tc.step)
			}
		})
	}
}

func TestEventTypeValid(t *testing.T) {
	for _, typ := range []bulwark.EventType{bulwark.EventRunCreated, bulwark.EventFaultStuck,
		bulwark.EventSettleRestored, bulwark.EventManualTimedOut, bulwark.EventActionFailed} {
		if !typ.Valid() {
			t.Errorf("%s not valid", typ)
		}
	}
	for _, typ := range []bulwark.EventType{"", "fault", "action.*", "run.deleted"} {
		if typ.Valid() {
			t.Errorf("%q valid", typ)
		}
	}
}

func TestVerdictExitCode(t *testing.T) {
	for v, want := range map[bulwark.Verdict]int{
		bulwark.VerdictPassed: 0, bulwark.VerdictFailed: 1, bulwark.VerdictAborted: 1, bulwark.VerdictError: 3, "": 3,
	} {
		if got := v.ExitCode(); got != want {
			t.Errorf("%q.ExitCode() = %d, want %d", v, got, want)
		}
	}
}

func TestRunUpdateApplyCopies(t *testing.T) {
	hosts := []string{"a"}
	r := &bulwark.Run{}
	bulwark.RunUpdate{Hosts: hosts, ReportPaths: map[bulwark.ReportFormat]string{bulwark.ReportJSON: "r.json"}}.Apply(r)
	hosts[0] = "changed"
	if r.Hosts[0] != "a" || r.ReportPaths[bulwark.ReportJSON] != "r.json" {
		t.Errorf("Apply = %+v", r)
	}
	bulwark.RunUpdate{Hosts: []string{}}.Apply(r)
	if r.Hosts == nil || len(r.Hosts) != 0 {
		t.Errorf("empty Hosts did not replace the list: %v", r.Hosts)
	}
}
