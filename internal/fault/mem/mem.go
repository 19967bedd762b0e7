package mem

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(FillKind{}) }

// The kinds' identifiers.
const (
	FillID     = "mem.fill"
	PressureID = "mem.pressure"
)

// helperName is the helper entry point: `bulwark helper mem-fill …`.
const helperName = "mem-fill"

// Defaults of the reserve of available memory that must remain.
const (
	reservePercent = 5
	reserveMin     = 256 << 20
)

// FillKind is the mem.fill fault kind.
type FillKind struct{}

// FillParams are mem.fill's parameters.
type FillParams struct {
	Size        bulwark.ByteSize `param:"size" unit:"bytes" help:"memory to fill (or --percent)"`
	Percent     bulwark.Percent  `param:"percent" unit:"%" min:"0" max:"100" help:"memory to fill as a percentage of --of (or --size)"`
	Of          string           `param:"of" default:"total" enum:"total,available" help:"what --percent is of: total memory (MemTotal) or the memory available now (MemAvailable)"`
	Rate        bulwark.ByteRate `param:"rate" unit:"bytes/s" help:"ramp: fill at most this much per second; 0 fills at once"`
	OOMScoreAdj int              `param:"oom-score-adj" default:"1000" min:"-1000" max:"1000" help:"the helper's oom_score_adj: 1000 makes the kernel's OOM killer pick it first; lower it when the drill wants others killed"`
	Mlock       bool             `param:"mlock" help:"lock the filled pages in RAM (mlock), so they are never swapped out"`
	Reserve     bulwark.ByteSize `param:"reserve" unit:"bytes" help:"available memory that must remain; a larger fill is refused, and the helper stops growing at it (default: the larger of 5 % of total memory and 256 MiB)"`
}

// Validate implements fault.Validator.
func (p *FillParams) Validate() error {
	return validateAmount(p.Size, p.Percent, p.Rate, p.Reserve)
}

func validateAmount(size bulwark.ByteSize, pct bulwark.Percent, rate bulwark.ByteRate, reserve bulwark.ByteSize) error {
	switch {
	case size < 0:
		return &fault.ParamError{Param: "size", Message: fmt.Sprintf("%d is negative", size)}
	case size == 0 && pct == 0:
		return &fault.ParamError{Param: "size", Message: "give --size or --percent"}
	case size != 0 && pct != 0:
		return &fault.ParamError{Param: "percent", Message: "give --size or --percent, not both"}
	case rate < 0:
		return &fault.ParamError{Param: "rate", Message: "is negative"}
	case reserve < 0:
		return &fault.ParamError{Param: "reserve", Message: "is negative"}
	}
	return nil
}

// Info implements fault.Kind.
func (FillKind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             FillID,
		Summary:        "Hold an exact amount of memory in a helper process (touched anonymous pages, optional ramp, OOM score set)",
		SummaryZH:      "由辅助进程占用精确数量的内存（已触及的匿名页，可选逐步增长，设置 OOM 分数）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 1,
		Composes:       true,
		NewParams:      func() any { return &FillParams{} },
	}
}

// receiptV1 is version 1 of the undo record of both kinds.
type receiptV1 struct {
	Kind        string      `json:"kind"`
	Fault       string      `json:"fault"`
	Bytes       int64       `json:"bytes"`
	Rate        int64       `json:"rate,omitempty"`
	OOMScoreAdj int         `json:"oomScoreAdj"`
	Mlock       bool        `json:"mlock,omitempty"`
	Reserve     int64       `json:"reserve"`
	Deadline    time.Time   `json:"deadline"`
	Exe         string      `json:"exe"`
	Helper      *fault.Proc `json:"helper,omitempty"`
	// mem.pressure: the target and the memory cgroup the helper joins.
	Target  *fault.Proc `json:"target,omitempty"`
	Cgroup  string      `json:"cgroup,omitempty"`
	Procs   string      `json:"procs,omitempty"` // the cgroup's cgroup.procs file
	Limit   int64       `json:"limit,omitempty"`
	Version int         `json:"cgroupVersion,omitempty"`
}

// decodeReceipt reads any receipt version this binary knows.
func decodeReceipt(r *fault.Receipt) (receiptV1, error) {
	var d receiptV1
	if r.Version != 1 {
		return d, fmt.Errorf("decode %s receipt: version %d is newer than this binary's 1", r.Kind, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if !fault.ValidFaultID(d.Fault) || d.Exe == "" || d.Bytes <= 0 {
		return d, fmt.Errorf("decode %s receipt: no fault id, helper executable or size", r.Kind)
	}
	if d.Procs != "" && (!filepath.IsAbs(d.Cgroup) || d.Procs != filepath.Join(d.Cgroup, "cgroup.procs")) {
		return d, fmt.Errorf("decode %s receipt: cgroup.procs %q is not that of cgroup %q", r.Kind, d.Procs, d.Cgroup)
	}
	return d, nil
}

// dataDir is where the fault's status file and helper log live.
func dataDir(h *fault.Host, id string) string { return filepath.Join(h.StateDir, "data", id) }

// statusPath is the helper's status file.
func statusPath(h *fault.Host, id string) string { return filepath.Join(dataDir(h, id), "status.json") }

// helperArgs is the helper's command line after the executable; the fault id
// comes first so strays can be matched by a fixed prefix.
func helperArgs(d receiptV1, status string) []string {
	args := []string{
		"helper", helperName,
		"--fault", d.Fault,
		"--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--bytes", fmt.Sprint(d.Bytes),
		"--rate", fmt.Sprint(d.Rate),
		"--oom-score-adj", fmt.Sprint(d.OOMScoreAdj),
		"--reserve", fmt.Sprint(d.Reserve),
		"--status", status,
	}
	if d.Mlock {
		args = append(args, "--mlock")
	}
	if d.Procs != "" {
		args = append(args, "--cgroup-procs", d.Procs)
	}
	return args
}

func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
