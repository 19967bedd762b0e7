package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/bulwarkhq/bulwark"
)

// Cleanup finishes the runs whose process was killed: it recovers every
// fault their timeline shows active and not recovered, then finishes each
// with the verdict error. Runs whose process is still alive are left alone.
// Any bulwark command that runs drills calls it first.
func Cleanup(ctx context.Context, store bulwark.RunStore, ex Executor, hostname string) ([]*bulwark.Run, error) {
	runs, err := store.UnfinishedRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("find unfinished runs: %w", err)
	}
	var done []*bulwark.Run
	for _, run := range runs {
		if run.Runner.Host != hostname || runnerAlive(run.Runner) {
			continue
		}
		finished, err := cleanupRun(ctx, store, ex, run)
		if err != nil {
			return done, err
		}
		done = append(done, finished)
	}
	return done, nil
}

func cleanupRun(ctx context.Context, store bulwark.RunStore, ex Executor, run *bulwark.Run) (*bulwark.Run, error) {
	evs, err := store.Events(ctx, run.ID, 0)
	if err != nil {
		return nil, err
	}
	reason := "the process running this drill was killed; its faults were recovered by the next bulwark command"
	for id, host := range unrecovered(evs) {
		f, err := ex.Recover(ctx, Host{Name: host}, id)
		if err != nil || f == nil || f.State != bulwark.StateRecovered {
			reason = fmt.Sprintf("the process running this drill was killed and fault %s could not be verified recovered: %v", id, err)
			continue
		}
		data, _ := json.Marshal(map[string]any{"id": id, "host": host, "endReason": f.EndReason, "cleanup": true})
		store.AppendEvent(ctx, &bulwark.RunEvent{RunID: run.ID, Type: bulwark.EventFaultRecovered, Data: data})
	}
	state, verdict, now := bulwark.RunFinished, bulwark.VerdictError, run.UpdatedAt.UTC()
	finished, err := store.UpdateRun(ctx, run.ID, bulwark.RunUpdate{State: &state, Verdict: &verdict, Reason: &reason, EndedAt: &now})
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"verdict": verdict, "reason": reason})
	store.AppendEvent(ctx, &bulwark.RunEvent{RunID: run.ID, Type: bulwark.EventRunFinished, Data: data})
	return finished, nil
}

// unrecovered returns the faults a timeline shows active and never
// recovered, by id, with their host.
func unrecovered(evs []*bulwark.RunEvent) map[string]string {
	live := map[string]string{}
	for _, e := range evs {
		var d struct{ ID, Host string }
		if json.Unmarshal(e.Data, &d) != nil || d.ID == "" {
			continue
		}
		switch e.Type {
		case bulwark.EventFaultActive:
			live[d.ID] = d.Host
		case bulwark.EventFaultRecovered:
			delete(live, d.ID)
		}
	}
	return live
}

// runnerAlive reports whether the run's process still runs: the pid exists
// and, where recorded, has the same start time.
func runnerAlive(r bulwark.Runner) bool {
	if r.PID <= 0 {
		return false
	}
	if r.PID == os.Getpid() {
		return true
	}
	return processAlive(r.PID) && (r.PIDStart == 0 || startOf(r.PID) == r.PIDStart)
}
