package agentgw_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentsim"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
)

// fleet enrols n simulated agents with labels(i) and runs their sessions
// until the test ends; it returns once all are connected.
func fleet(t *testing.T, g *gateway, n int, labels func(i int) map[string]string) []*agentsim.Agent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	token, _, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation"})
	var wg sync.WaitGroup
	out := make([]*agentsim.Agent, n)
	for i := range n {
		a, err := agentsim.Enrol(ctx, g.addr, g.ca.Pool(), token, fmt.Sprintf("sim-%03d", i), labels(i))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = a
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Run(ctx, 200*time.Millisecond) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "fleet connected", func() bool { return len(g.Agents(agentgw.AgentFilter{Status: agentgw.StatusConnected})) == n })
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSelect(t *testing.T) {
	g := startGateway(t, nil)
	fleet(t, g, 10, func(i int) map[string]string {
		return map[string]string{"rack": []string{"u1", "u2"}[i%2], "system": "forged"}
	})
	tests := []struct {
		name    string
		sel     bulwark.Selector
		want    int
		invalid bool
	}{
		{"all of a rack", bulwark.Selector{Labels: map[string]string{"rack": "u1"}}, 5, false},
		{"count", bulwark.Selector{Labels: map[string]string{"env": "simulation"}, Mode: "count:3"}, 3, false},
		{"count over the matches", bulwark.Selector{Labels: map[string]string{"rack": "u2"}, Mode: "count:6"}, 0, true},
		{"percent rounds up", bulwark.Selector{Labels: map[string]string{"env": "simulation"}, Mode: "percent:25"}, 3, false},
		{"percent at least one", bulwark.Selector{Labels: map[string]string{"rack": "u1"}, Mode: "percent:1"}, 1, false},
		{"reserved label from an agent is not honoured", bulwark.Selector{Labels: map[string]string{"system": "forged"}}, 0, true},
		{"empty selector", bulwark.Selector{}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := g.SelectSeeded(tc.sel, 42)
			if tc.invalid {
				if bulwark.ErrorCode(err) != bulwark.EINVALID {
					t.Fatalf("err = %v, want invalid", err)
				}
				return
			}
			if err != nil || len(got.Agents) != tc.want {
				t.Fatalf("got %d agents, err %v; want %d", len(got.Agents), err, tc.want)
			}
			again, _ := g.SelectSeeded(tc.sel, 42)
			if !slices.EqualFunc(got.Agents, again.Agents, func(a, b agentgw.Agent) bool { return a.ID == b.ID }) {
				t.Fatal("the same seed chose different agents")
			}
		})
	}
}

func TestHaltReportsWhoDidNotAnswer(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t, nil)
	agents := fleet(t, g, 3, func(int) map[string]string { return nil })
	var ids []string
	for _, a := range agents {
		f := agentstore.DesiredFault{ID: bulwark.NewID(), Kind: "cpu.load", Duration: bulwark.Duration(time.Minute)}
		if _, err := g.AddFaults(ctx, a.ID, f); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	if _, err := g.WaitActive(ctx, ids...); err != nil {
		t.Fatal(err)
	}
	agents[1].Mute.Store(true)
	res := g.Halt(ctx, nil)
	if len(res.Recovered) != 2 || len(res.NotAnswered) != 1 || res.NotAnswered[0].AgentID != agents[1].ID {
		t.Fatalf("halt: %+v", res)
	}
	if res.NotAnswered[0].Reason == "" || len(res.NotAnswered[0].Faults) != 1 {
		t.Fatalf("not answered without a reason or its faults: %+v", res.NotAnswered[0])
	}
	for _, r := range res.Recovered {
		if len(r.Faults) != 1 || r.Faults[0].State != bulwark.StateRecovered {
			t.Fatalf("recovered: %+v", r)
		}
	}
	// A scoped halt touches only its scope.
	res = g.Halt(ctx, func(a agentgw.Agent) bool { return a.ID == agents[0].ID })
	if len(res.Recovered)+len(res.NotAnswered) != 1 {
		t.Fatalf("scoped halt: %+v", res)
	}
}

func TestRevokedAgentIsShutOut(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t, nil)
	token, _, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation"})
	a, err := agentsim.Enrol(ctx, g.addr, g.ca.Pool(), token, "h-rev", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, time.Second) }()
	waitFor(t, "connected", func() bool { _, c := g.Count(); return c == 1 })
	if err := g.RevokeAgent(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("session survived the revocation")
	}
	if err := a.Run(ctx, time.Second); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("revoked agent reconnecting: %v", err)
	}
	if err := g.RevokeAgent(ctx, bulwark.NewID()); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("revoke unknown: %v", err)
	}
}
