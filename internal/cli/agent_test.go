package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/cli"
	"github.com/bulwarkhq/bulwark/internal/pki"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// TestAgentCommandServesTheLocalCLI runs `bulwark agent` in-process against
// a real gateway, then `bulwark fault …` on the same state directory: the
// agent holds the directory's lock, so these answer only because they go
// through agent.sock.
func TestAgentCommandServesTheLocalCLI(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "bulwark.db"))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ca, _ := pki.New("test")
	gw, err := agentgw.New(ctx, agentgw.Config{Store: sqlite.NewAgentStore(db), CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(lis) }()
	defer func() { gw.Close(); <-served }()
	token, _, err := gw.CreateJoinToken(ctx, agentgw.JoinTokenRequest{Environment: "simulation"})
	if err != nil {
		t.Fatal(err)
	}
	state, err := os.MkdirTemp("", "bwc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(state)

	if code, _, errs := runCLI(t, "agent", "--server", lis.Addr().String(), "--token", token, "--state-dir", state, "--labels", "env=production"); code != 2 || !strings.Contains(errs, "reserved") {
		t.Fatalf("reserved label: exit %d, %s", code, errs)
	}

	actx, cancel := context.WithCancel(ctx)
	done := make(chan int, 1)
	var agentErr bytes.Buffer
	go func() {
		done <- cli.Main(actx, []string{"agent", "--server", lis.Addr().String(), "--token", token, "--state-dir", state, "--labels", "rack=u1"}, &bytes.Buffer{}, &agentErr)
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for len(gw.Agents(agentgw.AgentFilter{Status: agentgw.StatusConnected})) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("agent never connected: %s", agentErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, ok := agent.DialLocal(ctx, state); !ok {
		t.Fatal("agent.sock does not answer")
	}
	code, out, errs := runCLI(t, "fault", "list", "--json", "--state-dir", state)
	if code != 0 {
		t.Fatalf("fault list: exit %d: %s", code, errs)
	}
	var list struct{ Faults []json.RawMessage }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Faults) != 0 {
		t.Fatalf("fault list: %v %s", err, out)
	}
	if code, _, errs := runCLI(t, "fault", "inject", "process.hang", "--pid", "999999999", "--duration", "10s", "--state-dir", state); code != 2 {
		t.Fatalf("bad pid through the agent: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "fault", "recover", "--all", "--state-dir", state); code != 0 {
		t.Fatalf("recover --all through the agent: exit %d: %s", code, errs)
	}
}
