//go:build linux

package vmtest_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// envDemo selects a deliberately failing run in a child test process.
const envDemo = "BULWARK_VMTEST_DEMO"

// TestVMFailurePropagates runs this test binary again (a child go test
// process) on TestVMDemo, whose VM run goes wrong on purpose, and checks that
// the child fails with the harness's message: a failing test inside the VM,
// and a VM that does not finish in time (qemu killed), must fail the caller.
func TestVMFailurePropagates(t *testing.T) {
	testutil.Slow(t)
	if vmtest.InVM() || os.Getenv(envDemo) != "" {
		t.Skip("the parent half only")
	}
	vmtest.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		demo string
		want []string
	}{
		{"fail", []string{"--- FAIL: TestInVMDemoFails", "the tests inside the VM failed (exit status 1"}},
		{"timeout", []string{"no exit marker within 2s: qemu"}},
	} {
		t.Run(tc.demo, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^TestVMDemo$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envDemo+"="+tc.demo)
			out, err := cmd.CombinedOutput()
			t.Logf("child output:\n%s", out)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("child exited with %v, want exit status 1", err)
			}
			for _, want := range append(tc.want, "--- FAIL: TestVMDemo") {
				if !strings.Contains(string(out), want) {
					t.Errorf("child output lacks %q", want)
				}
			}
		})
	}
}

// TestVMDemo is the child half of TestVMFailurePropagates.
func TestVMDemo(t *testing.T) {
	demo := os.Getenv(envDemo)
	if demo == "" || vmtest.InVM() {
		t.Skip("run by TestVMFailurePropagates only")
	}
	opts := vmtest.Options{Run: "^TestInVMDemoFails$", Env: []string{envDemo + "=" + demo}}
	if demo == "timeout" {
		opts.Timeout = 2 * time.Second // far less than a boot
	}
	vmtest.Run(t, opts)
}

// TestInVMDemoFails fails inside the VM of TestVMDemo.
func TestInVMDemoFails(t *testing.T) {
	if os.Getenv(envDemo) == "" || !vmtest.InVM() {
		t.Skip("run by TestVMDemo only")
	}
	t.Error("failing on purpose inside the VM")
}
