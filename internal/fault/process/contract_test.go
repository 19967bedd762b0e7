//go:build linux

package process_test

import (
	"os/exec"
	"strconv"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

func TestMain(m *testing.M) { faulttest.Main(m) }

func TestContract(t *testing.T) {
	var pid int
	state := func(t *testing.T, h *fault.Host) byte {
		st, err := h.ReadProcStat(pid)
		if err != nil {
			t.Fatalf("read target: %v", err)
		}
		return st.State
	}
	faulttest.Run(t, "process.hang", faulttest.Case{
		Name: "sleep",
		Setup: func(t *testing.T, h *fault.Host) map[string]string {
			cmd := exec.Command("sleep", "600")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			pid = cmd.Process.Pid
			return map[string]string{"pid": strconv.Itoa(pid)}
		},
		Effect: func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
			if s := state(t, h); s != 'T' {
				t.Fatalf("target in state %c, want T", s)
			}
		},
		Gone: func(t *testing.T, h *fault.Host) {
			if s := state(t, h); s == 'T' {
				t.Fatal("target still stopped")
			}
		},
	})
}
