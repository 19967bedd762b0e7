// Package agentsim simulates agents for tests and the scale benchmark: each
// simulated agent enrols with a real join token, holds a real mTLS gRPC
// session, and answers every desired state by reporting its faults active
// (and faults no longer desired recovered) without touching the host.
package agentsim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// Agent is one simulated agent.
type Agent struct {
	ID       string
	Hostname string
	Labels   map[string]string

	addr  string
	roots *x509.CertPool
	cert  *tls.Certificate
	cache tls.ClientSessionCache
	// Mute, when set, makes the agent stop answering (it keeps the stream
	// open and reads nothing), like a hung process.
	Mute atomic.Bool
	// Sessions counts the sessions it has opened.
	Sessions atomic.Int64

	mu     sync.Mutex
	active map[string]*agentpb.FaultStatus
}

// Enrol enrols a simulated agent at addr, trusting roots, with token.
func Enrol(ctx context.Context, addr string, roots *x509.CertPool, token, hostname string, labels map[string]string) (*Agent, error) {
	conn, err := dial(addr, pki.ClientTLS(roots, nil, "localhost"))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	key, err := pki.NewKey()
	if err != nil {
		return nil, err
	}
	csr, err := pki.NewCSR(key, hostname)
	if err != nil {
		return nil, err
	}
	resp, err := agentpb.NewAgentClient(conn).Enrol(ctx, &agentpb.EnrolRequest{
		ProtocolVersion: agentpb.ProtocolVersion, JoinToken: token, Csr: csr, Hostname: hostname, InstanceId: bulwark.NewID(),
	})
	if err != nil {
		return nil, fmt.Errorf("enrol %s: %w", hostname, err)
	}
	return &Agent{
		ID: resp.GetAgentId(), Hostname: hostname, Labels: labels, addr: addr, roots: roots,
		cert:   &tls.Certificate{Certificate: [][]byte{resp.GetCertificate()}, PrivateKey: key},
		cache:  tls.NewLRUClientSessionCache(1),
		active: map[string]*agentpb.FaultStatus{},
	}, nil
}

func dial(addr string, cfg *tls.Config) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
}

// Run holds a session until ctx is done or the stream breaks, and returns
// the error that ended it (nil when ctx ended it).
func (a *Agent) Run(ctx context.Context, heartbeat time.Duration) error {
	cfg := pki.ClientTLS(a.roots, a.cert, "localhost")
	cfg.ClientSessionCache = a.cache
	conn, err := dial(a.addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := agentpb.NewAgentClient(conn).Session(ctx)
	if err != nil {
		return err
	}
	a.Sessions.Add(1)
	hello := &agentpb.Hello{ProtocolVersion: agentpb.ProtocolVersion, AgentId: a.ID, Hostname: a.Hostname, Labels: a.Labels, Faults: a.snapshot()}
	if err := stream.Send(&agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Hello{Hello: hello}}); err != nil {
		if errors.Is(err, io.EOF) {
			// The server ended the stream (a refusal, say): the status
			// comes from Recv.
			if _, rerr := stream.Recv(); rerr != nil {
				err = rerr
			}
		}
		return err
	}
	var sendMu sync.Mutex
	send := func(m *agentpb.AgentMessage) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(m)
	}
	stop := make(chan struct{})
	defer close(stop)
	go a.heartbeats(send, heartbeat, stop)
	for {
		m, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		d := m.GetDesired()
		if d == nil || a.Mute.Load() {
			continue
		}
		if err := send(&agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Report{Report: &agentpb.Report{Epoch: d.GetEpoch(), Faults: a.apply(d)}}}); err != nil {
			return err
		}
	}
}

func (a *Agent) heartbeats(send func(*agentpb.AgentMessage) error, every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !a.Mute.Load() {
				_ = send(&agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Heartbeat{Heartbeat: &agentpb.Heartbeat{}}})
			}
		}
	}
}

// apply "reconciles": desired faults become active, others recovered.
func (a *Agent) apply(d *agentpb.DesiredState) []*agentpb.FaultStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	want := map[string]bool{}
	now := time.Now().UnixNano()
	for _, f := range d.GetFaults() {
		want[f.GetId()] = true
		if _, ok := a.active[f.GetId()]; !ok {
			a.active[f.GetId()] = &agentpb.FaultStatus{Id: f.GetId(), Kind: f.GetKind(), State: string(bulwark.StateActive), ActiveAtUnixNano: now, Params: f.GetParams()}
		}
	}
	out := make([]*agentpb.FaultStatus, 0, len(a.active))
	for id, f := range a.active {
		out = append(out, f)
		if !want[id] {
			f.State, f.EndedAtUnixNano = string(bulwark.StateRecovered), now
			delete(a.active, id) // reported once
		}
	}
	return out
}

func (a *Agent) snapshot() []*agentpb.FaultStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*agentpb.FaultStatus, 0, len(a.active))
	for _, f := range a.active {
		out = append(out, f)
	}
	return out
}
