package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
)

// TestLeaseLapseRecovers cuts the path between agent and server (no bytes
// move, nothing is closed): the agent gets no renewal, recovers the
// server's fault on its own, the server sees it lost, and once the path is
// back the agent reports the fault recovered and is not given it again.
func TestLeaseLapseRecovers(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, t.TempDir(), "", func(c *agentgw.Config) { c.Lease = time.Second })
	p := newStallProxy(t, srv.addr)
	a := startAgent(t, agent.Config{Server: p.addr(), Token: srv.token(t, "simulation"), Lease: time.Second})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	dir := t.TempDir()
	f := markerFault(dir, time.Hour)
	if _, err := srv.gw.AddFaults(ctx, a.ID(), f); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.gw.WaitActive(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	p.stall()
	waitFor(t, "marker removed by the lease", func() bool { return len(markers(t, dir)) == 0 })
	waitFor(t, "server marks the agent lost", func() bool { return agentStatus(srv, a.ID()) == agentgw.StatusLost })
	p.unstall()
	waitFor(t, "recovery reported", func() bool { return reported(srv, a.ID(), f.ID) == bulwark.StateRecovered })
	waitFor(t, "connected again", func() bool { return agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	if got := markers(t, dir); len(got) != 0 {
		t.Fatalf("fault came back after the lease lapsed: %v", got)
	}
	view, _ := srv.gw.Agent(a.ID())
	if len(view.Desired) != 0 {
		t.Fatalf("ended fault still desired: %+v", view.Desired)
	}
}

// TestReconnectAfterServerRestart restarts the server (same database, same
// address) while a fault is active: the agent reconnects, the server
// resends the persisted set, and nothing is injected twice.
func TestReconnectAfterServerRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	long := func(c *agentgw.Config) { c.Lease = 30 * time.Second }
	srv := startServer(t, dir, "", long)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation"), Lease: 30 * time.Second})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	mdir := t.TempDir()
	f := markerFault(mdir, time.Hour)
	epoch, err := srv.gw.AddFaults(ctx, a.ID(), f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.gw.WaitActive(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	srv2 := startServer(t, dir, srv.addr, long)
	view, err := srv2.gw.Agent(a.ID())
	if err != nil || view.Epoch != epoch || len(view.Desired) != 1 {
		t.Fatalf("restarted server lost the desired set: %v %+v", err, view)
	}
	waitFor(t, "reconnected", func() bool { return agentStatus(srv2, a.ID()) == agentgw.StatusConnected })
	if _, err := srv2.gw.WaitActive(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "set re-applied", func() bool { v, _ := srv2.gw.Agent(a.ID()); return v.AppliedEpoch == epoch })
	if got := markers(t, mdir); len(got) != 1 || got[0] != f.ID {
		t.Fatalf("markers after restart: %v", got)
	}
	c, ok := agent.DialLocal(ctx, a.stateDir)
	if !ok {
		t.Fatal("agent.sock does not answer")
	}
	defer c.Close()
	all, err := c.Faults(ctx, bulwark.FaultFilter{})
	if err != nil || len(all) != 1 {
		t.Fatalf("journal after restart: %v %d records (a resend injected twice?)", err, len(all))
	}
}

// TestStaleEpochIgnored applies desired states out of order on a running
// agent: an older epoch within a session changes nothing; the first state
// of a new session is applied whatever its epoch.
func TestStaleEpochIgnored(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, t.TempDir(), "", func(c *agentgw.Config) { c.Lease = 30 * time.Second })
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation"), Lease: 30 * time.Second})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	// Let the server's own desired state be applied first, so that nothing
	// else reaches the reconciler during the test.
	epoch, err := srv.gw.SetDesired(ctx, a.ID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server's epoch applied", func() bool { v, _ := srv.gw.Agent(a.ID()); return v.AppliedEpoch == epoch })
	dir := t.TempDir()
	f := markerFault(dir, time.Hour)
	newer := &agentpb.DesiredState{Epoch: 1000, Faults: []*agentpb.DesiredFault{agentpb.DesiredToPB(f)}}
	if !a.Reconcile(ctx, newer, false) || len(markers(t, dir)) != 1 {
		t.Fatal("epoch 1000 not applied")
	}
	if a.Reconcile(ctx, &agentpb.DesiredState{Epoch: 999}, false) {
		t.Fatal("stale epoch 999 applied")
	}
	if len(markers(t, dir)) != 1 {
		t.Fatal("stale epoch recovered the fault")
	}
	if !a.Reconcile(ctx, &agentpb.DesiredState{Epoch: 3}, true) || len(markers(t, dir)) != 0 {
		t.Fatal("a fresh session's lower epoch was not authoritative")
	}
}
