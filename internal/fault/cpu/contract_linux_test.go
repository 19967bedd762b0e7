package cpu_test

import (
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/cpu"
	"github.com/bulwarkhq/bulwark/internal/fault/faulttest"
)

func TestContract(t *testing.T) {
	effect := func(t *testing.T, h *fault.Host, f *bulwark.Fault) {
		p := onlyHelper(t, h, f.ID)
		c0, t0 := taskCPU(t, h, p.PID), time.Now()
		time.Sleep(200 * time.Millisecond)
		if got := float64(taskCPU(t, h, p.PID)-c0) / float64(time.Since(t0)) * 100; got < 2 {
			t.Errorf("helper used %.1f %% of a core, want it burning", got)
		}
	}
	gone := func(t *testing.T, h *fault.Host) {
		if ps := helperProcs(t, h, ""); len(ps) > 0 {
			t.Errorf("cpu-burn helpers still run: %v", ps)
		}
	}
	faulttest.Run(t, cpu.ID,
		faulttest.Case{
			Name: "add",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				sandboxHost(t, h)
				return map[string]string{"percent": "20"}
			},
			Effect: effect,
			Gone:   gone,
		},
		faulttest.Case{
			Name: "hold",
			Setup: func(t *testing.T, h *fault.Host) map[string]string {
				sandboxHost(t, h)
				return map[string]string{"percent": "20", "mode": "hold"}
			},
			Effect: effect,
			Gone:   gone,
		},
	)
}
