package agentgw

import (
	"context"
	"maps"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
)

// session is one agent's open stream. The handler goroutine is the only
// sender; a reader goroutine receives and applies what the agent says.
type session struct {
	wakeDesired chan struct{} // a new desired state is to be sent
	wakeAck     chan struct{} // an ack is owed
	kill        chan struct{} // closed when a newer session replaces this one
}

func newSession() *session {
	return &session{wakeDesired: make(chan struct{}, 1), wakeAck: make(chan struct{}, 1), kill: make(chan struct{})}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Session implements agentpb.AgentServer: Hello first, then heartbeats and
// reports up, desired states and acks down, until either side ends it.
func (g *Gateway) Session(stream agentpb.Agent_SessionServer) error {
	rec, err := g.peer(stream.Context())
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHello()
	switch {
	case h == nil:
		return status.Error(codes.InvalidArgument, "the first message of a session must be Hello")
	case h.GetAgentId() != "" && h.GetAgentId() != rec.ID:
		return status.Errorf(codes.PermissionDenied, "hello names agent %s but the certificate is agent %s", h.GetAgentId(), rec.ID)
	}
	if err := checkVersion(h.GetProtocolVersion()); err != nil {
		return err
	}
	s := newSession()
	g.attach(stream.Context(), rec.ID, h, s)
	defer g.detach(rec.ID, s)
	readErr := make(chan error, 1)
	go func() { readErr <- g.read(stream, rec.ID, s) }()
	return g.write(stream, rec.ID, s, readErr)
}

// write sends desired states and acks until the reader ends or the session
// is replaced.
func (g *Gateway) write(stream agentpb.Agent_SessionServer, id string, s *session, readErr <-chan error) error {
	for {
		var msg *agentpb.ServerMessage
		select {
		case err := <-readErr:
			return err
		case <-s.kill:
			return status.Error(codes.Aborted, "a newer session of this agent replaced this one")
		case <-s.wakeDesired:
			msg = &agentpb.ServerMessage{Msg: &agentpb.ServerMessage_Desired{Desired: g.desiredMsg(id)}}
		case <-s.wakeAck:
			msg = &agentpb.ServerMessage{Msg: &agentpb.ServerMessage_Ack{Ack: g.ackMsg(id)}}
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// read applies heartbeats and reports until the stream ends.
func (g *Gateway) read(stream agentpb.Agent_SessionServer, id string, s *session) error {
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		switch {
		case m.GetHeartbeat() != nil:
			g.touch(id)
		case m.GetReport() != nil:
			g.report(id, m.GetReport())
		default:
			continue
		}
		poke(s.wakeAck)
	}
}

// attach makes s the agent's session, records what the Hello says and
// queues the current desired state.
func (g *Gateway) attach(ctx context.Context, id string, h *agentpb.Hello, s *session) {
	labels, env, docs := g.lookup(ctx, id)
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.agents[id]
	if a.sess != nil {
		close(a.sess.kill)
	}
	a.sess, a.status, a.protocol, a.kinds = s, StatusConnected, int(h.GetProtocolVersion()), h.GetKinds()
	if labels != nil || a.serverLabels == nil {
		a.serverLabels, a.env, a.docs = labels, env, docs
	}
	a.rec.Labels = ownLabels(h.GetLabels())
	if h.GetStateDir() != "" {
		a.rec.StateDir = h.GetStateDir()
	}
	a.rec.LastSeen = g.cfg.Now().UTC()
	g.setActualLocked(a, h.GetFaults())
	g.markDirtyLocked(id)
	g.haltUpdateLocked(id, a)
	g.notifyLocked()
	poke(s.wakeDesired)
	g.log.Info("agent connected", "agent", id, "hostname", a.rec.Hostname, "protocol", a.protocol, "faults", len(h.GetFaults()))
}

// lookup asks the inventory (outside the lock) for the agent's server-owned
// labels and environment, and the environment's documents.
func (g *Gateway) lookup(ctx context.Context, id string) (map[string]string, bulwark.Environment, [2][]byte) {
	g.mu.RLock()
	host, envName := g.agents[id].rec.Hostname, g.agents[id].rec.Environment
	g.mu.RUnlock()
	labels, env := map[string]string(nil), g.defaultEnv(envName)
	if g.cfg.Inventory != nil {
		l, e, err := g.cfg.Inventory.HostLabels(ctx, host)
		switch {
		case err == nil:
			labels, env = l, e
		case bulwark.ErrorCode(err) != bulwark.ENOTFOUND:
			g.log.Warn("inventory lookup failed; keeping the labels known before", "hostname", host, "err", err)
		}
	}
	var docs [2][]byte
	if g.cfg.Docs != nil {
		p, c, err := g.cfg.Docs.EnvironmentDocs(ctx, env.Name)
		if err != nil {
			g.log.Warn("environment documents", "environment", env.Name, "err", err)
		}
		docs = [2][]byte{p, c}
	}
	return labels, env, docs
}

// ownLabels drops the reserved keys an agent may not set.
func ownLabels(in map[string]string) map[string]string {
	out := maps.Clone(in)
	maps.DeleteFunc(out, func(k, _ string) bool { return bulwark.ReservedLabel(k) })
	return out
}

func (g *Gateway) detach(id string, s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.agents[id]
	if a.sess != s {
		return
	}
	a.sess, a.status = nil, StatusDisconnected
	a.rec.LastSeen = g.cfg.Now().UTC()
	g.markDirtyLocked(id)
	g.haltUpdateLocked(id, a)
	g.notifyLocked()
	g.log.Info("agent disconnected", "agent", id, "hostname", a.rec.Hostname)
}

func (g *Gateway) touch(id string) {
	g.mu.Lock()
	g.agents[id].rec.LastSeen = g.cfg.Now().UTC()
	g.mu.Unlock()
}

// report records the agent's actual state and drops ended faults from its
// desired set (they are done; resending them would change nothing).
func (g *Gateway) report(id string, r *agentpb.Report) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.agents[id]
	a.rec.LastSeen = g.cfg.Now().UTC()
	a.applied = max(a.applied, r.GetEpoch())
	g.setActualLocked(a, r.GetFaults())
	kept := a.rec.Desired[:0:0]
	for _, d := range a.rec.Desired {
		if f, ok := a.actual[d.ID]; ok && !f.State.Live() {
			continue
		}
		kept = append(kept, d)
	}
	if len(kept) != len(a.rec.Desired) {
		a.rec.Desired = kept
		g.markDirtyLocked(id)
	}
	g.haltUpdateLocked(id, a)
	g.notifyLocked()
}

func (g *Gateway) setActualLocked(a *agentState, faults []*agentpb.FaultStatus) {
	a.actual = make(map[string]*bulwark.Fault, len(faults))
	for _, s := range faults {
		a.actual[s.GetId()] = agentpb.FaultFromPB(s)
	}
}

func (g *Gateway) desiredMsg(id string) *agentpb.DesiredState {
	g.mu.RLock()
	defer g.mu.RUnlock()
	a := g.agents[id]
	env := a.env
	if env.Name == "" {
		env = g.defaultEnv(a.rec.Environment)
	}
	m := &agentpb.DesiredState{
		Epoch: a.rec.Epoch, LeaseMs: g.cfg.Lease.Milliseconds(), Environment: env.Name,
		ProductionClass: env.ProductionClass, Policy: a.docs[0], Calendar: a.docs[1], Halt: a.halt, Labels: a.labels(),
	}
	for _, d := range a.rec.Desired {
		m.Faults = append(m.Faults, agentpb.DesiredToPB(d))
	}
	return m
}

func (g *Gateway) ackMsg(id string) *agentpb.Ack {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return &agentpb.Ack{Epoch: g.agents[id].rec.Epoch, LeaseMs: g.cfg.Lease.Milliseconds()}
}

// injectSlack is how long after the server asks for a fault the agent may
// still start it: a desired fault's ExpiresAt is at most now + duration +
// injectSlack, so a stale desired set can never start an old fault late.
const injectSlack = time.Minute
