package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// Config configures an Agent.
type Config struct {
	// Server is the gateway's address: host:port or https://host:port.
	Server string
	// Token is the join token; needed only until the agent is enrolled.
	Token string
	// StateDir is the host manager's state directory.
	StateDir string
	// Labels are the agent's own labels; reserved keys are refused.
	Labels map[string]string
	// Lease is the longest the agent holds the server's faults without a
	// renewal (default 30 s); a shorter lease from the server wins.
	Lease time.Duration
	// CAFile or CAPin (sha256:HEX of the CA certificate) say whom to trust
	// at enrolment; with neither, the agent trusts the CA the server
	// presents on first use and logs its fingerprint.
	CAFile string
	CAPin  string
	// Hostname defaults to os.Hostname.
	Hostname string
	// Host is what kinds act on (default fault.DefaultHost(StateDir)); the
	// agent adds the server's addresses to its management networks.
	Host *fault.Host
	// OnLive is passed to the host manager (the CLI starts the guard).
	OnLive func(ctx context.Context, f *bulwark.Fault)
	// Gate is the agent's own defence-in-depth check; nil allows all.
	Gate LocalGate
	// Backoff bounds for reconnecting (default 500 ms to 30 s, jittered).
	MinBackoff, MaxBackoff time.Duration
	// LockWait bounds how long the agent waits for the state lock.
	LockWait time.Duration
	Logger   *slog.Logger
}

// Agent is a running agent.
type Agent struct {
	cfg   Config
	log   *slog.Logger
	id    *Identity
	m     *hostmgr.Manager
	start time.Time // the origin of the monotonic lease clock

	renewed  atomic.Int64 // monotonic ns since start of the last lease renewal
	leaseNs  atomic.Int64 // the lease in force
	desired  chan desiredMsg
	reportCh chan struct{}

	mu        sync.Mutex
	epoch     uint64
	env       GateEnv
	serverIDs map[string]bool           // faults the server asked for (this process)
	local     map[string]bool           // faults injected through agent.sock
	refused   map[string]*bulwark.Fault // desired faults that never reached the journal
	lapsed    bool                      // the lease lapsed and has not been renewed since

	agentID atomic.Pointer[string]
	// tlsCache resumes sessions for the certificate tlsCacheFor; only the
	// session goroutine uses them.
	tlsCache    tls.ClientSessionCache
	tlsCacheFor *x509.Certificate
	kindsOnce   sync.Once
	kindList    []string

	wg sync.WaitGroup
}

// ParseLabels parses "k=v,k=v" and refuses reserved keys (env, system,
// unit, zone), which the server owns.
func ParseLabels(s string) (map[string]string, error) {
	out, err := bulwark.ParseLabels(s)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "--labels: %v", err)
	}
	for k := range out {
		if bulwark.ReservedLabel(k) {
			return nil, bulwark.Errorf(bulwark.EINVALID, "--labels: %q is reserved: the server sets env, system, unit and zone from the inventory", k)
		}
	}
	return out, nil
}

func (c *Config) defaults() error {
	if c.Server == "" {
		return bulwark.Errorf(bulwark.EINVALID, "--server: the gateway address is required")
	}
	if c.StateDir == "" {
		return bulwark.Errorf(bulwark.EINVALID, "--state-dir: required")
	}
	for k := range c.Labels {
		if bulwark.ReservedLabel(k) {
			return bulwark.Errorf(bulwark.EINVALID, "--labels: %q is reserved: the server sets it", k)
		}
	}
	if c.Lease == 0 {
		c.Lease = 30 * time.Second
	}
	if c.Lease < time.Second {
		return bulwark.Errorf(bulwark.EINVALID, "--lease: %s is too short (at least 1s)", c.Lease)
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.LockWait == 0 {
		c.LockWait = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
		c.Hostname = h
	}
	if c.Host == nil {
		c.Host = fault.DefaultHost(c.StateDir)
	}
	return nil
}

// New checks cfg and loads (or starts) the agent's identity. It does not
// touch the host manager or the network.
func New(cfg Config) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	cfg.Labels = maps.Clone(cfg.Labels)
	id, err := loadIdentity(cfg.StateDir, cfg.Hostname)
	if err != nil {
		return nil, err
	}
	if !id.Enrolled() && cfg.Token == "" {
		return nil, bulwark.Errorf(bulwark.EINVALID, "--token: this agent is not enrolled yet; give a join token")
	}
	a := &Agent{
		cfg: cfg, log: cfg.Logger, id: id, start: time.Now(),
		desired: make(chan desiredMsg, 1), reportCh: make(chan struct{}, 1),
		serverIDs: map[string]bool{}, refused: map[string]*bulwark.Fault{},
	}
	a.leaseNs.Store(int64(cfg.Lease))
	if id.AgentID != "" {
		a.agentID.Store(&id.AgentID)
	}
	return a, nil
}

// ID returns the agent's id once enrolled ("" before). It is safe to call
// while the agent runs.
func (a *Agent) ID() string {
	if p := a.agentID.Load(); p != nil {
		return *p
	}
	return ""
}

// Run opens the host manager, enrols if needed, serves agent.sock and keeps
// a session with the server until ctx is done. On return every goroutine
// has stopped; faults the server asked for stay until their lease or expiry.
func (a *Agent) Run(ctx context.Context) error {
	target, err := parseServer(a.cfg.Server)
	if err != nil {
		return err
	}
	a.pinServer(ctx, target)
	if err := a.openManager(ctx); err != nil {
		return err
	}
	defer a.m.Close()
	if err := a.loadLocal(); err != nil {
		return err
	}
	if !a.id.Enrolled() {
		if err := a.enrolRetrying(ctx, target); err != nil {
			return err
		}
	}
	sock, err := a.serveSocket()
	if err != nil {
		return err
	}
	defer sock.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); a.wg.Wait() }()
	a.wg.Add(2)
	go func() { defer a.wg.Done(); a.reconcileLoop(ctx) }()
	go func() { defer a.wg.Done(); a.leaseLoop(ctx) }()
	a.sessionLoop(ctx, target)
	return nil
}

func (a *Agent) openManager(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.LockWait)
	defer cancel()
	m, err := hostmgr.Open(ctx, hostmgr.Config{StateDir: a.cfg.StateDir, Host: a.cfg.Host, OnLive: a.cfg.OnLive, Logger: a.log})
	if err != nil {
		return err
	}
	a.m = m
	if _, err := m.Sweep(ctx); err != nil {
		a.log.Warn("sweep at start", "err", err)
	}
	return nil
}

// monoNow is the agent's monotonic clock: time since it started.
func (a *Agent) monoNow() int64 { return int64(time.Since(a.start)) }

// renew renews the lease now, with the server's lease when it sends one.
func (a *Agent) renew(serverLease time.Duration) {
	lease := a.cfg.Lease
	if serverLease > 0 && serverLease < lease {
		lease = serverLease
	}
	a.leaseNs.Store(int64(lease))
	a.renewed.Store(a.monoNow())
	a.mu.Lock()
	a.lapsed = false
	a.mu.Unlock()
}

// wakeReport asks the session to send a report.
func (a *Agent) wakeReport() {
	select {
	case a.reportCh <- struct{}{}:
	default:
	}
}

var errNotEnrolled = errors.New("agent is not enrolled")
