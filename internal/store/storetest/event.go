package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

func testEvents(t *testing.T, newStore NewStore) {
	ctx := context.Background()

	t.Run("AppendRead", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("e"))
		in := []*bulwark.RunEvent{
			{RunID: r.ID, Type: bulwark.EventRunCreated, Time: at(0)},
			{RunID: r.ID, Type: bulwark.EventFaultActive, Time: at(time.Nanosecond),
				Data: json.RawMessage(`{"faultID":"f1","kind":"dep.slow","hosts":["app-01"]}`)},
			{RunID: r.ID, Type: bulwark.EventAlertReceived, Time: at(2 * time.Second).UTC(), SchemaVersion: 1},
		}
		var want []*bulwark.RunEvent
		for i, e := range in {
			seq, err := s.AppendEvent(ctx, e)
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			if seq != int64(i+1) || e.Seq != seq {
				t.Fatalf("append %d: seq %d, e.Seq %d, want %d", i, seq, e.Seq, i+1)
			}
			want = append(want, &bulwark.RunEvent{RunID: r.ID, Seq: seq, Time: e.Time.UTC(), Type: e.Type,
				SchemaVersion: bulwark.EventSchemaVersion, Data: e.Data})
		}
		got, err := s.Events(ctx, r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(want, got); d != "" {
			t.Errorf("Events (-want +got):\n%s", d)
		}
		got, err = s.Events(ctx, r.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(want[2:], got); d != "" {
			t.Errorf("Events after 2 (-want +got):\n%s", d)
		}
		if got, err = s.Events(ctx, r.ID, 3); err != nil || len(got) != 0 {
			t.Errorf("Events after last = %v, %v; want none", got, err)
		}
	})

	t.Run("DefaultTime", func(t *testing.T) {
		s := newStore(t)
		r := mustCreateRun(t, s, newRun("e"))
		e := &bulwark.RunEvent{RunID: r.ID, Type: bulwark.EventRunStarted}
		if _, err := s.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.Events(ctx, r.ID, 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("Events = %v, %v", got, err)
		}
		if got[0].Time.IsZero() || !got[0].Time.Equal(e.Time) || got[0].Time.Location() != time.UTC {
			t.Errorf("Time = %v, want %v set by the store, in UTC", got[0].Time, e.Time)
		}
	})

	for _, tc := range []struct {
		name string
		ev   func(runID string) *bulwark.RunEvent
		code string
	}{
		{"UnknownType", func(id string) *bulwark.RunEvent { return &bulwark.RunEvent{RunID: id, Type: "fault.exploded"} }, bulwark.EINVALID},
		{"NewerSchema", func(id string) *bulwark.RunEvent {
			return &bulwark.RunEvent{RunID: id, Type: bulwark.EventRunStarted, SchemaVersion: bulwark.EventSchemaVersion + 1}
		}, bulwark.EINVALID},
		{"BadData", func(id string) *bulwark.RunEvent {
			return &bulwark.RunEvent{RunID: id, Type: bulwark.EventRunStarted, Data: json.RawMessage(`{`)}
		}, bulwark.EINVALID},
		{"UnknownRun", func(string) *bulwark.RunEvent {
			return &bulwark.RunEvent{RunID: bulwark.NewID(), Type: bulwark.EventRunStarted}
		}, bulwark.ENOTFOUND},
	} {
		t.Run("Reject/"+tc.name, func(t *testing.T) {
			s := newStore(t)
			r := mustCreateRun(t, s, newRun("e"))
			_, err := s.AppendEvent(ctx, tc.ev(r.ID))
			wantCode(t, err, tc.code)
			// A rejected event uses no seq: the next one is still 1.
			seq, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: r.ID, Type: bulwark.EventRunStarted})
			if err != nil || seq != 1 {
				t.Errorf("next append = %d, %v; want seq 1", seq, err)
			}
		})
	}

	t.Run("EventsUnknownRun", func(t *testing.T) {
		_, err := newStore(t).Events(ctx, bulwark.NewID(), 0)
		wantCode(t, err, bulwark.ENOTFOUND)
	})

	t.Run("ConcurrentGapless", func(t *testing.T) { testConcurrentEvents(t, newStore(t)) })
}

// testConcurrentEvents appends from many goroutines to two runs at once and
// checks each run's seqs are exactly 1..n, each handed out once.
func testConcurrentEvents(t *testing.T, s bulwark.RunStore) {
	ctx := context.Background()
	const workers, per = 8, 25
	runs := []string{mustCreateRun(t, s, newRun("c1")).ID, mustCreateRun(t, s, newRun("c2")).ID}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]map[int64]int{runs[0]: {}, runs[1]: {}}
		errs []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				runID := runs[(w+i)%2]
				data, _ := json.Marshal(map[string]int{"worker": w, "i": i})
				seq, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: runID, Type: bulwark.EventProbeFailed, Data: data})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				seen[runID][seq]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d appends failed, first: %v", len(errs), errs[0])
	}

	for _, runID := range runs {
		n := int64(len(seen[runID]))
		if n != workers*per/2 {
			t.Errorf("run %s: %d distinct seqs, want %d", runID, n, workers*per/2)
		}
		for seq, c := range seen[runID] {
			if c != 1 || seq < 1 || seq > n {
				t.Errorf("run %s: seq %d handed out %d times (want once, in 1..%d)", runID, seq, c, n)
			}
		}
		got, err := s.Events(ctx, runID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range got {
			if e.Seq != int64(i+1) {
				t.Fatalf("run %s: event %d has seq %d: gap or disorder", runID, i, e.Seq)
			}
		}
		if int64(len(got)) != n {
			t.Errorf("run %s: %d events stored, want %d", runID, len(got), n)
		}
	}
}
