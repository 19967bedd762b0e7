package disk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(IO{}) }

// IOID is disk.io's identifier.
const IOID = "disk.io"

// ioPrefix starts the name of every scratch file: .bulwark-io-<fault id>.
const ioPrefix = ".bulwark-io-"

const (
	// ioReadyTimeout bounds how long Apply waits for the helper's first
	// status (it first writes the scratch file whole for read loads).
	ioReadyTimeout = 15 * time.Second
	// ioVerifyWindow is how long Verify measures the helper's I/O over at
	// least; ioVerifyMax is how long it waits for any.
	ioVerifyWindow = 300 * time.Millisecond
	ioVerifyMax    = 3 * time.Second
	// ioStatusStale is how old the status file may be before Status calls
	// the helper hung.
	ioStatusStale = 5 * time.Second
	// ioTolerance is how far, as a fraction, the achieved rate may be from
	// the target before Status marks its evidence not ok.
	ioTolerance = 0.2
)

// IO is the disk.io kind: a helper process reads and writes a scratch file
// at a paced throughput or IOPS target until its deadline.
type IO struct{}

// IOParams are disk.io's parameters.
type IOParams struct {
	Path      string           `param:"path,required,target" help:"directory, inside the file roots, for the scratch file (.bulwark-io-<fault id>)"`
	Mode      string           `param:"mode" default:"write" enum:"read,write,mixed" help:"read, write, or alternate both"`
	Rate      bulwark.ByteRate `param:"rate" unit:"bytes/s" help:"throughput to hold; or --iops"`
	IOPS      int              `param:"iops" min:"0" max:"1000000" help:"operations per second to hold; or --rate"`
	BlockSize bulwark.ByteSize `param:"block-size" default:"64KiB" unit:"bytes" help:"size of each read or write; a multiple of 4KiB, at most 16MiB"`
	FileSize  bulwark.ByteSize `param:"file-size" default:"64MiB" unit:"bytes" help:"size of the scratch file the load cycles through (read loads write it whole first)"`
	Reserve   bulwark.Percent  `param:"reserve" default:"5" unit:"%" min:"0" max:"100" help:"free space, in percent of the filesystem's size, the scratch file must leave"`
}

// Validate implements fault.Validator.
func (p *IOParams) Validate() error {
	switch {
	case p.Rate != 0 && p.IOPS != 0:
		return &fault.ParamError{Param: "iops", Message: "give --rate or --iops, not both"}
	case p.Rate == 0 && p.IOPS == 0:
		return &fault.ParamError{Param: "rate", Message: "is required (or give --iops)"}
	case p.BlockSize < 4096 || p.BlockSize > 16<<20 || p.BlockSize%4096 != 0:
		return &fault.ParamError{Param: "block-size", Message: fmt.Sprintf("%s is not a multiple of 4KiB from 4KiB to 16MiB", p.BlockSize)}
	case p.Rate < 0 || p.Rate > 0 && int64(p.Rate) < int64(p.BlockSize):
		return &fault.ParamError{Param: "rate", Message: fmt.Sprintf("%s is less than one --block-size (%s) a second", p.Rate, p.BlockSize)}
	case p.FileSize < p.BlockSize:
		return &fault.ParamError{Param: "file-size", Message: fmt.Sprintf("%s is smaller than --block-size %s", p.FileSize, p.BlockSize)}
	}
	return nil
}

// Info implements fault.Kind.
func (IO) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             IOID,
		Summary:        "Read and write a scratch file at a paced throughput or IOPS target (O_DIRECT where supported)",
		SummaryZH:      "以限定的吞吐量或 IOPS 读写临时文件（支持时使用 O_DIRECT）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesNothing,
		ReceiptVersion: 1,
		NewParams:      func() any { return &IOParams{} },
	}
}

// ioReceiptV1 is version 1 of disk.io's undo record: the helper's identity
// (set by Apply), its command line for strays, and the scratch file.
type ioReceiptV1 struct {
	Fault     string      `json:"fault"`
	File      string      `json:"file"`
	Mode      string      `json:"mode"`
	Rate      int64       `json:"rate,omitempty"`
	IOPS      int64       `json:"iops,omitempty"`
	BlockSize int64       `json:"blockSize"`
	FileSize  int64       `json:"fileSize"`
	Deadline  time.Time   `json:"deadline"`
	Exe       string      `json:"exe"`
	Helper    *fault.Proc `json:"helper,omitempty"`
}

func decodeIO(r *fault.Receipt) (ioReceiptV1, error) {
	var d ioReceiptV1
	if r.Version != 1 {
		return d, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1)", IOID, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if !fault.ValidFaultID(d.Fault) || d.Exe == "" || !filepath.IsAbs(d.File) || filepath.Base(d.File) != ioPrefix+d.Fault {
		return d, fmt.Errorf("decode %s receipt: bad fault id, executable or file %q", IOID, d.File)
	}
	return d, nil
}

// Prepare implements fault.Kind: it resolves the directory and checks the
// scratch file fits above the reserve and the state directory's margin. It
// changes nothing.
func (IO) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*IOParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", IOID, req.Params)
	}
	switch {
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the helper from", IOID)
	case !fault.ValidFaultID(req.ID):
		return nil, fmt.Errorf("prepare %s: bad fault id %q", IOID, req.ID)
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", IOID)
	}
	dir, err := confineDir(h, "path", p.Path)
	if err != nil {
		return nil, err
	}
	sp, err := spaceOf(dir)
	if err != nil {
		return nil, err
	}
	if err := checkSpace(h, dir, sp, int64(p.FileSize), float64(p.Reserve), "file-size"); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, ioPrefix+req.ID)
	if _, err := os.Lstat(file); err == nil {
		return nil, &fault.ParamError{Param: "path", Message: file + " already exists"}
	}
	return fault.NewReceipt(IO{}.Info(), "file:"+file, ioReceiptV1{
		Fault: req.ID, File: file, Mode: p.Mode, Rate: int64(p.Rate), IOPS: int64(p.IOPS),
		BlockSize: int64(p.BlockSize), FileSize: int64(p.FileSize), Deadline: req.Deadline.UTC(), Exe: h.Exe,
	})
}

// ioStatusPath is the helper's status file.
func ioStatusPath(h *fault.Host, id string) string {
	return filepath.Join(h.StateDir, "data", id, "status.json")
}

// ioArgs is the helper's command line after the executable; the fault id
// comes first so that strays are found by a fixed prefix.
func ioArgs(d ioReceiptV1, status string) []string {
	return []string{
		"helper", ioHelperName,
		"--fault", d.Fault,
		"--deadline", d.Deadline.UTC().Format(time.RFC3339Nano),
		"--file", d.File,
		"--mode", d.Mode,
		"--rate", fmt.Sprint(d.Rate),
		"--iops", fmt.Sprint(d.IOPS),
		"--block-size", fmt.Sprint(d.BlockSize),
		"--file-size", fmt.Sprint(d.FileSize),
		"--status", status,
	}
}

// Apply implements fault.Kind: it starts the helper in its own session,
// records its identity, and waits for its first status. On failure it stops
// the helper and removes the scratch file.
func (k IO) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeIO(r)
	if err != nil {
		return err
	}
	dir, status, err := h.HelperFiles(d.Fault)
	if err != nil {
		return err
	}
	undo := func(err error) error {
		return errors.Join(err, k.Recover(context.WithoutCancel(ctx), h, r))
	}
	p, err := h.StartHelper(d.Exe, ioArgs(d, status), dir)
	if err != nil {
		return undo(err)
	}
	d.Helper = &p
	if err := r.Set(d); err != nil {
		return undo(err)
	}
	err = h.WaitReady(ctx, p, ioHelperName, dir, ioReadyTimeout, func() (bool, error) {
		_, err := os.Stat(status)
		return err == nil, nil
	})
	if err != nil {
		return undo(err)
	}
	return nil
}

// Verify implements fault.Kind: the helper is alive, its scratch file
// exists, and its read and write counters grow; the evidence gives the rate
// measured over a short window, and whether O_DIRECT is in use.
func (IO) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeIO(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !alive(h, *d.Helper) {
		ev := fault.Evidence("helper", false, "the disk-io helper of fault %s is not running", d.Fault)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s: helper is not running", IOID)
	}
	p := *d.Helper
	ev := []bulwark.Evidence{fault.Evidence("helper", true, "helper %s runs until %s", p, d.Deadline.Format(time.RFC3339))}
	if _, err := os.Lstat(d.File); err != nil {
		ev = append(ev, fault.Evidence("scratch file", false, "%v", err))
		return ev, fmt.Errorf("verify %s: %w", IOID, err)
	}
	s, err := ReadIOStatus(ioStatusPath(h, d.Fault))
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", IOID, err)
	}
	how := "O_DIRECT"
	if !s.Direct {
		how = "buffered (" + s.Note + ")"
	}
	ev = append(ev, fault.Evidence("scratch file", true, "%s, %s, %s i/o", d.File, bulwark.ByteSize(d.FileSize), how))
	r0, w0, err := procIO(h, p.PID)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", IOID, err)
	}
	t0 := time.Now()
	for {
		if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
			return ev, err
		}
		r1, w1, err := procIO(h, p.PID)
		if err != nil {
			return ev, fmt.Errorf("verify %s: %w", IOID, err)
		}
		took := time.Since(t0)
		moved := (r1 - r0) + (w1 - w0)
		if moved > 0 && took >= ioVerifyWindow {
			ev = append(ev, fault.Evidence("load", true, "helper read %s and wrote %s in %s: %s/s (target %s)",
				bulwark.ByteSize(r1-r0), bulwark.ByteSize(w1-w0), took.Round(time.Millisecond),
				bulwark.ByteSize(float64(moved)/took.Seconds()), target(d)))
			return ev, nil
		}
		if took >= ioVerifyMax {
			ev = append(ev, fault.Evidence("load", false, "helper did no i/o in %s", took.Round(time.Millisecond)))
			return ev, fmt.Errorf("verify %s: helper did no i/o in %s", IOID, took.Round(time.Millisecond))
		}
	}
}

// target describes the fault's target rate.
func target(d ioReceiptV1) string {
	if d.Rate > 0 {
		return bulwark.ByteRate(d.Rate).String()
	}
	return fmt.Sprintf("%d ops/s of %s", d.IOPS, bulwark.ByteSize(d.BlockSize))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Status implements fault.Statuser: the helper still runs and its status
// file is fresh. The evidence gives the rate achieved over the last second;
// it is not ok when that is more than ioTolerance off the target (the disk
// cannot keep up, or the helper is throttled).
func (IO) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeIO(r)
	if err != nil {
		return nil, err
	}
	if d.Helper == nil || !alive(h, *d.Helper) {
		ev := fault.Evidence("helper", false, "the disk-io helper of fault %s has exited", d.Fault)
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper is gone, the load with it", IOID)
	}
	s, err := ReadIOStatus(ioStatusPath(h, d.Fault))
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", IOID, err)
	}
	if age := time.Since(s.Time); s.State != "running" || age > ioStatusStale {
		ev := fault.Evidence("rate", false, "helper status is %s, written %s ago", s.State, age.Round(time.Millisecond))
		return []bulwark.Evidence{ev}, fmt.Errorf("status %s: helper status is %s and %s old", IOID, s.State, age.Round(time.Millisecond))
	}
	if s.TotalOps == 0 || s.BytesPerSec == 0 {
		return []bulwark.Evidence{fault.Evidence("rate", true, "helper started at %s; no rate measured yet", s.Time.Format(time.RFC3339))}, nil
	}
	want, got := float64(d.Rate), s.BytesPerSec
	if d.IOPS > 0 {
		want, got = float64(d.IOPS), s.OpsPerSec
	}
	ok := math.Abs(got-want) <= ioTolerance*want
	return []bulwark.Evidence{fault.Evidence("rate", ok, "achieved %s/s, %.0f ops/s over the second to %s (target %s, direct %v)",
		bulwark.ByteSize(s.BytesPerSec), s.OpsPerSec, s.Time.Format(time.RFC3339), target(d), s.Direct)}, nil
}

// Recover implements fault.Kind: it stops the journaled helper and any stray
// of the fault (SIGTERM, then SIGKILL, through h.Signal), then removes the
// scratch file (the helper removes it too when it exits normally) and the
// helper's status and log. Nothing left is not an error.
func (IO) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeIO(r)
	if err != nil {
		return err
	}
	ref := fault.HelperRef{Exe: d.Exe, Name: ioHelperName, Fault: d.Fault, Started: d.Helper}
	if err := h.EndHelpers(ctx, ref, termWait, killWait); err != nil {
		return fmt.Errorf("recover %s: %w", IOID, err)
	}
	if err := os.Remove(d.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("recover %s: remove scratch file: %w", IOID, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind: no helper of the fault runs and its
// scratch file is gone.
func (IO) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeIO(r)
	if err != nil {
		return nil, err
	}
	ev, err := h.HelpersGone(fault.HelperRef{Exe: d.Exe, Name: ioHelperName, Fault: d.Fault, Started: d.Helper}, "")
	if err != nil {
		return ev, fmt.Errorf("verify %s recovered: %w", IOID, err)
	}
	if _, err := os.Lstat(d.File); !errors.Is(err, os.ErrNotExist) {
		ev = append(ev, fault.Evidence("scratch file gone", false, "%s still exists (%v)", d.File, err))
		return ev, fmt.Errorf("verify %s recovered: %s still exists", IOID, d.File)
	}
	return append(ev, fault.Evidence("scratch file gone", true, "%s is gone", d.File)), nil
}

var (
	_ fault.Kind      = IO{}
	_ fault.Statuser  = IO{}
	_ fault.Validator = (*IOParams)(nil)
)
