package agent

import (
	"context"
	"math/rand/v2"
	"runtime"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// desiredMsg is a desired state and whether it opened its session (the
// first of a session is applied whatever its epoch).
type desiredMsg struct {
	d     *agentpb.DesiredState
	fresh bool
}

// sessionLoop keeps a session open, reconnecting with jittered exponential
// backoff, until ctx is done.
func (a *Agent) sessionLoop(ctx context.Context, t serverTarget) {
	backoff := a.cfg.MinBackoff
	for ctx.Err() == nil {
		healthy, err := a.runSession(ctx, t)
		if ctx.Err() != nil {
			return
		}
		if healthy {
			backoff = a.cfg.MinBackoff
		}
		if st, ok := status.FromError(err); ok && (st.Code() == codes.PermissionDenied || st.Code() == codes.Unauthenticated) && a.cfg.Token != "" {
			a.log.Warn("server refused this agent's certificate; enrolling again", "err", err)
			if eerr := a.enrol(ctx, t); eerr != nil {
				a.log.Error("enrol again", "err", eerr)
			}
		}
		wait := jitter(backoff)
		a.log.Warn("session ended; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, a.cfg.MaxBackoff)
	}
}

// jitter returns a random duration in [d/2, d], so that agents cut off
// together do not come back together.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// runSession dials, says Hello with the actual state, and then sends
// heartbeats and reports while handing desired states to the reconciler.
// healthy is true when the server answered at least once.
func (a *Agent) runSession(ctx context.Context, t serverTarget) (healthy bool, err error) {
	conn, err := dial(t, a.sessionTLS(t))
	if err != nil {
		return false, err
	}
	defer conn.Close()
	client := agentpb.NewAgentClient(conn)
	a.maybeRenew(ctx, client)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.Session(ctx)
	if err != nil {
		return false, err
	}
	hello := &agentpb.Hello{
		ProtocolVersion: agentpb.ProtocolVersion, AgentId: a.id.AgentID, Hostname: a.id.Hostname,
		Labels: a.cfg.Labels, StateDir: a.id.StateDir, Kinds: a.kinds(ctx), Faults: a.actual(ctx),
	}
	if err := stream.Send(&agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Hello{Hello: hello}}); err != nil {
		return false, err
	}
	recvd := make(chan error, 1)
	answered := make(chan struct{}, 1)
	go func() { recvd <- a.receive(stream, answered) }()
	return a.sendLoop(ctx, client, stream, recvd, answered)
}

// receive hands every server message to the agent until the stream ends.
func (a *Agent) receive(stream agentpb.Agent_SessionClient, answered chan<- struct{}) error {
	fresh := true
	for {
		m, err := stream.Recv()
		if err != nil {
			return err
		}
		select {
		case answered <- struct{}{}:
		default:
		}
		switch {
		case m.GetDesired() != nil:
			a.renew(time.Duration(m.GetDesired().GetLeaseMs()) * time.Millisecond)
			a.offer(desiredMsg{d: m.GetDesired(), fresh: fresh})
			fresh = false
		case m.GetAck() != nil:
			a.renew(time.Duration(m.GetAck().GetLeaseMs()) * time.Millisecond)
		}
	}
}

// offer replaces any desired state the reconciler has not picked up yet:
// only the newest matters, since each is the complete set. A fresh one
// stays fresh if it is replaced before being applied.
func (a *Agent) offer(m desiredMsg) {
	for {
		select {
		case a.desired <- m:
			return
		default:
		}
		select {
		case old := <-a.desired:
			m.fresh = m.fresh || old.fresh
		default:
		}
	}
}

// sendLoop is the session's only sender: heartbeats every third of the
// lease, and a report whenever the actual state changed. It also renews the
// certificate when due, so that a session held for days does not end with
// an expired one.
func (a *Agent) sendLoop(ctx context.Context, client agentpb.AgentClient, stream agentpb.Agent_SessionClient, recvd <-chan error, answered <-chan struct{}) (bool, error) {
	healthy := false
	tick := time.NewTicker(time.Duration(a.leaseNs.Load()) / 3)
	defer tick.Stop()
	for {
		var msg *agentpb.AgentMessage
		select {
		case <-ctx.Done():
			return healthy, ctx.Err()
		case err := <-recvd:
			return healthy, err
		case <-answered:
			healthy = true
			continue
		case <-tick.C:
			tick.Reset(time.Duration(a.leaseNs.Load()) / 3)
			a.maybeRenew(ctx, client) // a long session must not outlive its certificate
			msg = &agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Heartbeat{Heartbeat: &agentpb.Heartbeat{Epoch: a.appliedEpoch()}}}
		case <-a.reportCh:
			msg = &agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Report{Report: &agentpb.Report{Epoch: a.appliedEpoch(), Faults: a.actual(ctx)}}}
		}
		if err := stream.Send(msg); err != nil {
			return healthy, err
		}
	}
}

func (a *Agent) appliedEpoch() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.epoch
}

// kinds lists the kinds this host can perform, probed once per process
// (some probes are not cheap).
func (a *Agent) kinds(ctx context.Context) []string {
	a.kindsOnce.Do(func() {
		for _, k := range fault.Kinds("") {
			if !k.Info().Supports(runtime.GOOS) {
				continue
			}
			if av, ok := k.(fault.Availability); ok && av.Available(ctx, a.cfg.Host) != nil {
				continue
			}
			a.kindList = append(a.kindList, k.Info().ID)
		}
	})
	return a.kindList
}
