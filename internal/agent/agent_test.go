package agent_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
)

func TestReconcileInjectsAndRecovers(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, t.TempDir(), "", nil)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation"), Labels: map[string]string{"rack": "u1"}})
	waitFor(t, "agent connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == "connected" })

	got, err := srv.gw.Agent(a.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels["rack"] != "u1" || got.Labels["env"] != "simulation" || got.Environment.ProductionClass {
		t.Fatalf("agent view: %+v", got)
	}
	dir := t.TempDir()
	f1, f2 := markerFault(dir, time.Minute), markerFault(dir, time.Minute)
	if _, err := srv.gw.AddFaults(ctx, a.ID(), f1, f2); err != nil {
		t.Fatal(err)
	}
	active, err := srv.gw.WaitActive(ctx, f1.ID, f2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 2 || len(active[0].Evidence) == 0 {
		t.Fatalf("active: %+v", active)
	}
	if got := markers(t, dir); !slices.Equal(got, sortedIDs(f1.ID, f2.ID)) {
		t.Fatalf("markers = %v", got)
	}
	// Remove one: the agent recovers exactly that one.
	if _, err := srv.gw.RemoveFaults(ctx, a.ID(), f1.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "f1 recovered", func() bool { return slices.Equal(markers(t, dir), []string{f2.ID}) })
	waitFor(t, "f1 reported recovered", func() bool { return reported(srv, a.ID(), f1.ID) == bulwark.StateRecovered })
	// A bad desired fault is reported failed with the reason, not retried.
	bad := markerFault("/nonexistent-dir", time.Minute)
	if _, err := srv.gw.AddFaults(ctx, a.ID(), bad); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.gw.WaitActive(ctx, bad.ID); bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("wait for a refused fault: %v", err)
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func reported(s *server, agentID, faultID string) bulwark.State {
	a, err := s.gw.Agent(agentID)
	if err != nil {
		return ""
	}
	for _, f := range a.Faults {
		if f.ID == faultID {
			return f.State
		}
	}
	return ""
}
