//go:build linux

package agent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// sockClientEnv makes the test binary act as an agent.sock client (see
// TestMain's helper below): it pings the socket and prints ok or the error.
const sockClientEnv = "BULWARK_TEST_SOCK_CLIENT"

func init() {
	dir := os.Getenv(sockClientEnv)
	if dir == "" {
		return
	}
	if _, ok := agent.DialLocal(context.Background(), dir); ok {
		fmt.Println("ok")
	} else {
		fmt.Println("refused")
	}
	os.Exit(0)
}

// TestSocketPermissionsAndPeerCheck checks agent.sock's mode and that a
// connection from another uid is refused by the SO_PEERCRED check itself
// (the test opens the mode up to get past the file permission).
func TestSocketPermissionsAndPeerCheck(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", nil)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation")})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	st, err := os.Stat(agent.SocketPath(a.stateDir))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("agent.sock mode = %v, want a 0600 socket", st.Mode())
	}
	testutil.Require(t, testutil.CapRoot)
	if err := os.Chmod(agent.SocketPath(a.stateDir), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(a.stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Another uid cannot run the test binary where go test left it.
	exe := filepath.Join(a.stateDir, "client.test")
	copyFile(t, os.Args[0], exe)
	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), sockClientEnv+"="+a.stateDir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(nil); got != "ok" {
		t.Fatalf("root client: %s", got)
	}
	if got := run(&syscall.Credential{Uid: 65534, Gid: 65534}); got != "refused" {
		t.Fatalf("uid 65534 client: %s, want refused", got)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestLocalFaultsThroughSocket injects through agent.sock: the fault is
// the host's own (the lease does not touch it), it is reported to the
// server, and a halt from the server recovers it.
func TestLocalFaultsThroughSocket(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, t.TempDir(), "", nil)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation")})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	c, ok := agent.DialLocal(ctx, a.stateDir)
	if !ok {
		t.Fatal("agent.sock does not answer")
	}
	defer c.Close()
	dir := t.TempDir()
	f, err := c.Inject(ctx, bulwark.FaultSpec{Kind: "test.marker", Params: map[string]string{"dir": dir}, Duration: bulwark.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Inject(ctx, bulwark.FaultSpec{Kind: "test.marker", Params: map[string]string{"dir": "/nonexistent"}, Duration: bulwark.Duration(time.Hour)}); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("bad parameter through the socket: %v", err)
	}
	waitFor(t, "local fault reported", func() bool { return reported(srv, a.ID(), f.ID) == bulwark.StateActive })
	res := srv.gw.Halt(ctx, nil)
	if len(res.Recovered) != 1 || len(res.Recovered[0].Faults) != 1 {
		t.Fatalf("halt: %+v", res)
	}
	if got := markers(t, dir); len(got) != 0 {
		t.Fatalf("halt left the local fault: %v", got)
	}
	list, err := c.Faults(ctx, bulwark.FaultFilter{Live: true})
	if err != nil || len(list) != 0 {
		t.Fatalf("live after halt: %v %+v", err, list)
	}
}

// TestGateRefusesProductionClass checks the agent's own gate: a
// production-class fault the server sends is refused and reported failed
// with the gate's reason.
func TestGateRefusesProductionClass(t *testing.T) {
	ctx := context.Background()
	inv := hostEnv{"prod-host": "production"}
	srv := startServer(t, t.TempDir(), "", func(c *agentgw.Config) { c.Inventory = inv })
	gate := agent.GateFunc(func(_ context.Context, env agent.GateEnv, spec bulwark.FaultSpec, _, _ time.Time) error {
		if env.ProductionClass {
			return errors.New("production-class environment in blackout (test gate)")
		}
		return nil
	})
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "production"), Hostname: "prod-host", Gate: gate})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	dir := t.TempDir()
	f := markerFault(dir, time.Minute)
	if _, err := srv.gw.AddFaults(ctx, a.ID(), f); err != nil {
		t.Fatal(err)
	}
	_, err := srv.gw.WaitActive(ctx, f.ID)
	if err == nil || !strings.Contains(err.Error(), "blackout") {
		t.Fatalf("wait: %v, want the gate's reason", err)
	}
	if got := markers(t, dir); len(got) != 0 {
		t.Fatalf("refused fault applied: %v", got)
	}
}

// hostEnv is an inventory of hostname → environment.
type hostEnv map[string]string

func (h hostEnv) HostLabels(_ context.Context, host string) (map[string]string, bulwark.Environment, error) {
	env, ok := h[host]
	if !ok {
		return nil, bulwark.Environment{}, bulwark.Errorf(bulwark.ENOTFOUND, "no host %s", host)
	}
	return map[string]string{"env": env}, bulwark.Environment{Name: env, ProductionClass: env == "production"}, nil
}
