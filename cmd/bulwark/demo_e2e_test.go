//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/testutil"
)

// TestDemoOnce runs the README's first command as a newcomer would (the
// built binary, no root needed, nothing else set up) and checks that every
// drill of the programme ends with a verdict and reports. The verdicts
// themselves depend on latency budgets and are not asserted here.
func TestDemoOnce(t *testing.T) {
	testutil.Slow(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Getenv(binEnv), "demo", "--once", "--report-dir", filepath.Join(dir, "reports"))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo --once: %v\n%s", err, out)
	}
	for _, drill := range []string{"quotes-slow", "quotes-hang", "quotes-down", "quotes-error", "host-cpu"} {
		line := ""
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, drill+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "passed") && !strings.Contains(line, "failed") && !strings.Contains(line, "aborted") {
			t.Errorf("%s: no verdict in the summary: %q", drill, line)
		}
	}
	html, _ := filepath.Glob(filepath.Join(dir, "reports", "*.zh-CN.html"))
	if len(html) != 5 {
		t.Fatalf("%d zh-CN HTML reports, want 5\n%s", len(html), out)
	}
}
