package agentgw

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/agentpb"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// Inventory gives the server-owned labels (env, system, unit, zone, and
// any others the inventory keeps) and the environment of a host. It returns
// an error with code ENOTFOUND for a host the inventory does not know.
type Inventory interface {
	HostLabels(ctx context.Context, hostname string) (map[string]string, bulwark.Environment, error)
}

// EnvironmentDocs optionally supplies an environment's policy and calendar
// documents, sent to its agents for their own gate (DESIGN §4.1).
type EnvironmentDocs interface {
	EnvironmentDocs(ctx context.Context, env string) (policy, calendar []byte, err error)
}

// Config configures a Gateway.
type Config struct {
	Store agentstore.Store
	CA    *pki.CA
	// ServerNames are the DNS names and addresses agents dial; they go into
	// the server certificate (loopback is always included).
	ServerNames []string
	// Inventory is optional; without it an agent's env and zone labels come
	// from its join token, and only "simulation" is not production-class.
	Inventory Inventory
	Docs      EnvironmentDocs
	// Lease is the lease sent to agents (default 30 s).
	Lease time.Duration
	// CertValidity is the life of agent certificates (default pki.AgentValidity).
	CertValidity time.Duration
	// HaltTimeout bounds how long Halt waits for reports (default 5 s).
	HaltTimeout time.Duration
	// FlushInterval is how often changed agents are written (default 200 ms).
	FlushInterval time.Duration
	Logger        *slog.Logger
	Now           func() time.Time
}

func (c *Config) defaults() {
	if c.Lease == 0 {
		c.Lease = 30 * time.Second
	}
	if c.CertValidity == 0 {
		c.CertValidity = pki.AgentValidity
	}
	if c.HaltTimeout == 0 {
		c.HaltTimeout = 5 * time.Second
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Gateway is the agent gateway. Create it with New, serve it with Serve,
// and stop it with Close.
type Gateway struct {
	agentpb.UnimplementedAgentServer

	cfg  Config
	tls  *tls.Config
	grpc *grpc.Server
	log  *slog.Logger

	mu      sync.RWMutex
	agents  map[string]*agentState
	changed chan struct{} // closed and replaced on every change of actual state
	dirty   map[string]bool
	halts   map[*haltWait]struct{} // halts waiting for their agents

	stop    chan struct{}
	flushWG sync.WaitGroup
	closeMu sync.Once
}

// New loads the enrolled agents from the store and prepares the gRPC
// server; it does not listen.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	cfg.defaults()
	if cfg.Store == nil || cfg.CA == nil {
		return nil, errors.New("agent gateway: a store and a CA are required")
	}
	cert, err := cfg.CA.ServerCert(cfg.ServerNames, pki.ServerValidity)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, log: cfg.Logger, tls: pki.ServerTLS(cfg.CA, cert),
		agents: map[string]*agentState{}, changed: make(chan struct{}), dirty: map[string]bool{},
		halts: map[*haltWait]struct{}{}, stop: make(chan struct{}),
	}
	recs, err := cfg.Store.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("load agents: %w", err)
	}
	for _, r := range recs {
		g.agents[r.ID] = &agentState{rec: r, status: StatusDisconnected}
	}
	g.grpc = grpc.NewServer(
		grpc.Creds(credentials.NewTLS(g.tls)),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	agentpb.RegisterAgentServer(g.grpc, g)
	g.flushWG.Add(1)
	go g.flushLoop()
	return g, nil
}

// Serve accepts agent connections on lis until Close; it returns nil after
// Close.
func (g *Gateway) Serve(lis net.Listener) error {
	err := g.grpc.Serve(lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// CAPEM returns the CA certificate agents should trust, in PEM.
func (g *Gateway) CAPEM() []byte { return g.cfg.CA.CertPEM() }

// Close stops serving (ending every session), and writes what is unwritten.
func (g *Gateway) Close() error {
	var err error
	g.closeMu.Do(func() {
		g.grpc.Stop()
		close(g.stop)
		g.flushWG.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = g.Flush(ctx)
	})
	return err
}

// notifyLocked wakes everyone waiting for a change. g.mu must be held.
func (g *Gateway) notifyLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// waitChange returns a channel closed at the next change.
func (g *Gateway) waitChange() <-chan struct{} {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.changed
}
