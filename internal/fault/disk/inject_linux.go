package disk

import (
	"context"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() {
	fault.Register(Latency{})
	fault.Register(IOError{})
}

// The identifiers of the two kinds that need a kernel I/O fault mechanism.
const (
	LatencyID = "disk.latency"
	ErrorID   = "disk.error"
)

// Latency is disk.latency: slow a target process's I/O on its files. It is
// registered so that `fault kinds` lists it with the reason it cannot run;
// see probeIOFaults for the mechanisms looked for. No version of bulwark
// has applied it, so its receipt is never met.
type Latency struct{}

// LatencyParams are disk.latency's parameters.
type LatencyParams struct {
	PID     int              `param:"pid,required,target" help:"the process whose I/O to slow"`
	Path    string           `param:"path,required,target" help:"a file or directory of the target's whose I/O to slow"`
	Delay   bulwark.Duration `param:"delay,required" help:"latency added to each I/O"`
	Percent bulwark.Percent  `param:"percent" default:"100" min:"0" max:"100" help:"share of I/Os delayed"`
}

// IOError is disk.error: fail a share of a target process's I/O on its
// files with an error. Registered to be listed with its reason, like
// Latency.
type IOError struct{}

// IOErrorParams are disk.error's parameters.
type IOErrorParams struct {
	PID     int             `param:"pid,required,target" help:"the process whose I/O to fail"`
	Path    string          `param:"path,required,target" help:"a file or directory of the target's whose I/O to fail"`
	Errno   string          `param:"errno" default:"EIO" enum:"EIO,ENOSPC,ETIMEDOUT" help:"the error the I/O fails with"`
	Percent bulwark.Percent `param:"percent" default:"100" min:"0" max:"100" help:"share of I/Os failed"`
}

// Info implements fault.Kind.
func (Latency) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             LatencyID,
		Summary:        "Add latency to a target process's I/O on its files (needs a kernel I/O fault mechanism; see its availability)",
		SummaryZH:      "为目标进程对其文件的 I/O 增加延迟（需要内核 I/O 故障注入机制，见可用性说明）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		NewParams:      func() any { return &LatencyParams{} },
	}
}

// Info implements fault.Kind.
func (IOError) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             ErrorID,
		Summary:        "Fail a share of a target process's I/O on its files with an error (needs a kernel I/O fault mechanism; see its availability)",
		SummaryZH:      "使目标进程对其文件的部分 I/O 返回错误（需要内核 I/O 故障注入机制，见可用性说明）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesKernel,
		ReceiptVersion: 1,
		NewParams:      func() any { return &IOErrorParams{} },
	}
}

// Available implements fault.Availability: always an error naming what the
// host has and why it is not enough.
func (Latency) Available(_ context.Context, h *fault.Host) error { return probeIOFaults(h, LatencyID) }

// Available implements fault.Availability.
func (IOError) Available(_ context.Context, h *fault.Host) error { return probeIOFaults(h, ErrorID) }

// unavailable is what every method that would change the host returns.
func unavailable(h *fault.Host, id string) error {
	return bulwark.Errorf(bulwark.EUNAVAILABLE, "%s: %v", id, probeIOFaults(h, id))
}

// Prepare implements fault.Kind: it refuses, with the reason.
func (Latency) Prepare(_ context.Context, h *fault.Host, _ fault.Request) (*fault.Receipt, error) {
	return nil, unavailable(h, LatencyID)
}

// Prepare implements fault.Kind: it refuses, with the reason.
func (IOError) Prepare(_ context.Context, h *fault.Host, _ fault.Request) (*fault.Receipt, error) {
	return nil, unavailable(h, ErrorID)
}

// Apply implements fault.Kind; Prepare never makes a receipt.
func (Latency) Apply(_ context.Context, h *fault.Host, _ *fault.Receipt) error {
	return unavailable(h, LatencyID)
}

// Apply implements fault.Kind; Prepare never makes a receipt.
func (IOError) Apply(_ context.Context, h *fault.Host, _ *fault.Receipt) error {
	return unavailable(h, ErrorID)
}

// Verify implements fault.Kind.
func (Latency) Verify(_ context.Context, h *fault.Host, _ *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, unavailable(h, LatencyID)
}

// Verify implements fault.Kind.
func (IOError) Verify(_ context.Context, h *fault.Host, _ *fault.Receipt) ([]bulwark.Evidence, error) {
	return nil, unavailable(h, ErrorID)
}

// Recover implements fault.Kind: nothing was ever applied.
func (Latency) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// Recover implements fault.Kind: nothing was ever applied.
func (IOError) Recover(context.Context, *fault.Host, *fault.Receipt) error { return nil }

// VerifyRecovered implements fault.Kind.
func (Latency) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("nothing applied", true, "%s is never applied by this binary", LatencyID)}, nil
}

// VerifyRecovered implements fault.Kind.
func (IOError) VerifyRecovered(context.Context, *fault.Host, *fault.Receipt) ([]bulwark.Evidence, error) {
	return []bulwark.Evidence{fault.Evidence("nothing applied", true, "%s is never applied by this binary", ErrorID)}, nil
}

var (
	_ fault.Kind         = Latency{}
	_ fault.Availability = Latency{}
	_ fault.Kind         = IOError{}
	_ fault.Availability = IOError{}
)
