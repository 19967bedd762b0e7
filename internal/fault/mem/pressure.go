package mem

import (
	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(PressureKind{}) }

// PressureKind is the mem.pressure fault kind: a helper joins the target's
// memory cgroup before it maps anything and fills memory there, so the
// cgroup's limit and reclaim press on the target and the helper together.
type PressureKind struct{}

// PressureParams are mem.pressure's parameters.
type PressureParams struct {
	PID         int              `param:"pid,target" help:"a process whose memory cgroup to press on (or --cgroup)"`
	Cgroup      string           `param:"cgroup,target" help:"the memory cgroup directory to press on, under the memory controller's mount (or --pid)"`
	Size        bulwark.ByteSize `param:"size" unit:"bytes" help:"memory to charge to the cgroup (or --percent)"`
	Percent     bulwark.Percent  `param:"percent" unit:"%" min:"0" max:"100" help:"memory to charge as a percentage of the cgroup's memory limit (or --size)"`
	Rate        bulwark.ByteRate `param:"rate" unit:"bytes/s" help:"ramp: fill at most this much per second; 0 fills at once"`
	OOMScoreAdj int              `param:"oom-score-adj" default:"1000" min:"-1000" max:"1000" help:"the helper's oom_score_adj: 1000 makes the cgroup's OOM killer pick the helper first; lower it when the drill wants the target killed"`
	Reserve     bulwark.ByteSize `param:"reserve" unit:"bytes" help:"host memory available that must remain; a larger size is refused (default: the larger of 5 % of total memory and 256 MiB)"`
}

// Validate implements fault.Validator.
func (p *PressureParams) Validate() error {
	switch {
	case p.PID != 0 && p.Cgroup != "":
		return &fault.ParamError{Param: "cgroup", Message: "give --pid or --cgroup, not both"}
	case p.PID == 0 && p.Cgroup == "":
		return &fault.ParamError{Param: "pid", Message: "is required (or give --cgroup PATH)"}
	case p.PID < 0:
		return &fault.ParamError{Param: "pid", Message: "is negative"}
	}
	return validateAmount(p.Size, p.Percent, p.Rate, p.Reserve)
}

// Info implements fault.Kind.
func (PressureKind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             PressureID,
		Summary:        "Press on a process's memory cgroup: a helper joins it and holds touched anonymous memory charged to it (size or percent of its limit)",
		SummaryZH:      "对进程所在的内存 cgroup 施压：辅助进程加入该 cgroup 并占用计入其中的匿名内存（按大小或其限额的百分比）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 1,
		NewParams:      func() any { return &PressureParams{} },
	}
}

var (
	_ fault.Kind      = PressureKind{}
	_ fault.Validator = (*PressureParams)(nil)
)
