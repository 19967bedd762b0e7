package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// fullRun returns a run with every field set, its times in a non-UTC zone
// with nanoseconds, and the same run as a store must return it.
func fullRun() (in, want *bulwark.Run) {
	m := func(off time.Duration) bulwark.Measures {
		return bulwark.Measures{
			TActive: ptr(at(off + time.Second)), TEffect: ptr(at(off + 3*time.Second)),
			TAlert: ptr(at(off + 5*time.Second)), TAck: nil, // not acknowledged: stays nil
			TEnd: ptr(at(off + 20*time.Second)), TRestored: ptr(at(off + 21*time.Second + 7)),
			TimeToEffect: dur(2 * time.Second), MTTD: dur(4 * time.Second), MTTA: nil,
			MTTR: dur(18*time.Second + 7), RecoveryAfterEnd: dur(time.Second + 7), RTO: dur(0), RPO: nil,
			MTTDSource: bulwark.MTTDFromAlert,
		}
	}
	in = &bulwark.Run{
		ID: bulwark.NewID(), DrillName: "order-api-survives-slow-quotes", System: "order-gateway",
		Environment: "simulation", Type: "special", Risk: "capacity/network-quality", Owner: "sre-trading",
		Ticket: "CHG-1234", DrillSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Seed: -42, Runner: bulwark.Runner{Host: "drill-01", PID: 4242, PIDStart: 1 << 40},
		State: bulwark.RunRunning, CreatedAt: at(0), StartedAt: ptr(at(time.Millisecond)),
		Measures:     m(0),
		StepMeasures: []bulwark.StepMeasures{{Step: 1, Name: "slow quotes", Measures: m(0)}, {Step: 3, Measures: m(time.Minute)}},
		Hosts:        []string{"app-01", "app-02"},
		ReportPaths:  map[bulwark.ReportFormat]string{bulwark.ReportHTML: "/var/lib/bulwark/r.html"},
	}
	w := *in
	w.CreatedAt, w.StartedAt = in.CreatedAt.UTC(), utc(*in.StartedAt)
	w.Measures = utcMeasures(in.Measures)
	w.StepMeasures = []bulwark.StepMeasures{
		{Step: 1, Name: "slow quotes", Measures: utcMeasures(m(0))}, {Step: 3, Measures: utcMeasures(m(time.Minute))},
	}
	return in, &w
}

// utcMeasures returns m with its times in UTC.
func utcMeasures(m bulwark.Measures) bulwark.Measures {
	for _, p := range []**time.Time{&m.TActive, &m.TEffect, &m.TAlert, &m.TAck, &m.TEnd, &m.TRestored} {
		if *p != nil {
			*p = utc(**p)
		}
	}
	return m
}

func testRuns(t *testing.T, newStore NewStore) {
	ctx := context.Background()

	t.Run("CreateFind", func(t *testing.T) {
		s := newStore(t)
		in, want := fullRun()
		mustCreateRun(t, s, in)
		if in.UpdatedAt.IsZero() || in.UpdatedAt.Location() != time.UTC {
			t.Fatalf("UpdatedAt = %v, want set, in UTC", in.UpdatedAt)
		}
		want.UpdatedAt = in.UpdatedAt
		got, err := s.FindRunByID(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("FindRunByID mismatch (-want +got):\n%s", d)
		}
	})

	t.Run("DefaultsCreatedAt", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("d"))
		got, err := s.FindRunByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedAt.IsZero() || !got.CreatedAt.Equal(r.CreatedAt) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, r.CreatedAt)
		}
		if got.StartedAt != nil || got.EndedAt != nil || got.Measures.MTTD != nil || got.Verdict != "" {
			t.Errorf("unset fields came back set: %+v", got)
		}
	})

	for _, tc := range []struct {
		name string
		run  func() *bulwark.Run
		code string
	}{
		{"NoID", func() *bulwark.Run { r := newRun("x"); r.ID = ""; return r }, bulwark.EINVALID},
		{"NoDrillName", func() *bulwark.Run { return newRun("") }, bulwark.EINVALID},
		{"BadState", func() *bulwark.Run { r := newRun("x"); r.State = "done"; return r }, bulwark.EINVALID},
		{"BadVerdict", func() *bulwark.Run { r := newRun("x"); r.Verdict = "ok"; return r }, bulwark.EINVALID},
	} {
		t.Run("CreateInvalid/"+tc.name, func(t *testing.T) {
			wantCode(t, newStore(t).CreateRun(ctx, tc.run()), tc.code)
		})
	}

	t.Run("CreateDuplicate", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("a"))
		dup := newRun("b")
		dup.ID = r.ID
		wantCode(t, s.CreateRun(ctx, dup), bulwark.ECONFLICT)
	})

	t.Run("FindNotFound", func(t *testing.T) {
		_, err := newStore(t).FindRunByID(ctx, bulwark.NewID())
		wantCode(t, err, bulwark.ENOTFOUND)
	})

	t.Run("Update", func(t *testing.T) { testUpdate(t, newStore(t)) })

	t.Run("UpdateNotFound", func(t *testing.T) {
		_, err := newStore(t).UpdateRun(ctx, bulwark.NewID(), bulwark.RunUpdate{State: ptr(bulwark.RunRunning)})
		wantCode(t, err, bulwark.ENOTFOUND)
	})

	t.Run("UpdateInvalid", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("a"))
		_, err := s.UpdateRun(ctx, r.ID, bulwark.RunUpdate{State: ptr(bulwark.RunState("paused"))})
		wantCode(t, err, bulwark.EINVALID)
	})

	t.Run("FinishedIsFinal", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("a"))
		if _, err := s.UpdateRun(ctx, r.ID, bulwark.RunUpdate{
			State: ptr(bulwark.RunFinished), Verdict: ptr(bulwark.VerdictPassed),
		}); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateRun(ctx, r.ID, bulwark.RunUpdate{State: ptr(bulwark.RunRunning)})
		wantCode(t, err, bulwark.ECONFLICT)
		_, err = s.UpdateRun(ctx, r.ID, bulwark.RunUpdate{Verdict: ptr(bulwark.VerdictFailed)})
		wantCode(t, err, bulwark.ECONFLICT)
		// Reports are written after the verdict, so paths may still be added.
		got, err := s.UpdateRun(ctx, r.ID, bulwark.RunUpdate{
			ReportPaths: map[bulwark.ReportFormat]string{bulwark.ReportJUnit: "junit.xml"},
		})
		if err != nil || got.ReportPaths[bulwark.ReportJUnit] != "junit.xml" {
			t.Fatalf("add report path to finished run = %v, %v", got, err)
		}
	})

	t.Run("Unfinished", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for i, st := range []bulwark.RunState{bulwark.RunPending, bulwark.RunFinished, bulwark.RunRunning,
			bulwark.RunRecovering, bulwark.RunFinished} {
			r := newRun("u")
			r.State, r.CreatedAt = st, at(time.Duration(i)*time.Second)
			if st == bulwark.RunFinished {
				r.Verdict = bulwark.VerdictPassed
			} else {
				want = append(want, r.ID)
			}
			mustCreateRun(t, s, r)
		}
		got, err := s.UnfinishedRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(want, ids(got)); d != "" {
			t.Errorf("UnfinishedRuns ids, oldest first (-want +got):\n%s", d)
		}
	})
}

// testUpdate checks that a patch changes what it names and nothing else.
func testUpdate(t *testing.T, s bulwark.RunStore) {
	ctx := context.Background()
	in, want := fullRun()
	mustCreateRun(t, s, in)

	end := at(time.Minute + 1)
	upd := bulwark.RunUpdate{
		State: ptr(bulwark.RunFinished), Verdict: ptr(bulwark.VerdictAborted), Reason: ptr("abort fired"),
		EndedAt:      &end,
		Measures:     &bulwark.Measures{MTTD: dur(time.Second), MTTDSource: bulwark.MTTDFromProbe},
		StepMeasures: []bulwark.StepMeasures{{Step: 2, Name: "only", Measures: bulwark.Measures{TEnd: &end}}},
		ReportPaths:  map[bulwark.ReportFormat]string{bulwark.ReportJSON: "r.json"},
	}
	got, err := s.UpdateRun(ctx, in.ID, upd)
	if err != nil {
		t.Fatal(err)
	}
	want.State, want.Verdict, want.Reason, want.EndedAt = bulwark.RunFinished, bulwark.VerdictAborted, "abort fired", utc(end)
	want.Measures = bulwark.Measures{MTTD: dur(time.Second), MTTDSource: bulwark.MTTDFromProbe}
	want.StepMeasures = []bulwark.StepMeasures{{Step: 2, Name: "only", Measures: bulwark.Measures{TEnd: utc(end)}}}
	want.ReportPaths = map[bulwark.ReportFormat]string{bulwark.ReportHTML: "/var/lib/bulwark/r.html", bulwark.ReportJSON: "r.json"}
	if got.UpdatedAt.Before(in.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v < %v", got.UpdatedAt, in.UpdatedAt)
	}
	want.UpdatedAt = got.UpdatedAt
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateRun result (-want +got):\n%s", d)
	}
	found, err := s.FindRunByID(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(want, found); d != "" {
		t.Errorf("FindRunByID after update (-want +got):\n%s", d)
	}
}

// ids returns the ids of runs in order.
func ids(runs []*bulwark.Run) []string {
	out := []string{}
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}
