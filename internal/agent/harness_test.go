package agent_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/agentgw/agentstore"
	"github.com/bulwarkhq/bulwark/internal/pki"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("google.golang.org/grpc/internal/grpcsync.(*CallbackSerializer).run"))
}

// server is a real gateway over a real SQLite file, listening on loopback.
type server struct {
	gw   *agentgw.Gateway
	db   *sqlite.DB
	addr string
	dir  string
	done chan error
}

// startServer starts a gateway whose CA and database live in dir, on addr
// ("" for a free port); restarting on the same dir and addr is a restart.
func startServer(t *testing.T, dir, addr string, tweak func(*agentgw.Config)) *server {
	t.Helper()
	ctx := context.Background()
	ca, err := pki.LoadOrCreate(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(filepath.Join(dir, "bulwark.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := agentgw.Config{Store: sqlite.NewAgentStore(db), CA: ca, Lease: 2 * time.Second, FlushInterval: 20 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	gw, err := agentgw.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lis net.Listener
	for range 50 { // the old server's port may take a moment to free
		if lis, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &server{gw: gw, db: db, addr: lis.Addr().String(), dir: dir, done: make(chan error, 1)}
	go func() { s.done <- gw.Serve(lis) }()
	t.Cleanup(s.stop)
	return s
}

var stopOnce sync.Map

func (s *server) stop() {
	if _, dup := stopOnce.LoadOrStore(s, true); dup {
		return
	}
	s.gw.Close()
	<-s.done
	s.db.Close()
}

// token makes a join token for env.
func (s *server) token(t *testing.T, env string) string {
	t.Helper()
	secret, _, err := s.gw.CreateJoinToken(context.Background(), agentgw.JoinTokenRequest{Environment: env, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// runningAgent is an agent running in the test process.
type runningAgent struct {
	*agent.Agent
	stateDir string
	cancel   context.CancelFunc
	done     chan error
}

func startAgent(t *testing.T, cfg agent.Config) *runningAgent {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = shortTempDir(t)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "host-" + filepath.Base(cfg.StateDir)
	}
	if cfg.Lease == 0 {
		cfg.Lease = 2 * time.Second
	}
	cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 300*time.Millisecond
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{Agent: a, stateDir: cfg.StateDir, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *runningAgent) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // let a second stop return
}

// shortTempDir is a temporary directory with a path short enough for a
// unix socket.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "bwa")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// waitFor polls cond until it holds, failing the test after a generous
// bound so that a broken build does not hang; it measures nothing.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func agentStatus(s *server, id string) string {
	a, err := s.gw.Agent(id)
	if err != nil {
		return ""
	}
	return a.Status
}

func markerFault(dir string, d time.Duration) agentstore.DesiredFault {
	return agentstore.DesiredFault{ID: bulwark.NewID(), Kind: "test.marker", Params: map[string]string{"dir": dir}, Duration: bulwark.Duration(d)}
}

func markers(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}
