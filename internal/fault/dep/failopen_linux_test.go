//go:build linux

package dep_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// helperPID returns the pid of the fault's proxy helper from its receipt.
func helperPID(t *testing.T, m interface {
	Receipt(context.Context, string) (*fault.Receipt, error)
}, id string) int {
	t.Helper()
	r, err := m.Receipt(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Helper fault.Proc `json:"helper"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.Helper.PID == 0 {
		t.Fatalf("no helper in receipt: %v %s", err, r.Data)
	}
	return d.Helper.PID
}

// TestFailOpen SIGKILLs the proxy helper during dep.slow: with no bulwark
// process acting, new connections go direct again within about the element
// timeout (5 s) instead of failing.
func TestFailOpen(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	serveHTTP(t, httpTarget)
	m := openManager(t, h)
	url := "http://" + httpTarget + "/"
	f := inject(t, m, "dep.slow", map[string]string{"target": httpTarget, "delay": "300ms"})
	if _, took, err := get(url, 5*time.Second); err != nil || took < 300*time.Millisecond {
		t.Fatalf("dep.slow not in effect: %s %v", took, err)
	}
	pid := helperPID(t, m, f.ID)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var failures int
	for {
		code, took, err := get(url, time.Second)
		if err == nil && code == 200 && took < 100*time.Millisecond {
			break
		}
		if err != nil {
			failures++
		}
		if time.Since(killed) > 8*time.Second {
			t.Fatalf("traffic still not direct %s after SIGKILL of the proxy: %d %s %v", time.Since(killed), code, took, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("direct again %s after SIGKILL of the proxy helper (%d failed requests meanwhile: connections redirected to the dead port)", time.Since(killed).Round(time.Millisecond), failures)
	if since := time.Since(killed); since > 6500*time.Millisecond {
		t.Errorf("fail-open took %s, want about the 5 s element timeout", since)
	}
	// Status reports the drift; recover still cleans up.
	k, _ := fault.Lookup("dep.slow")
	r, _ := m.Receipt(context.Background(), f.ID)
	if _, err := k.(fault.Statuser).Status(context.Background(), h, r); err == nil {
		t.Error("Status of a fault whose helper died reports no drift")
	} else {
		t.Logf("status: %v", err)
	}
	recoverFault(t, m, f)
}

// TestDrainOnRecover opens a long-lived connection during dep.slow and
// checks that it keeps working (through the proxy, without the fault) after
// recover, while new connections go direct.
func TestDrainOnRecover(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	const target = "127.0.0.1:6391"
	serveRESP(t, target)
	m := openManager(t, h)
	f := inject(t, m, "dep.slow", map[string]string{"target": target, "delay": "200ms"})
	c, err := net.Dial("tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ping := func() (string, time.Duration) {
		t.Helper()
		start := time.Now()
		_ = c.SetDeadline(start.Add(5 * time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			t.Fatalf("write on the long-lived connection: %v", err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			helperLogs(t, h)
			t.Fatalf("read on the long-lived connection: %v", err)
		}
		return strings.TrimSpace(line), time.Since(start)
	}
	if reply, took := ping(); reply != "+PONG" || took < 200*time.Millisecond {
		t.Fatalf("during the fault: %q in %s", reply, took)
	}
	t.Log("recovering")
	recoverFault(t, m, f)
	for i := range 3 {
		if reply, took := ping(); reply != "+PONG" || took > 100*time.Millisecond {
			t.Errorf("after recover #%d: %q in %s, want a fast PONG on the same connection", i, reply, took)
		}
	}
	if reply, took, err := redisPing(target, time.Second); err != nil || took > 100*time.Millisecond {
		t.Errorf("new connection after recover: %q in %s, %v", reply, took, err)
	}
	c.Close()
	waitNoHelpers(t, h, 5*time.Second) // the helper exits once its last connection ends
}

// TestRefreshKeepsElements checks the helper's element refresh on this
// kernel: after three element timeouts the fault is still in effect, and the
// status file says how the refresh was done.
func TestRefreshKeepsElements(t *testing.T) {
	testutil.Slow(t)
	h, ok := sandbox(t)
	if !ok {
		return
	}
	serveHTTP(t, httpTarget)
	m := openManager(t, h)
	f := inject(t, m, "dep.slow", map[string]string{"target": httpTarget, "delay": "100ms"})
	time.Sleep(16 * time.Second)
	if _, took, err := get("http://"+httpTarget+"/", 5*time.Second); err != nil || took < 100*time.Millisecond {
		t.Errorf("after 16 s: %s %v, want the fault still in effect", took, err)
	}
	b, _ := os.ReadFile(filepath.Join(h.StateDir, "data", f.ID, "status.json"))
	t.Logf("helper status: %s", b)
	if !strings.Contains(string(b), `"refreshMode":"delete+add"`) {
		t.Errorf("refresh mode not delete+add: %s", b)
	}
	recoverFault(t, m, f)
}

// TestContract runs the kind contract suite for dep.slow and dep.down.
func TestContract(t *testing.T) {
	setup := func(extra map[string]string) func(t *testing.T, h *fault.Host) map[string]string {
		return func(t *testing.T, h *fault.Host) map[string]string {
			fixExe(h)
			serveHTTP(t, "127.0.0.1:9091")
			p := map[string]string{"target": "127.0.0.1:9091"}
			for k, v := range extra {
				p[k] = v
			}
			return p
		}
	}
	direct := func(t *testing.T, _ *fault.Host) {
		if code, took, err := get("http://127.0.0.1:9091/", 2*time.Second); err != nil || code != 200 || took > 200*time.Millisecond {
			t.Errorf("after recover: %d in %s, %v", code, took, err)
		}
	}
	faulttest.Run(t, "dep.slow", faulttest.Case{
		Name:  "http delay",
		Setup: setup(map[string]string{"delay": "200ms"}),
		Effect: func(t *testing.T, _ *fault.Host, _ *bulwark.Fault) {
			if code, took, err := get("http://127.0.0.1:9091/", 5*time.Second); err != nil || code != 200 || took < 200*time.Millisecond {
				t.Errorf("through dep.slow: %d in %s, %v", code, took, err)
			}
		},
		Gone: direct,
	})
	faulttest.Run(t, "dep.down", faulttest.Case{
		Name:  "reset existing",
		Setup: setup(map[string]string{"reset-existing": "true"}),
		Effect: func(t *testing.T, _ *fault.Host, _ *bulwark.Fault) {
			if _, _, err := get("http://127.0.0.1:9091/", 2*time.Second); !isRefusedOrReset(err) {
				t.Errorf("through dep.down: %v, want refused or reset", err)
			}
		},
		Gone: direct,
	})
}

// TestResetExisting opens a direct connection before dep.down
// --reset-existing and checks that the fault resets it.
func TestResetExisting(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	const target = "127.0.0.1:6392"
	serveRESP(t, target)
	m := openManager(t, h)
	ping := dialDirect(t, target)
	f := inject(t, m, "dep.down", map[string]string{"target": target, "reset-existing": "true"})
	if err := ping(); err == nil {
		t.Error("the existing direct connection still works under dep.down --reset-existing")
	} else {
		t.Logf("existing connection: %v", err)
	}
	if !hasEvidence(f, "reset-existing", "1 reset") {
		t.Errorf("no evidence of one reset connection: %+v", f.Evidence)
	}
	recoverFault(t, m, f)
}

// TestExistingConnectionStaysDirect opens a connection before dep.down
// (without --reset-existing) and checks that it keeps working, direct, while
// a new one is refused: only a SYN is redirected, so a connection conntrack
// first meets mid-stream is not sent to a proxy that would reset it.
func TestExistingConnectionStaysDirect(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	const target = "127.0.0.1:6393"
	serveRESP(t, target)
	m := openManager(t, h)
	ping := dialDirect(t, target)
	f := inject(t, m, "dep.down", map[string]string{"target": target})
	if !hasEvidence(f, "existing-connections", "1 connection(s)") {
		t.Errorf("no evidence of one existing connection left direct: %+v", f.Evidence)
	}
	for i := range 3 {
		if err := ping(); err != nil {
			t.Fatalf("existing connection, ping %d under dep.down: %v", i+1, err)
		}
	}
	if reply, _, err := redisPing(target, 2*time.Second); err == nil && reply == "+PONG" {
		t.Error("a new connection works under dep.down")
	}
	recoverFault(t, m, f)
}

// TestResetExistingSlow checks --reset-existing on a kind other than
// dep.down: a pooled client's open connection is reset, so its next one
// goes through the proxy and meets the delay.
func TestResetExistingSlow(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	const target = "127.0.0.1:6394"
	serveRESP(t, target)
	m := openManager(t, h)
	ping := dialDirect(t, target)
	f := inject(t, m, "dep.slow", map[string]string{"target": target, "delay": "300ms", "reset-existing": "true"})
	if err := ping(); err == nil {
		t.Error("the existing direct connection still works after dep.slow --reset-existing")
	}
	if reply, took, err := redisPing(target, 2*time.Second); err != nil || reply != "+PONG" || took < 300*time.Millisecond {
		t.Errorf("a new connection: %q in %v (%v), want +PONG after ≥ 300ms", reply, took, err)
	}
	if !hasEvidence(f, "reset-existing", "1 reset") {
		t.Errorf("no evidence of one reset connection: %+v", f.Evidence)
	}
	recoverFault(t, m, f)
}

// dialDirect opens a connection to the RESP server at target, checks it
// answers, and returns a ping over that same connection (nil when +PONG
// came back within 2 s).
func dialDirect(t *testing.T, target string) (ping func() error) {
	t.Helper()
	c, err := net.Dial("tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	ping = func() error {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			return err
		}
		reply, err := r.ReadString('\n')
		if err == nil && reply != "+PONG\r\n" {
			err = fmt.Errorf("reply %q", reply)
		}
		return err
	}
	if err := ping(); err != nil {
		t.Fatalf("ping before the fault: %v", err)
	}
	return ping
}

// hasEvidence reports whether f has a passing evidence line of check whose
// detail contains part.
func hasEvidence(f *bulwark.Fault, check, part string) bool {
	for _, e := range f.Evidence {
		if e.Check == check && e.OK && strings.Contains(e.Detail, part) {
			return true
		}
	}
	return false
}
