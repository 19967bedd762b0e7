// Package storetest is the contract suite every bulwark.RunStore must pass,
// in the shape of litestream's RunWithReplicaClient: one body of tests, run
// by each implementation's own test with a constructor for a fresh store.
//
//	func TestRunStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) bulwark.RunStore {
//			return sqlite.NewRunStore(MustOpenDB(t))
//		})
//	}
//
// The suite uses only the bulwark.RunStore interface, so the SQLite store
// and the PostgreSQL store are held to exactly the same behaviour.
package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark"
)

// NewStore returns an empty store for one test; it registers its own
// cleanup with t.Cleanup.
type NewStore func(t *testing.T) bulwark.RunStore

// Run runs the whole contract suite against stores made by newStore. Each
// subtest gets a fresh store.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	t.Run("Run", func(t *testing.T) { testRuns(t, newStore) })
	t.Run("FindRuns", func(t *testing.T) { testFindRuns(t, newStore) })
	t.Run("Event", func(t *testing.T) { testEvents(t, newStore) })
	t.Run("Sample", func(t *testing.T) { testSamples(t, newStore) })
	t.Run("Report", func(t *testing.T) { testReports(t, newStore) })
}

// zone is a fixed non-UTC zone (Asia/Shanghai's offset), so the suite checks
// that times come back in UTC whatever zone they went in with, without
// needing the tz database.
var zone = time.FixedZone("CST", 8*60*60)

// base is an instant with every nanosecond digit set, in zone.
var base = time.Date(2025, 3, 14, 9, 30, 0, 123456789, zone)

// at returns base plus d.
func at(d time.Duration) time.Time { return base.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// dur returns a *bulwark.Duration of d.
func dur(d time.Duration) *bulwark.Duration { return ptr(bulwark.Duration(d)) }

// cmpTime makes cmp compare times by instant and require UTC, so a store
// that hands back a local time or drops nanoseconds fails.
var cmpTime = cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.Location() == time.UTC && b.Location() == time.UTC
})

// cmpJSON compares event data as JSON values, not bytes: a store may keep it
// in a JSON column that reorders keys and drops spaces.
var cmpJSON = cmp.Transformer("json", func(m json.RawMessage) any {
	var v any
	if err := json.Unmarshal(m, &v); err != nil && len(m) > 0 {
		return "invalid JSON: " + string(m)
	}
	return v
})

// diff returns a human-readable diff of want and got, or "".
func diff(want, got any) string { return cmp.Diff(want, got, cmpTime, cmpJSON) }

// mustCreateRun creates r in s and fails the test on error.
func mustCreateRun(tb testing.TB, s bulwark.RunStore, r *bulwark.Run) *bulwark.Run {
	tb.Helper()
	if err := s.CreateRun(context.Background(), r); err != nil {
		tb.Fatalf("CreateRun(%s): %v", r.ID, err)
	}
	return r
}

// newRun returns a minimal valid pending run.
func newRun(name string) *bulwark.Run {
	return &bulwark.Run{
		ID: bulwark.NewID(), DrillName: name, System: "order-gateway", Environment: "simulation",
		Type: "special", State: bulwark.RunPending,
	}
}

// wantCode fails the test unless err carries the bulwark error code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := bulwark.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
}

// utc returns a pointer to t in UTC, as a store returns it.
func utc(t time.Time) *time.Time { return ptr(t.UTC()) }
