package cpu

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Kind{}) }

// ID is the kind's identifier.
const ID = "cpu.load"

// The modes of cpu.load.
const (
	// ModeAdd adds --percent of load on each of --cores cores.
	ModeAdd = "add"
	// ModeHold keeps the total usage of --cores cores at --percent, burning
	// only the difference to the other load on them.
	ModeHold = "hold"
)

// helperName is the helper entry point: `bulwark helper cpu-burn …`.
const helperName = "cpu-burn"

// holdResource is the resource a hold fault claims, so that two holds never
// fight over the same cores; add faults compose and claim nothing.
const holdResource = "cpu.load:hold"

// Kind is the cpu.load fault kind. It is stateless; a fault's state lives in
// its receipt.
type Kind struct{}

// Params are cpu.load's parameters.
type Params struct {
	Percent bulwark.Percent `param:"percent,required" unit:"%" min:"0" max:"100" help:"load to add on each core (add), or total usage to keep the cores at (hold); above 0, at most 100"`
	Cores   int             `param:"cores" default:"1" min:"1" help:"how many cores to load; at most the number of CPUs this host (or its cpuset) has"`
	Mode    string          `param:"mode" default:"add" enum:"add,hold" help:"add: add the load on each core; hold: keep the cores' total usage at --percent while other load comes and goes"`
}

// Validate implements fault.Validator.
func (p *Params) Validate() error {
	if p.Percent <= 0 {
		return &fault.ParamError{Param: "percent", Message: fmt.Sprintf("%s is out of range (above 0, at most 100)", p.Percent)}
	}
	return nil
}

// Info implements fault.Kind.
func (Kind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             ID,
		Summary:        "Load CPU cores to an exact percentage (add to each core, or hold total usage)",
		SummaryZH:      "将 CPU 核心负载到精确的百分比（逐核叠加，或保持总使用率）",
		Platforms:      []string{"linux", "windows"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 1,
		NewParams:      func() any { return &Params{} },
	}
}

// receiptV1 is version 1 of cpu.load's undo record. Everything Recover needs
// is here: the helper's identity, and what its command line looks like for
// the strays a crash may have left unjournaled.
type receiptV1 struct {
	Fault    string      `json:"fault"`
	Percent  float64     `json:"percent"`
	Cores    int         `json:"cores"`
	Mode     string      `json:"mode"`
	Deadline time.Time   `json:"deadline"`
	Exe      string      `json:"exe"`
	Helper   *fault.Proc `json:"helper,omitempty"`
}

// decodeReceipt reads any receipt version this binary knows.
func decodeReceipt(r *fault.Receipt) (receiptV1, error) {
	var d receiptV1
	switch r.Version {
	case 1:
		if err := r.Decode(&d); err != nil {
			return d, err
		}
	default:
		return d, fmt.Errorf("decode %s receipt: version %d is newer than this binary's %d", ID, r.Version, Kind{}.Info().ReceiptVersion)
	}
	if !fault.ValidFaultID(d.Fault) || d.Exe == "" {
		return d, fmt.Errorf("decode %s receipt: no fault id or helper executable", ID)
	}
	return d, nil
}

// Prepare implements fault.Kind. It checks the request against this host's
// CPUs and computes the receipt; it changes nothing.
func (Kind) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*Params)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", ID, req.Params)
	}
	n, err := usableCPUs()
	if err != nil {
		return nil, fmt.Errorf("count cpus: %w", err)
	}
	if p.Cores > n {
		return nil, &fault.ParamError{Param: "cores", Message: fmt.Sprintf("%d is more than the %d CPUs this host has (refused, not reduced)", p.Cores, n)}
	}
	switch {
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the helper from", ID)
	case !fault.ValidFaultID(req.ID):
		return nil, fmt.Errorf("prepare %s: bad fault id %q", ID, req.ID)
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", ID)
	}
	resource := ""
	if p.Mode == ModeHold {
		resource = holdResource
	}
	return fault.NewReceipt(Kind{}.Info(), resource, receiptV1{
		Fault: req.ID, Percent: float64(p.Percent), Cores: p.Cores, Mode: p.Mode,
		Deadline: req.Deadline.UTC(), Exe: h.Exe,
	})
}

// dataDir is where the fault's status file and helper log live.
func dataDir(h *fault.Host, id string) string { return filepath.Join(h.StateDir, "data", id) }

// statusPath is the helper's status file.
func statusPath(h *fault.Host, id string) string { return filepath.Join(dataDir(h, id), "status.json") }

// helperArgs is the helper's command line after the executable. The fault id
// comes first so strays can be matched by a fixed prefix.
func helperArgs(d receiptV1, status string) []string {
	return []string{
		"helper", helperName,
		"--fault", d.Fault,
		"--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--percent", fmt.Sprint(d.Percent),
		"--cores", fmt.Sprint(d.Cores),
		"--mode", d.Mode,
		"--status", status,
	}
}

// isHelperArgv reports whether argv is the command line of the helper of
// fault id started from exe.
func isHelperArgv(argv []string, exe, id string) bool {
	return fault.HelperRef{Exe: exe, Name: helperName, Fault: id}.IsArgv(argv)
}

var (
	_ fault.Kind         = Kind{}
	_ fault.Availability = Kind{}
	_ fault.Statuser     = Kind{}
	_ fault.Validator    = (*Params)(nil)
)
