package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// makeSamples returns n samples per probe ("api", "db"), one every 100 ms
// from base plus 1 ns per sample, alternating ok and failed.
func makeSamples(runID string, n int) []bulwark.Sample {
	var out []bulwark.Sample
	for i := range n {
		for _, probe := range []string{"api", "db"} {
			s := bulwark.Sample{
				RunID: runID, Probe: probe, Time: at(time.Duration(i)*100*time.Millisecond + time.Duration(i)),
				Phase: bulwark.StepPhase(1), OK: i%2 == 0, LatencyNS: int64(1000 + i),
			}
			if probe == "db" {
				s.Value = ptr(float64(i) + 0.5)
			}
			if !s.OK {
				s.Err = "status 500"
			}
			out = append(out, s)
		}
	}
	return out
}

// wantSamples returns in as a store must return them: UTC, as pointers.
func wantSamples(in []bulwark.Sample, keep func(bulwark.Sample) bool) []*bulwark.Sample {
	out := []*bulwark.Sample{}
	for _, s := range in {
		if keep(s) {
			s.Time = s.Time.UTC()
			out = append(out, &s)
		}
	}
	return out
}

func testSamples(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	r := mustCreateRun(t, s, newRun("s"))
	other := mustCreateRun(t, s, newRun("other"))
	in := makeSamples(r.ID, 10)
	if err := s.AppendSamples(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendSamples(ctx, makeSamples(other.ID, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendSamples(ctx, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}

	from, to := in[4].Time, in[12].Time // samples 2..5 of each probe
	for _, tc := range []struct {
		name     string
		probe    string
		from, to time.Time
		keep     func(bulwark.Sample) bool
	}{
		{"All", "", time.Time{}, time.Time{}, func(bulwark.Sample) bool { return true }},
		{"Probe", "db", time.Time{}, time.Time{}, func(s bulwark.Sample) bool { return s.Probe == "db" }},
		{"Range", "", from, to, func(s bulwark.Sample) bool { return !s.Time.Before(from) && s.Time.Before(to) }},
		{"ProbeRange", "api", from, to, func(s bulwark.Sample) bool {
			return s.Probe == "api" && !s.Time.Before(from) && s.Time.Before(to)
		}},
		{"FromOnly", "", to, time.Time{}, func(s bulwark.Sample) bool { return !s.Time.Before(to) }},
		{"ToOnly", "", time.Time{}, from, func(s bulwark.Sample) bool { return s.Time.Before(from) }},
		// One nanosecond either side of a sample decides whether it is in.
		{"NanoEdgeIn", "api", from, from.Add(time.Nanosecond), func(s bulwark.Sample) bool {
			return s.Probe == "api" && s.Time.Equal(from)
		}},
		{"NanoEdgeOut", "api", from.Add(time.Nanosecond), to, func(s bulwark.Sample) bool {
			return s.Probe == "api" && s.Time.After(from) && s.Time.Before(to)
		}},
		{"UnknownProbe", "nope", time.Time{}, time.Time{}, func(bulwark.Sample) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Samples(ctx, r.ID, tc.probe, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []*bulwark.Sample{}
			}
			if d := diff(wantSamples(in, tc.keep), got); d != "" {
				t.Errorf("Samples (-want +got):\n%s", d)
			}
		})
	}

	t.Run("UnknownRun", func(t *testing.T) {
		_, err := s.Samples(ctx, bulwark.NewID(), "", time.Time{}, time.Time{})
		wantCode(t, err, bulwark.ENOTFOUND)
	})

	t.Run("BatchIsAtomic", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("atomic"))
		batch := makeSamples(r.ID, 3)
		batch[len(batch)-1].RunID = bulwark.NewID() // the last one names no run
		wantCode(t, s.AppendSamples(ctx, batch), bulwark.ENOTFOUND)
		bad := makeSamples(r.ID, 3)
		bad[2].Phase = "during"
		wantCode(t, s.AppendSamples(ctx, bad), bulwark.EINVALID)
		got, err := s.Samples(ctx, r.ID, "", time.Time{}, time.Time{})
		if err != nil || len(got) != 0 {
			t.Errorf("after failed batches: %d samples, %v; want none stored", len(got), err)
		}
	})
}
