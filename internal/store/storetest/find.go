package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// seedRuns creates six runs one minute apart, in this order (oldest first):
//
//	0 a  order-gateway simulation finished passed
//	1 a  order-gateway simulation finished failed
//	2 b  order-gateway production  running
//	3 b  clearing      simulation  finished aborted
//	4 c  clearing      production  pending
//	5 c  clearing      simulation  recovering
//
// and returns their ids in the same order.
func seedRuns(t *testing.T, s bulwark.RunStore) []string {
	t.Helper()
	rows := []struct {
		drill, system, env string
		state              bulwark.RunState
		verdict            bulwark.Verdict
	}{
		{"a", "order-gateway", "simulation", bulwark.RunFinished, bulwark.VerdictPassed},
		{"a", "order-gateway", "simulation", bulwark.RunFinished, bulwark.VerdictFailed},
		{"b", "order-gateway", "production", bulwark.RunRunning, ""},
		{"b", "clearing", "simulation", bulwark.RunFinished, bulwark.VerdictAborted},
		{"c", "clearing", "production", bulwark.RunPending, ""},
		{"c", "clearing", "simulation", bulwark.RunRecovering, ""},
	}
	var out []string
	for i, row := range rows {
		r := newRun(row.drill)
		r.System, r.Environment, r.State, r.Verdict = row.system, row.env, row.state, row.verdict
		r.CreatedAt = at(time.Duration(i) * time.Minute)
		out = append(out, mustCreateRun(t, s, r).ID)
	}
	return out
}

func testFindRuns(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	id := seedRuns(t, s)
	pick := func(i ...int) []string { // ids by seed index, in the order given
		out := []string{}
		for _, n := range i {
			out = append(out, id[n])
		}
		return out
	}

	for _, tc := range []struct {
		name   string
		filter bulwark.RunFilter
		want   []string // newest first
		n      int
	}{
		{"All", bulwark.RunFilter{}, pick(5, 4, 3, 2, 1, 0), 6},
		{"ID", bulwark.RunFilter{ID: &id[2]}, pick(2), 1},
		{"UnknownID", bulwark.RunFilter{ID: ptr(bulwark.NewID())}, pick(), 0},
		{"DrillName", bulwark.RunFilter{DrillName: ptr("b")}, pick(3, 2), 2},
		{"System", bulwark.RunFilter{System: ptr("clearing")}, pick(5, 4, 3), 3},
		{"SystemEnv", bulwark.RunFilter{System: ptr("clearing"), Environment: ptr("simulation")}, pick(5, 3), 2},
		{"State", bulwark.RunFilter{State: ptr(bulwark.RunFinished)}, pick(3, 1, 0), 3},
		{"Verdict", bulwark.RunFilter{Verdict: ptr(bulwark.VerdictFailed)}, pick(1), 1},
		{"Unfinished", bulwark.RunFilter{Unfinished: true}, pick(5, 4, 2), 3},
		{"CreatedRange", bulwark.RunFilter{CreatedAfter: ptr(at(time.Minute)), CreatedBefore: ptr(at(3 * time.Minute))}, pick(2, 1), 2},
		{"CreatedAfterUTC", bulwark.RunFilter{CreatedAfter: ptr(at(4 * time.Minute).UTC())}, pick(5, 4), 2},
		{"Limit", bulwark.RunFilter{Limit: 2}, pick(5, 4), 6},
		{"Page2", bulwark.RunFilter{Limit: 2, Offset: 2}, pick(3, 2), 6},
		{"LastPage", bulwark.RunFilter{Limit: 4, Offset: 4}, pick(1, 0), 6},
		{"OffsetOnly", bulwark.RunFilter{Offset: 5}, pick(0), 6},
		{"PastEnd", bulwark.RunFilter{Limit: 2, Offset: 10}, pick(), 6},
		{"FilteredPage", bulwark.RunFilter{System: ptr("order-gateway"), Limit: 1, Offset: 1}, pick(1), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := s.FindRuns(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(tc.want, ids(got)); d != "" {
				t.Errorf("ids (-want +got):\n%s", d)
			}
			if n != tc.n {
				t.Errorf("n = %d, want %d", n, tc.n)
			}
		})
	}
}
