//go:build linux

package vmtest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/testutil"
	"github.com/bulwarkhq/bulwark/internal/vmtest"
)

// envDemoFail selects the deliberately failing run in a child test process.
const envDemoFail = "BULWARK_VMTEST_DEMO_FAIL"

// TestVMFailurePropagates runs this test binary again (a child go test
// process) on TestVMDemoFail, whose VM runs a test that fails on purpose, and
// checks that the child fails with the harness's message: a failure inside
// the VM must fail the caller.
func TestVMFailurePropagates(t *testing.T) {
	testutil.Slow(t)
	if vmtest.InVM() || os.Getenv(envDemoFail) != "" {
		t.Skip("the parent half only")
	}
	vmtest.Require(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestVMDemoFail$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), envDemoFail+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child output:\n%s", out)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("child exited with %v, want exit status 1", err)
	}
	for _, want := range []string{"--- FAIL: TestInVMDemoFails", "the tests inside the VM failed (exit status 1", "--- FAIL: TestVMDemoFail"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}

// TestVMDemoFail is the child half of TestVMFailurePropagates.
func TestVMDemoFail(t *testing.T) {
	if os.Getenv(envDemoFail) == "" || vmtest.InVM() {
		t.Skip("run by TestVMFailurePropagates only")
	}
	vmtest.Run(t, vmtest.Options{Run: "^TestInVMDemoFails$", Env: []string{envDemoFail + "=1"}})
}

// TestInVMDemoFails fails inside the VM of TestVMDemoFail.
func TestInVMDemoFails(t *testing.T) {
	if os.Getenv(envDemoFail) == "" || !vmtest.InVM() {
		t.Skip("run by TestVMDemoFail only")
	}
	t.Error("failing on purpose inside the VM")
}
