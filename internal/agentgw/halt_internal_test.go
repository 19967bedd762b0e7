package agentgw

import (
	"context"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
)

// bareGateway is a gateway with agents but no store, listener or flush
// loop: enough to drive the halt bookkeeping by hand.
func bareGateway(ids ...string) *Gateway {
	g := &Gateway{agents: map[string]*agentState{}, changed: make(chan struct{}), dirty: map[string]bool{}, halts: map[*haltWait]struct{}{}}
	g.cfg.defaults()
	g.log = g.cfg.Logger
	for _, id := range ids {
		g.agents[id] = &agentState{
			rec: &agentstore.Agent{ID: id, Hostname: id, Environment: SimulationEnv}, sess: newSession(), status: StatusConnected,
			actual: map[string]*bulwark.Fault{"f-" + id: {ID: "f-" + id, State: bulwark.StateActive}},
		}
	}
	return g
}

func faultPB(id string, s bulwark.State) *agentpb.FaultStatus {
	return &agentpb.FaultStatus{Id: id, Kind: "cpu.load", State: string(s)}
}

func isDone(w *haltWait) bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// The halt wait follows each agent's reports one at a time: only a report
// of the halt epoch with nothing live confirms; a stale or still-live
// report, or a reconnect with live faults, keeps the agent pending; a
// disconnect stops waiting for it; the wait ends on the last confirmation.
func TestHaltWaitFollowsEachAgent(t *testing.T) {
	g := bareGateway("a", "b", "c", "d", "e")
	g.agents["d"].sess, g.agents["d"].status = nil, StatusDisconnected
	w := g.haltSend(nil)
	if len(w.targets) != 5 || len(w.pending) != 4 || w.pending["d"] || isDone(w) {
		t.Fatalf("after send: %d targets, pending %v", len(w.targets), w.pending)
	}
	epoch := func(id string) uint64 { return w.targets[id].epoch }

	g.report("a", &agentpb.Report{Epoch: epoch("a"), Faults: []*agentpb.FaultStatus{faultPB("f-a", bulwark.StateRecovered)}})
	g.report("b", &agentpb.Report{Epoch: epoch("b") - 1, Faults: []*agentpb.FaultStatus{faultPB("f-b", bulwark.StateRecovered)}})
	g.report("e", &agentpb.Report{Epoch: epoch("e"), Faults: []*agentpb.FaultStatus{faultPB("f-e", bulwark.StateStuck)}})
	if w.pending["a"] || !w.pending["b"] || !w.pending["e"] {
		t.Fatalf("pending %v: want b (stale epoch) and e (still live), not a", w.pending)
	}
	// A late, older report does not undo a confirmation: epochs only grow.
	g.report("a", &agentpb.Report{Epoch: epoch("a") - 1, Faults: []*agentpb.FaultStatus{faultPB("f-a", bulwark.StateRecovered)}})
	if w.pending["a"] {
		t.Fatal("an older report made a confirmed agent pending again")
	}

	// c leaves: no longer waited for. It comes back with a live fault and
	// without having applied the halt: waited for again.
	cs := g.agents["c"].sess
	g.detach("c", cs)
	if w.pending["c"] {
		t.Fatal("a disconnected agent is still waited for")
	}
	s := newSession()
	g.attach(context.Background(), "c", &agentpb.Hello{ProtocolVersion: agentpb.ProtocolVersion, Faults: []*agentpb.FaultStatus{faultPB("f-c", bulwark.StateActive)}}, s)
	if !w.pending["c"] {
		t.Fatal("a reconnected agent that has not confirmed is not waited for")
	}

	g.report("b", &agentpb.Report{Epoch: epoch("b"), Faults: []*agentpb.FaultStatus{faultPB("f-b", bulwark.StateRecovered)}})
	g.report("e", &agentpb.Report{Epoch: epoch("e"), Faults: []*agentpb.FaultStatus{faultPB("f-e", bulwark.StateRecovered)}})
	if isDone(w) {
		t.Fatal("the wait ended with c pending")
	}
	g.report("c", &agentpb.Report{Epoch: epoch("c"), Faults: []*agentpb.FaultStatus{faultPB("f-c", bulwark.StateRecovered)}})
	if !isDone(w) || len(g.halts) != 0 {
		t.Fatalf("the wait did not end on the last confirmation: pending %v, %d halts registered", w.pending, len(g.halts))
	}

	res := g.haltResult(w.targets)
	if len(res.Recovered) != 4 || len(res.NotAnswered) != 1 || res.NotAnswered[0].AgentID != "d" || res.NotAnswered[0].Reason == "" {
		t.Fatalf("result: %+v", res)
	}
	for _, r := range res.Recovered {
		if r.AgentID == "c" {
			continue // its fault before the halt was f-c, reported again on reconnect
		}
		if len(r.Faults) != 1 || r.Faults[0].State != bulwark.StateRecovered {
			t.Fatalf("recovered %s: %+v", r.AgentID, r.Faults)
		}
	}
}

// Two halts at once each wait for their own agents; a halt whose agents
// are all disconnected (or absent) ends at once.
func TestConcurrentHaltWaits(t *testing.T) {
	g := bareGateway("a", "b")
	wa := g.haltSend(func(a Agent) bool { return a.ID == "a" })
	wb := g.haltSend(nil)
	if len(wa.targets) != 1 || len(wb.targets) != 2 || len(g.halts) != 2 {
		t.Fatalf("targets %d and %d, %d halts", len(wa.targets), len(wb.targets), len(g.halts))
	}
	// a confirms the second halt's epoch, which is also past the first's.
	g.report("a", &agentpb.Report{Epoch: wb.targets["a"].epoch, Faults: []*agentpb.FaultStatus{faultPB("f-a", bulwark.StateRecovered)}})
	if !isDone(wa) || isDone(wb) {
		t.Fatalf("first done %v, second done %v", isDone(wa), isDone(wb))
	}
	g.report("b", &agentpb.Report{Epoch: wb.targets["b"].epoch})
	if !isDone(wb) || len(g.halts) != 0 {
		t.Fatal("second halt did not end")
	}
	g.detach("a", g.agents["a"].sess)
	g.detach("b", g.agents["b"].sess)
	if w := g.haltSend(nil); !isDone(w) || len(g.halts) != 0 {
		t.Fatal("a halt with nobody connected waits")
	}
}
