package agentgw_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"))
}

// gateway is a real gateway over SQLite, serving on loopback.
type gateway struct {
	*agentgw.Gateway
	ca   *pki.CA
	addr string
	now  time.Time
}

func startGateway(t *testing.T, inv agentgw.Inventory) *gateway {
	t.Helper()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulwark.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.New("test")
	if err != nil {
		t.Fatal(err)
	}
	gw, err := agentgw.New(ctx, agentgw.Config{Store: sqlite.NewAgentStore(db), CA: ca, Inventory: inv, HaltTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(lis) }()
	t.Cleanup(func() {
		gw.Close()
		<-done
		db.Close()
	})
	return &gateway{Gateway: gw, ca: ca, addr: lis.Addr().String()}
}

// conn dials the gateway trusting its CA, with cert as client certificate
// (nil for none).
func (g *gateway) conn(t *testing.T, roots *pki.CA, cert *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	c, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(credentials.NewTLS(pki.ClientTLS(roots.Pool(), cert, "localhost"))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// enrol enrols a host with token and returns the response and the client
// certificate to use.
func (g *gateway) enrol(t *testing.T, token, hostname string) (*agentpb.EnrolResponse, *tls.Certificate, error) {
	t.Helper()
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, hostname)
	resp, err := agentpb.NewAgentClient(g.conn(t, g.ca, nil)).Enrol(context.Background(), &agentpb.EnrolRequest{
		ProtocolVersion: agentpb.ProtocolVersion, JoinToken: token, Csr: csr, Hostname: hostname, InstanceId: bulwark.NewID(),
	})
	if err != nil {
		return nil, nil, err
	}
	return resp, &tls.Certificate{Certificate: [][]byte{resp.GetCertificate()}, PrivateKey: key}, nil
}

// inventory is a fixed inventory: hostname → environment and zone.
type inventory map[string][2]string

func (i inventory) HostLabels(_ context.Context, host string) (map[string]string, bulwark.Environment, error) {
	e, ok := i[host]
	if !ok {
		return nil, bulwark.Environment{}, bulwark.Errorf(bulwark.ENOTFOUND, "no host %s", host)
	}
	return map[string]string{"env": e[0], "zone": e[1], "system": "orders"},
		bulwark.Environment{Name: e[0], ProductionClass: e[0] == "production"}, nil
}

func TestEnrolChecksTheJoinToken(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t, inventory{"prod-1": {"production", "sh"}, "sim-1": {"simulation", "sh"}, "sim-2": {"simulation", "sz"}})
	valid, _, err := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	zoned, _, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation", Zone: "sh", TTL: time.Hour})
	revoked, rt, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation", TTL: time.Hour})
	if err := g.RevokeJoinToken(ctx, rt.ID); err != nil {
		t.Fatal(err)
	}
	expired, _, _ := g.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation", TTL: time.Nanosecond})
	time.Sleep(time.Millisecond)

	tests := []struct {
		name, token, host string
		want              codes.Code
	}{
		{"valid", valid, "sim-1", codes.OK},
		{"host unknown to the inventory", valid, "lab-9", codes.OK},
		{"zone matches", zoned, "sim-1", codes.OK},
		{"unknown", "bwj_nope", "sim-1", codes.Unauthenticated},
		{"none", "", "sim-1", codes.Unauthenticated},
		{"revoked", revoked, "sim-1", codes.Unauthenticated},
		{"expired", expired, "sim-1", codes.Unauthenticated},
		{"host in another environment", valid, "prod-1", codes.PermissionDenied},
		{"host in another zone", zoned, "sim-2", codes.PermissionDenied},
		{"bad hostname", valid, "-x y", codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, err := g.enrol(t, tc.token, tc.host)
			if got := status.Code(err); got != tc.want {
				t.Fatalf("code = %v (%v), want %v", got, err, tc.want)
			}
			if tc.want == codes.OK && (!bulwark.ValidID(resp.GetAgentId()) || resp.GetEnvironment() != "simulation") {
				t.Fatalf("response: %+v", resp)
			}
		})
	}
	toks, err := g.JoinTokens(ctx)
	if err != nil || len(toks) != 4 {
		t.Fatalf("tokens: %v %d", err, len(toks))
	}
}

func TestSessionRequiresCertificateFromOwnCA(t *testing.T) {
	g := startGateway(t, nil)
	token, _, _ := g.CreateJoinToken(context.Background(), agentgw.JoinTokenRequest{Environment: "simulation"})
	resp, cert, err := g.enrol(t, token, "h1")
	if err != nil {
		t.Fatal(err)
	}
	hello := &agentpb.AgentMessage{Msg: &agentpb.AgentMessage_Hello{Hello: &agentpb.Hello{ProtocolVersion: agentpb.ProtocolVersion, AgentId: resp.GetAgentId(), Hostname: "h1"}}}
	open := func(cert *tls.Certificate) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s, err := agentpb.NewAgentClient(g.conn(t, g.ca, cert)).Session(ctx)
		if err != nil {
			return err
		}
		// On a refused stream Send may see io.EOF; the status comes from Recv.
		if err := s.Send(hello); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		_, err = s.Recv()
		return err
	}
	if err := open(cert); err != nil {
		t.Fatalf("own certificate: %v", err)
	}
	if err := open(nil); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no certificate: %v", err)
	}
	other, _ := pki.New("other")
	key, _ := pki.NewKey()
	csr, _ := pki.NewCSR(key, "h1")
	foreign, _ := other.SignAgent(csr, "h1", resp.GetAgentId(), time.Hour)
	if err := open(&tls.Certificate{Certificate: [][]byte{foreign.Raw}, PrivateKey: key}); err == nil {
		t.Fatal("a certificate from another CA opened a session")
	}
	if got := g.Agents(agentgw.AgentFilter{}); len(got) != 1 {
		t.Fatalf("agents: %+v", got)
	}
}

func TestBootstrapJoinToken(t *testing.T) {
	ctx := context.Background()
	g := startGateway(t, nil)
	if _, err := g.BootstrapJoinToken(ctx, "short", 0); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("short secret: %v", err)
	}
	secret := "a-bootstrap-secret-of-enough-length"
	tok, err := g.BootstrapJoinToken(ctx, secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Environment != agentgw.SimulationEnv || tok.ExpiresAt.Sub(tok.CreatedAt) != agentgw.BootstrapJoinTokenTTL {
		t.Fatalf("bootstrap token: %+v", tok)
	}
	again, err := g.BootstrapJoinToken(ctx, secret, 0) // a restart keeps the same token
	if err != nil || again.ID != tok.ID {
		t.Fatalf("second bootstrap: %v %+v", err, again)
	}
	if resp, _, err := g.enrol(t, secret, "lab-1"); err != nil || resp.GetEnvironment() != agentgw.SimulationEnv {
		t.Fatalf("enrol with the bootstrap token: %v", err)
	}
}
