package agent_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agent"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

func TestParseLabels(t *testing.T) {
	got, err := agent.ParseLabels("rack=u1, role=db")
	if err != nil || got["rack"] != "u1" || got["role"] != "db" {
		t.Fatalf("got %v %v", got, err)
	}
	for _, bad := range []string{"env=prod", "rack", "=x", "zone=a", "system=s", "unit=u"} {
		if _, err := agent.ParseLabels(bad); bulwark.ErrorCode(err) != bulwark.EINVALID {
			t.Errorf("%q: %v, want invalid", bad, err)
		}
	}
	if _, err := agent.New(agent.Config{Server: "x:1", StateDir: t.TempDir(), Labels: map[string]string{"env": "p"}}); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Errorf("reserved label in Config: %v", err)
	}
	if _, err := agent.New(agent.Config{Server: "x:1", StateDir: t.TempDir()}); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Errorf("no token and not enrolled: %v", err)
	}
}

// TestServerPinnedOnManagementPlane: the server's address is on the
// management allow-list of the host the agent's kinds act on.
func TestServerPinnedOnManagementPlane(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", nil)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation")})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	if !slices.Contains(a.ManagementNetworks(), netip.MustParsePrefix("127.0.0.1/32")) {
		t.Fatalf("management networks %v lack the server 127.0.0.1", a.ManagementNetworks())
	}
}

// TestEnrolledIdentityIsReused restarts an agent on the same state
// directory without a token: it keeps its id and connects again; another
// state directory on the same host is another agent.
func TestEnrolledIdentityIsReused(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", nil)
	token := srv.token(t, "simulation")
	state := shortTempDir(t)
	a := startAgent(t, agent.Config{Server: srv.addr, Token: token, StateDir: state, Hostname: "h1"})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	first := a.ID()
	a.stop()
	waitFor(t, "disconnected", func() bool { return agentStatus(srv, first) == agentgw.StatusDisconnected })
	again := startAgent(t, agent.Config{Server: srv.addr, StateDir: state, Hostname: "h1"})
	if again.ID() != first {
		t.Fatalf("id %q after restart, want %q", again.ID(), first)
	}
	waitFor(t, "connected again", func() bool { return agentStatus(srv, first) == agentgw.StatusConnected })
	other := startAgent(t, agent.Config{Server: srv.addr, Token: token, Hostname: "h1"})
	waitFor(t, "second agent", func() bool { return other.ID() != "" && agentStatus(srv, other.ID()) == agentgw.StatusConnected })
	if other.ID() == first {
		t.Fatal("two state directories share one agent id")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, ok := agent.DialLocal(ctx, state); !ok {
		t.Fatal("restarted agent serves no agent.sock")
	}
}

// TestAgentStartedBeforeServer: an agent that cannot reach its server at
// start keeps trying to enrol, and enrols once the server is up.
func TestAgentStartedBeforeServer(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, "", nil)
	token, addr := srv.token(t, "simulation"), srv.addr
	srv.stop()
	a := startAgent(t, agent.Config{Server: addr, Token: token})
	time.Sleep(300 * time.Millisecond) // let it fail to enrol a few times
	if a.ID() != "" {
		t.Fatal("enrolled with no server")
	}
	srv2 := startServer(t, dir, addr, nil)
	waitFor(t, "enrolled and connected", func() bool { return a.ID() != "" && agentStatus(srv2, a.ID()) == agentgw.StatusConnected })
}

// TestBadTokenEndsTheAgent: a refused join token is not retried.
func TestBadTokenEndsTheAgent(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", nil)
	a, err := agent.New(agent.Config{Server: srv.addr, Token: "bwj_not-a-token", StateDir: shortTempDir(t), Hostname: "h"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "join token is not valid") {
		t.Fatalf("run: %v", err)
	}
}

// TestCertificateRenewedDuringSession: an agent renews its certificate
// over mTLS, without a new session, once two thirds of it are used.
func TestCertificateRenewedDuringSession(t *testing.T) {
	srv := startServer(t, t.TempDir(), "", func(c *agentgw.Config) { c.CertValidity = 3 * time.Second })
	a := startAgent(t, agent.Config{Server: srv.addr, Token: srv.token(t, "simulation")})
	waitFor(t, "connected", func() bool { return a.ID() != "" && agentStatus(srv, a.ID()) == agentgw.StatusConnected })
	first := certNotAfter(t, a.stateDir)
	waitFor(t, "renewed certificate", func() bool { return certNotAfter(t, a.stateDir).After(first) })
	if agentStatus(srv, a.ID()) != agentgw.StatusConnected {
		t.Fatal("renewal ended the session")
	}
}

func certNotAfter(t *testing.T, stateDir string) time.Time {
	t.Helper()
	c, err := pki.ReadCert(filepath.Join(agent.IdentityDir(stateDir), "agent.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return c.NotAfter
}
