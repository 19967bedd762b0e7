package agentgw_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	v1 "github.com/bulwarkhq/bulwark/internal/agentpb/v1frozen"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// The real method names: the frozen v1 messages travel on them.
const (
	enrolMethod   = "/bulwark.agent.v1.Agent/Enrol"
	sessionMethod = "/bulwark.agent.v1.Agent/Session"
)

// TestProtocolV1AgentKeepsWorking runs an agent that speaks protocol 1 —
// the frozen v1 message shapes, without any field v2 added — against the
// current server: it enrols, receives desired states, reports, and is
// halted (DESIGN §4.1: one version behind keeps working).
func TestProtocolV1AgentKeepsWorking(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t, nil)
	token, _, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation"})
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, "old-host")
	var enrolled v1.EnrolResponse
	err := g.conn(t, g.ca, nil).Invoke(ctx, enrolMethod, &v1.EnrolRequest{
		ProtocolVersion: 1, JoinToken: token, Csr: csr, Hostname: "old-host", InstanceId: bulwark.NewID(),
	}, &enrolled)
	if err != nil {
		t.Fatal(err)
	}
	cert := &tls.Certificate{Certificate: [][]byte{enrolled.GetCertificate()}, PrivateKey: key}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := g.conn(t, g.ca, cert).NewStream(sctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, sessionMethod)
	if err != nil {
		t.Fatal(err)
	}
	send := func(m *v1.AgentMessage) {
		t.Helper()
		if err := stream.SendMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	recvDesired := func() *v1.DesiredState {
		t.Helper()
		for {
			var m v1.ServerMessage
			if err := stream.RecvMsg(&m); err != nil {
				t.Fatal(err)
			}
			if d := m.GetDesired(); d != nil {
				return d
			}
		}
	}
	send(&v1.AgentMessage{Msg: &v1.AgentMessage_Hello{Hello: &v1.Hello{ProtocolVersion: 1, AgentId: enrolled.GetAgentId(), Hostname: "old-host", Labels: map[string]string{"rack": "u9", "env": "production"}}}})
	first := recvDesired()
	if len(first.GetFaults()) != 0 || first.GetEnvironment() != "simulation" {
		t.Fatalf("first desired state: %v", first)
	}
	a, _ := g.Agent(enrolled.GetAgentId())
	if a.ProtocolVersion != 1 || a.Labels["rack"] != "u9" || a.Labels["env"] != "simulation" {
		t.Fatalf("agent as seen: %+v", a)
	}

	f := agentstore.DesiredFault{ID: bulwark.NewID(), Kind: "process.hang", Params: map[string]string{"pid": "4242"}, Duration: bulwark.Duration(time.Minute)}
	if _, err := g.AddFaults(ctx, a.ID, f); err != nil {
		t.Fatal(err)
	}
	d := recvDesired()
	if len(d.GetFaults()) != 1 || d.GetFaults()[0].GetId() != f.ID || d.GetFaults()[0].GetExpiresAtUnixNano() == 0 {
		t.Fatalf("desired: %v", d)
	}
	send(report(d.GetEpoch(), f.ID, "active"))
	if _, err := g.WaitActive(ctx, f.ID); err != nil {
		t.Fatal(err)
	}

	halted := make(chan agentgw.HaltResult, 1)
	go func() { halted <- g.Halt(ctx, nil) }()
	h := recvDesired()
	if len(h.GetFaults()) != 0 || h.GetEpoch() <= d.GetEpoch() {
		t.Fatalf("halt desired state: %v", h)
	}
	send(report(h.GetEpoch(), f.ID, "recovered"))
	res := <-halted
	if len(res.Recovered) != 1 || len(res.NotAnswered) != 0 || res.Recovered[0].Faults[0].State != bulwark.StateRecovered {
		t.Fatalf("halt: %+v", res)
	}
}

func report(epoch uint64, id, state string) *v1.AgentMessage {
	return &v1.AgentMessage{Msg: &v1.AgentMessage_Report{Report: &v1.Report{Epoch: epoch, Faults: []*v1.FaultStatus{{Id: id, Kind: "process.hang", State: state}}}}}
}

func TestUnsupportedProtocolVersionsAreRefused(t *testing.T) {
	g := startGateway(t, nil)
	token, _, _ := g.CreateJoinToken(context.Background(), agentgw.JoinTokenRequest{Environment: "simulation"})
	for _, v := range []uint32{0, 3} {
		key, _ := pki.NewKey()
		csr, _ := pki.NewCSR(key, "h")
		var resp v1.EnrolResponse
		err := g.conn(t, g.ca, nil).Invoke(context.Background(), enrolMethod, &v1.EnrolRequest{
			ProtocolVersion: v, JoinToken: token, Csr: csr, Hostname: "h", InstanceId: bulwark.NewID(),
		}, &resp)
		if status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("protocol %d: %v", v, err)
		}
	}
}
