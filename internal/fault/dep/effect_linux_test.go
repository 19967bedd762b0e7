//go:build linux

package dep_test

import (
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

const httpTarget = "127.0.0.1:9090"

// TestHTTP drives the four faults (卡/吊/死/错) against an HTTP server on
// 127.0.0.1:9090 from an untouched Go client (and curl when installed), and
// checks after each recover that answers are normal and nothing is left
// in nftables or among the processes.
func TestHTTP(t *testing.T) {
	h, ok := sandbox(t)
	if !ok {
		return
	}
	serveHTTP(t, httpTarget)
	m := openManager(t, h)
	url := "http://" + httpTarget + "/"
	_, base, err := get(url, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	before := testutil.Snapshot(t, testutil.SnapshotOptions{ProcRoot: h.ProcRoot})
	curl, _ := exec.LookPath("curl")

	t.Run("slow", func(t *testing.T) {
		f := inject(t, m, "dep.slow", map[string]string{"target": httpTarget, "delay": "300ms"})
		code, took, err := get(url, 5*time.Second)
		if err != nil || code != 200 || took < 300*time.Millisecond {
			helperLogs(t, h)
			t.Fatalf("through dep.slow: %d in %s (direct %s), %v; want 200 after ≥ 300ms", code, took, base, err)
		}
		t.Logf("dep.slow 300ms: %s (direct %s)", took, base)
		if curl != "" {
			start := time.Now()
			out, err := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", url).Output()
			if took := time.Since(start); err != nil || string(out) != "200" || took < 300*time.Millisecond {
				t.Errorf("curl through dep.slow: %q in %s, %v", out, took, err)
			} else {
				t.Logf("curl through dep.slow: %s in %s", out, took)
			}
		}
		recoverFault(t, m, f)
		if code, took, err := get(url, 2*time.Second); err != nil || code != 200 || took > 200*time.Millisecond {
			t.Errorf("after recover: %d in %s, %v", code, took, err)
		}
		waitNoHelpers(t, h, 5*time.Second)
		testutil.AssertUnchanged(t, before)
	})
	t.Run("error", func(t *testing.T) {
		f := inject(t, m, "dep.error", map[string]string{"target": httpTarget, "status": "503", "percent": "100"})
		if code, _, err := get(url, 2*time.Second); err != nil || code != http.StatusServiceUnavailable {
			t.Errorf("through dep.error: %d, %v; want 503", code, err)
		}
		if curl != "" {
			out, _ := exec.Command(curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", url).Output()
			if string(out) != "503" {
				t.Errorf("curl through dep.error printed %q, want 503", out)
			}
		}
		recoverFault(t, m, f)
		if code, _, err := get(url, 2*time.Second); err != nil || code != 200 {
			t.Errorf("after recover: %d, %v", code, err)
		}
		waitNoHelpers(t, h, 5*time.Second)
		testutil.AssertUnchanged(t, before)
	})
	t.Run("down", func(t *testing.T) {
		f := inject(t, m, "dep.down", map[string]string{"target": httpTarget})
		if code, _, err := get(url, 2*time.Second); !isRefusedOrReset(err) {
			t.Errorf("through dep.down: %d, %v; want refused or reset", code, err)
		}
		if curl != "" {
			if err := exec.Command(curl, "-s", "--max-time", "2", url).Run(); err == nil {
				t.Error("curl through dep.down succeeded")
			}
		}
		recoverFault(t, m, f)
		if code, _, err := get(url, 2*time.Second); err != nil || code != 200 {
			t.Errorf("after recover: %d, %v", code, err)
		}
		waitNoHelpers(t, h, 5*time.Second)
		testutil.AssertUnchanged(t, before)
	})
	t.Run("hang", func(t *testing.T) {
		f := inject(t, m, "dep.hang", map[string]string{"target": httpTarget})
		if code, took, err := get(url, 2*time.Second); !isTimeout(err) {
			t.Errorf("through dep.hang: %d in %s, %v; want the client's timeout", code, took, err)
		}
		if curl != "" {
			err := exec.Command(curl, "-s", "--max-time", "2", url).Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 28 {
				t.Errorf("curl --max-time 2 through dep.hang: %v, want exit 28 (timeout)", err)
			}
		}
		recoverFault(t, m, f)
		if code, _, err := get(url, 2*time.Second); err != nil || code != 200 {
			t.Errorf("after recover: %d, %v", code, err)
		}
		waitNoHelpers(t, h, 5*time.Second)
		testutil.AssertUnchanged(t, before)
	})
}
