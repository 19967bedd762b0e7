//go:build linux

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// The control plane's failure tests (issue 7, item 10), with the real
// binary: a server and agents as separate processes inside the sandbox,
// agents in network namespaces of their own where a partition is needed.

const (
	e2eAdminToken = "bwk_e2e-admin-token-0123456789-0123456789"
	e2eJoinToken  = "bwj-e2e-join-token-0123456789"
	e2eLease      = 3 * time.Second
)

// cpServer is a `bulwark server` process.
type cpServer struct {
	t         *testing.T
	cmd       *exec.Cmd
	api       string // http://HOST:PORT
	agentAddr string // HOST:PORT
	dataDir   string
	log       *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer starts a server with its data in dataDir (kept across
// restarts), its API on loopback and its agent gateway on agentHost.
func startServer(t *testing.T, dataDir, agentHost string, apiPort, agentPort int) *cpServer {
	t.Helper()
	if apiPort == 0 {
		apiPort = freePort(t, "127.0.0.1")
	}
	if agentPort == 0 {
		agentPort = freePort(t, agentHost)
	}
	s := &cpServer{t: t, dataDir: dataDir, log: &syncBuffer{},
		api: fmt.Sprintf("http://127.0.0.1:%d", apiPort), agentAddr: net.JoinHostPort(agentHost, fmt.Sprint(agentPort))}
	s.cmd = exec.Command(os.Getenv(binEnv), "server", "--data-dir", dataDir,
		"--listen", fmt.Sprintf("127.0.0.1:%d", apiPort), "--agent-listen", s.agentAddr, "--lease", e2eLease.String())
	s.cmd.Env = append(os.Environ(), "BULWARK_ADMIN_TOKEN="+e2eAdminToken, "BULWARK_AGENT_TOKEN="+e2eJoinToken)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(s.api + "/healthz"); err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer /healthz:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs the server (idempotent).
func (s *cpServer) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// call sends a JSON (or YAML, for []byte) request as token and decodes the
// answer into out; it returns the status code.
func (s *cpServer) call(method, path, token string, body, out any) int {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type e2eAgent struct {
	ID, Hostname, Status string
	Labels               map[string]string
}

// agents lists the agents the server knows.
func (s *cpServer) agents() []e2eAgent {
	s.t.Helper()
	var out struct{ Agents []e2eAgent }
	if code := s.call("GET", "/api/v1/agents", e2eAdminToken, nil, &out); code != http.StatusOK {
		s.t.Fatalf("GET agents: %d", code)
	}
	return out.Agents
}

// waitAgent waits until the agent with rack=rack has status want.
func (s *cpServer) waitAgent(rack, want string, limit time.Duration) e2eAgent {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		for _, a := range s.agents() {
			if a.Labels["rack"] == rack && a.Status == want {
				return a
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("agent rack=%s not %s within %s: %+v\nserver log:\n%s", rack, want, limit, s.agents(), s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inject asks for process.hang on pid on the agents with rack=rack.
func (s *cpServer) inject(rack string, pid int, duration string) string {
	s.t.Helper()
	var out struct {
		Faults []struct{ ID, State, Error string }
	}
	body := map[string]any{"kind": "process.hang", "params": map[string]any{"pid": pid}, "duration": duration,
		"select": map[string]any{"labels": map[string]string{"rack": rack}, "mode": "all"}}
	code := s.call("POST", "/api/v1/faults", e2eAdminToken, body, &out)
	if code != http.StatusCreated || len(out.Faults) != 1 || out.Faults[0].State != "active" {
		s.t.Fatalf("inject on rack=%s: %d %+v\nserver log:\n%s", rack, code, out, s.log)
	}
	return out.Faults[0].ID
}

// startAgent starts `bulwark agent` with rack=rack, in netns when not nil.
func startAgent(t *testing.T, server, rack, stateDir string, ns *testutil.NetNS) *exec.Cmd {
	t.Helper()
	args := []string{"agent", "--server", server, "--token", e2eJoinToken, "--state-dir", stateDir,
		"--labels", "rack=" + rack, "--lease", e2eLease.String()}
	bin := os.Getenv(binEnv)
	if ns != nil {
		args = append([]string{"--net=" + ns.Path, "--", bin}, args...)
		bin = "nsenter"
	}
	cmd := exec.Command(bin, args...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("agent rack=%s log:\n%s", rack, log)
		}
	})
	return cmd
}

func TestServerKilledMidRunAgentsRecoverByLeaseAndRestartClosesTheRun(t *testing.T) {
	if !sandbox(t) {
		return
	}
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "server"), "127.0.0.1", 0, 0)
	startAgent(t, srv.agentAddr, "u1", filepath.Join(dir, "a1"), nil)
	srv.waitAgent("u1", "connected", 20*time.Second)
	sleeper := startSleeper(t)

	drillFile := []byte(fmt.Sprintf(`apiVersion: bulwark/v1
kind: Drill
metadata: { name: long-hang, system: sandbox, environment: simulation }
spec:
  before: 1s
  settle: 1s
  steps:
    - name: hang
      fault: process.hang
      params: { pid: %d }
      select: { labels: { rack: u1 } }
      duration: 5m
`, sleeper.Process.Pid))
	var sub struct {
		Submission struct{ ID, State, RunID string }
		Run        *struct{ ID, State, Verdict, Reason string }
	}
	if code := srv.call("POST", "/api/v1/runs?name=long-hang.yaml", e2eAdminToken, drillFile, &sub); code != http.StatusCreated {
		t.Fatalf("submit: %d %+v\n%s", code, sub, srv.log)
	}
	waitStopped(t, sleeper.Process.Pid, true, 30*time.Second)
	srv.kill()

	took := waitStopped(t, sleeper.Process.Pid, false, e2eLease+10*time.Second)
	t.Logf("the agent recovered %s after the server was killed (lease %s)", took, e2eLease)

	port := strings.TrimPrefix(srv.api, "http://127.0.0.1:")
	var apiPort, agentPort int
	fmt.Sscan(port, &apiPort)
	fmt.Sscan(srv.agentAddr[strings.LastIndexByte(srv.agentAddr, ':')+1:], &agentPort)
	srv2 := startServer(t, srv.dataDir, "127.0.0.1", apiPort, agentPort)
	deadline := time.Now().Add(90 * time.Second)
	for {
		srv2.call("GET", "/api/v1/runs/"+sub.Submission.RunID, e2eAdminToken, nil, &sub)
		if sub.Run != nil && sub.Run.State == "finished" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted server did not close run %s: %+v\n%s", sub.Submission.RunID, sub.Run, srv2.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if sub.Run.Verdict != "error" {
		t.Fatalf("closed run: verdict %s (%s), want error", sub.Run.Verdict, sub.Run.Reason)
	}
	if procState(t, sleeper.Process.Pid) == 'T' {
		t.Fatal("the sleeper is stopped again after the restart")
	}
}

func TestAgentKilledItsFaultEndsAtExpiryByTheGuard(t *testing.T) {
	if !sandbox(t) {
		return
	}
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "server"), "127.0.0.1", 0, 0)
	agent := startAgent(t, srv.agentAddr, "u1", filepath.Join(dir, "a1"), nil)
	srv.waitAgent("u1", "connected", 20*time.Second)
	sleeper := startSleeper(t)
	srv.inject("u1", sleeper.Process.Pid, "4s")
	waitStopped(t, sleeper.Process.Pid, true, 5*time.Second)
	agent.Process.Kill()
	agent.Wait()
	start := time.Now()
	waitStopped(t, sleeper.Process.Pid, false, 20*time.Second)
	t.Logf("fault ended %s after the agent was SIGKILLed (duration 4s)", time.Since(start))
}

func TestAgentCutOffRecoversAfterLeaseAndComesBackClean(t *testing.T) {
	if !sandbox(t) {
		return
	}
	testutil.Require(t, "nftables")
	dir := t.TempDir()
	hostNS := testutil.SandboxNetNS(t)
	agentNS := testutil.NewNetNS(t)
	testutil.Veth(t, hostNS, agentNS, "10.77.0.1/24", "10.77.0.2/24")
	srv := startServer(t, filepath.Join(dir, "server"), "10.77.0.1", 0, 0)
	startAgent(t, srv.agentAddr, "u1", filepath.Join(dir, "a1"), agentNS)
	a := srv.waitAgent("u1", "connected", 20*time.Second)
	sleeper := startSleeper(t)
	srv.inject("u1", sleeper.Process.Pid, "60s")
	waitStopped(t, sleeper.Process.Pid, true, 5*time.Second)

	// Cut the agent off: drop everything between it and the server, in
	// the agent's namespace.
	cut := exec.Command("nsenter", "--net="+agentNS.Path, "ip", "link", "set", "dev", vethIn(t, agentNS), "down")
	if out, err := cut.CombinedOutput(); err != nil {
		t.Fatalf("cut: %v %s", err, out)
	}
	took := waitStopped(t, sleeper.Process.Pid, false, e2eLease+10*time.Second)
	t.Logf("cut off: the agent recovered its fault %s after the cut (lease %s)", took, e2eLease)
	srv.waitAgent("u1", "lost", 20*time.Second)

	up := exec.Command("nsenter", "--net="+agentNS.Path, "ip", "link", "set", "dev", vethIn(t, agentNS), "up")
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	back := srv.waitAgent("u1", "connected", 60*time.Second)
	if back.ID != a.ID {
		t.Fatalf("the agent came back as %s, not %s", back.ID, a.ID)
	}
	time.Sleep(2 * time.Second) // a resent desired set would be applied by now
	if procState(t, sleeper.Process.Pid) == 'T' {
		t.Fatal("the agent came back and re-injected a fault whose lease had lapsed")
	}
}

// vethIn returns the name of the veth end inside ns.
func vethIn(t *testing.T, ns *testutil.NetNS) string {
	t.Helper()
	links, err := testutil.NetlinkHandle(t, ns.FD).LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, "bwb") {
			return l.Attrs().Name
		}
	}
	t.Fatal("no veth in the agent's namespace")
	return ""
}

func TestHaltWithAnUnresponsiveAgentSaysWhich(t *testing.T) {
	if !sandbox(t) {
		return
	}
	dir := t.TempDir()
	srv := startServer(t, filepath.Join(dir, "server"), "127.0.0.1", 0, 0)
	var agents []*exec.Cmd
	for _, rack := range []string{"u1", "u2", "u3"} {
		agents = append(agents, startAgent(t, srv.agentAddr, rack, filepath.Join(dir, rack), nil))
		srv.waitAgent(rack, "connected", 20*time.Second)
	}
	var sleepers []*exec.Cmd
	for _, rack := range []string{"u1", "u2", "u3"} {
		s := startSleeper(t)
		sleepers = append(sleepers, s)
		srv.inject(rack, s.Process.Pid, "60s")
	}
	stuck := srv.waitAgent("u3", "connected", time.Second)
	agents[2].Process.Signal(syscall.SIGSTOP) // alive, holding its stream, answering nothing

	var out struct {
		Recovered   []struct{ ID, Agent string }
		NotAnswered []string
		Agents      int
	}
	start := time.Now()
	if code := srv.call("POST", "/api/v1/halt", e2eAdminToken, nil, &out); code != http.StatusOK {
		t.Fatalf("halt: %d", code)
	}
	t.Logf("halt answered in %s: %d agents, %d recovered, not answered %v", time.Since(start), out.Agents, len(out.Recovered), out.NotAnswered)
	if out.Agents != 3 || len(out.Recovered) != 2 || len(out.NotAnswered) != 1 || !strings.Contains(out.NotAnswered[0], stuck.ID) {
		t.Fatalf("halt report %+v, want 2 recovered and the stopped agent %s named", out, stuck.ID)
	}
	for _, s := range sleepers[:2] {
		if procState(t, s.Process.Pid) == 'T' {
			t.Fatalf("pid %d still stopped after the halt", s.Process.Pid)
		}
	}
	// The unresponsive agent's fault ends by its own lease once it runs again.
	agents[2].Process.Signal(syscall.SIGCONT)
	waitStopped(t, sleepers[2].Process.Pid, false, e2eLease+10*time.Second)
}
