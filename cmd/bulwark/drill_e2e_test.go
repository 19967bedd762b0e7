//go:build linux

package main_test

import (
	"bytes"
	"context"
	"fmt"
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

// The issue-6 checks, as a user would try them: the real binary, a real
// HTTP service, the dependency faults in transparent mode, inside the
// sandbox.

// serveHTTP starts a service on 127.0.0.1:port in the sandbox.
func serveHTTP(t *testing.T, port int) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

const drillHead = `apiVersion: bulwark/v1
kind: Drill
metadata: {name: e2e, system: shop, environment: simulation}
spec:
  before: 1s
  settle: 1s
  steadyState:
    - name: api
      http: {url: "http://127.0.0.1:9090/", timeout: 1s}
      interval: 100ms
      tolerance: {minSuccessRate: 0.9}
  steps:
`

func writeDrill(t *testing.T, steps string) string {
	p := filepath.Join(t.TempDir(), "drill.yaml")
	if err := os.WriteFile(p, []byte(drillHead+steps), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDrillErrorFaultFailsAndHarmlessPasses(t *testing.T) {
	if !sandbox(t) {
		return
	}
	serveHTTP(t, 9090)
	dir := t.TempDir()
	bad := writeDrill(t, `    - fault: dep.error
      target: {address: "127.0.0.1:9090"}
      params: {status: 500, percent: 100}
      duration: 2s
`)
	junit := filepath.Join(dir, "junit.xml")
	r := run(t, nil, "drill", "run", bad, "--report-dir", dir, "--junit", junit, "--max-after", "5s")
	if r.code != 1 {
		t.Fatalf("dep.error drill: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	j, _ := os.ReadFile(junit)
	if !bytes.Contains(j, []byte("<failure")) || !bytes.Contains(j, []byte("api")) {
		t.Fatalf("JUnit has no failed probe:\n%s", j)
	}
	ok := writeDrill(t, `    - fault: cpu.load
      params: {percent: 10, cores: 1}
      duration: 2s
`)
	if r := run(t, nil, "drill", "run", ok, "--report-dir", dir, "--max-after", "5s"); r.code != 0 {
		t.Fatalf("harmless drill: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if out := mustRun(t, "fault", "list"); out != "" {
		t.Fatalf("faults left:\n%s", out)
	}
}

func TestDrillUnknownFieldExits2NamingTheLine(t *testing.T) {
	if !sandbox(t) {
		return
	}
	p := writeDrill(t, `    - fault: cpu.load
      params: {percent: 10}
      duration: 2s
      colour: red
`)
	r := run(t, nil, "drill", "run", p)
	if r.code != 2 || !strings.Contains(r.stderr, "drill.yaml:16:7") || !strings.Contains(r.stderr, "colour") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDrillAlertGivesMTTD(t *testing.T) {
	if !sandbox(t) {
		return
	}
	serveHTTP(t, 9090)
	dir := t.TempDir()
	p := writeDrill(t, `    - fault: dep.error
      target: {address: "127.0.0.1:9090"}
      params: {status: 503, percent: 100}
      duration: 3s
`)
	go func() { // the monitoring system: an alert one second into the fault
		time.Sleep(2500 * time.Millisecond)
		body := fmt.Sprintf(`{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"ApiDown","system":"shop"},"startsAt":%q,"fingerprint":"f1"}]}`, time.Now().UTC().Format(time.RFC3339Nano))
		for range 20 {
			if resp, err := http.Post("http://127.0.0.1:9393/", "application/json", strings.NewReader(body)); err == nil {
				resp.Body.Close()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	r := run(t, nil, "drill", "run", p, "--report-dir", dir, "--alert-listen", "127.0.0.1:9393", "--max-after", "5s")
	if r.code != 1 || !strings.Contains(r.stdout, "(from alert)") || strings.Contains(r.stdout, "MTTD not detected") {
		t.Fatalf("exit %d, want 1 with an MTTD from the alert\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestDrillCtrlCLeavesNoFault(t *testing.T) {
	if !sandbox(t) {
		return
	}
	serveHTTP(t, 9090)
	p := writeDrill(t, `    - fault: dep.slow
      target: {address: "127.0.0.1:9090"}
      params: {delay: 50ms}
      duration: 30s
`)
	before := testutil.Snapshot(t, testutil.SnapshotOptions{NoProcs: true})
	cmd := exec.Command(os.Getenv(binEnv), "drill", "run", p, "--report-dir", t.TempDir())
	cmd.Env = append(os.Environ(), "BULWARK_STATE_DIR="+testutil.SandboxPaths(t).StateDir)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !strings.Contains(out.String(), "fault.active") && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Fatalf("no interrupted verdict:\n%s", out.String())
	}
	if live := mustRun(t, "fault", "list"); live != "" {
		t.Fatalf("faults left after Ctrl-C:\n%s", live)
	}
	testutil.AssertUnchanged(t, before)
}

// lockedBuffer is a bytes.Buffer safe to read while a command writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
