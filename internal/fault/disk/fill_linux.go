package disk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"golang.org/x/sys/unix"
)

func init() { fault.Register(Fill{}) }

// FillID is disk.fill's identifier.
const FillID = "disk.fill"

// fillPrefix starts the name of every fill file: .bulwark-fill-<fault id>.
const fillPrefix = ".bulwark-fill-"

// Fill is the disk.fill kind: a file preallocated in a directory takes a
// given amount of the filesystem's free space until recover deletes it.
type Fill struct{}

// FillParams are disk.fill's parameters.
type FillParams struct {
	Path    string           `param:"path,required,target" help:"directory, inside the file roots, to create the fill file in (.bulwark-fill-<fault id>)"`
	Size    bulwark.ByteSize `param:"size" unit:"bytes" help:"how much space to take; or use --percent"`
	Percent bulwark.Percent  `param:"percent" unit:"%" min:"0" max:"100" help:"how much space to take, in percent of the filesystem's size (or of its free space with --of free)"`
	Of      string           `param:"of" default:"size" enum:"size,free" help:"what --percent is a percentage of: the filesystem's size or its free space"`
	Reserve bulwark.Percent  `param:"reserve" default:"5" unit:"%" min:"0" max:"100" help:"free space, in percent of the filesystem's size, the fill must leave; refused, not reduced"`
}

// Validate implements fault.Validator.
func (p *FillParams) Validate() error {
	switch {
	case p.Size != 0 && p.Percent != 0:
		return &fault.ParamError{Param: "percent", Message: "give --size or --percent, not both"}
	case p.Size == 0 && p.Percent == 0:
		return &fault.ParamError{Param: "size", Message: "is required (or give --percent)"}
	case p.Size < 0:
		return &fault.ParamError{Param: "size", Message: fmt.Sprintf("%s is negative", p.Size)}
	case p.Percent < 0:
		return &fault.ParamError{Param: "percent", Message: fmt.Sprintf("%s is out of range (above 0, at most 100)", p.Percent)}
	}
	return nil
}

// Info implements fault.Kind.
func (Fill) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             FillID,
		Summary:        "Fill a filesystem with a preallocated file, keeping a reserve and the state directory's margin free",
		SummaryZH:      "用预分配文件填充文件系统，保留预留空间和状态目录的余量",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return &FillParams{} },
	}
}

// fillReceiptV1 is version 1 of disk.fill's undo record. Dev and Ino are set
// by Apply once the file exists; Recover deletes only that inode.
type fillReceiptV1 struct {
	Fault string `json:"fault"`
	File  string `json:"file"`
	Size  int64  `json:"size"`
	Dev   uint64 `json:"dev,omitempty"`
	Ino   uint64 `json:"ino,omitempty"`
	// Method is "fallocate" or "zeros" (written in chunks where the
	// filesystem has no fallocate).
	Method string `json:"method,omitempty"`
	// AvailBefore is the filesystem's available space just before the fill.
	AvailBefore int64 `json:"availBefore,omitempty"`
}

func decodeFill(r *fault.Receipt) (fillReceiptV1, error) {
	var d fillReceiptV1
	if r.Version != 1 {
		return d, fmt.Errorf("decode %s receipt: version %d is not one this binary knows (1)", FillID, r.Version)
	}
	if err := r.Decode(&d); err != nil {
		return d, err
	}
	if !fault.ValidFaultID(d.Fault) || !filepath.IsAbs(d.File) || filepath.Base(d.File) != fillPrefix+d.Fault {
		return d, fmt.Errorf("decode %s receipt: bad fault id or file %q", FillID, d.File)
	}
	return d, nil
}

// Prepare implements fault.Kind: it resolves the directory, computes the
// size and refuses a fill that would leave less than the reserve, or less
// than the state directory's margin on its filesystem. It changes nothing.
func (Fill) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*FillParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", FillID, req.Params)
	}
	if !fault.ValidFaultID(req.ID) {
		return nil, fmt.Errorf("prepare %s: bad fault id %q", FillID, req.ID)
	}
	dir, err := confineDir(h, "path", p.Path)
	if err != nil {
		return nil, err
	}
	sp, err := spaceOf(dir)
	if err != nil {
		return nil, err
	}
	size, param := int64(p.Size), "size"
	if p.Percent > 0 {
		param = "percent"
		base := sp.Total
		if p.Of == "free" {
			base = sp.Avail
		}
		size = int64(float64(base) * float64(p.Percent) / 100)
		if size <= 0 {
			return nil, &fault.ParamError{Param: "percent", Message: fmt.Sprintf("%s %% of %s is nothing", p.Percent, bulwark.ByteSize(base))}
		}
	}
	if err := checkSpace(h, dir, sp, size, float64(p.Reserve), param); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, fillPrefix+req.ID)
	if _, err := os.Lstat(file); err == nil {
		return nil, &fault.ParamError{Param: "path", Message: file + " already exists"}
	}
	return fault.NewReceipt(Fill{}.Info(), "file:"+file, fillReceiptV1{Fault: req.ID, File: file, Size: size})
}

// Apply implements fault.Kind: it creates the file (never an existing one),
// records its inode, and allocates the size with fallocate(2), or by writing
// zeros where the filesystem does not support it. On failure it deletes the
// file again.
func (Fill) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeFill(r)
	if err != nil {
		return err
	}
	sp, err := spaceOf(filepath.Dir(d.File))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(d.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create fill file: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		os.Remove(d.File)
		return fmt.Errorf("stat fill file: %w", err)
	}
	d.Dev, d.Ino, d.AvailBefore = st.Dev, st.Ino, sp.Avail
	method, err := allocate(ctx, f, d.Size, false)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(d.File)
		return fmt.Errorf("fill %s with %s: %w", d.File, bulwark.ByteSize(d.Size), err)
	}
	d.Method = method
	return r.Set(d)
}

// zeroChunk is the size of each write when fallocate is not supported.
const zeroChunk = 1 << 20

// allocate gives f size bytes of allocated blocks: with fallocate(2), or,
// when the filesystem does not support it (or noFallocate is set, for tests),
// by writing zeros in chunks. It returns the method used.
func allocate(ctx context.Context, f *os.File, size int64, noFallocate bool) (string, error) {
	if !noFallocate {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		if err == nil {
			return "fallocate", nil
		}
		if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOSYS) {
			return "fallocate", fmt.Errorf("fallocate: %w", err)
		}
	}
	buf := make([]byte, zeroChunk)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return "zeros", err
		}
		n := min(int64(len(buf)), size-off)
		w, err := f.WriteAt(buf[:n], off)
		if err != nil {
			return "zeros", fmt.Errorf("write zeros: %w", err)
		}
		off += int64(w)
	}
	return "zeros", nil
}

// Verify implements fault.Kind: the file is the recorded inode with the size
// allocated (st_blocks), and the filesystem's available space has dropped.
func (Fill) Verify(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeFill(r)
	if err != nil {
		return nil, err
	}
	ev, err := fillPresent(d)
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", FillID, err)
	}
	sp, err := spaceOf(filepath.Dir(d.File))
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", FillID, err)
	}
	drop := d.AvailBefore - sp.Avail
	ok := drop >= d.Size/2 // other writers and deleters share the filesystem
	ev = append(ev, fault.Evidence("free space", ok, "available space fell from %s to %s (%s) on the filesystem of %s",
		bulwark.ByteSize(d.AvailBefore), bulwark.ByteSize(sp.Avail), bulwark.ByteSize(drop), filepath.Dir(d.File)))
	if !ok {
		return ev, fmt.Errorf("verify %s: available space fell by %s, not the %s filled", FillID, bulwark.ByteSize(drop), bulwark.ByteSize(d.Size))
	}
	return ev, nil
}

// fillPresent checks the fill file is the recorded inode with its blocks.
func fillPresent(d fillReceiptV1) ([]bulwark.Evidence, error) {
	dev, ino, blocks, size, err := fileIdentity(d.File)
	if err != nil {
		ev := fault.Evidence("fill file", false, "%s: %v", d.File, err)
		return []bulwark.Evidence{ev}, err
	}
	if dev != d.Dev || ino != d.Ino || size != d.Size {
		ev := fault.Evidence("fill file", false, "%s is inode %d:%d of %s, not the fill's %d:%d of %s", d.File, dev, ino, bulwark.ByteSize(size), d.Dev, d.Ino, bulwark.ByteSize(d.Size))
		return []bulwark.Evidence{ev}, fmt.Errorf("%s was replaced", d.File)
	}
	alloc := blocks * 512
	ok := alloc >= d.Size
	ev := fault.Evidence("fill file", ok, "%s has %s allocated (%d blocks of 512 B), size %s, by %s; %s asked",
		d.File, bulwark.ByteSize(alloc), blocks, bulwark.ByteSize(size), d.Method, bulwark.ByteSize(d.Size))
	if !ok {
		return []bulwark.Evidence{ev}, fmt.Errorf("%s has %s allocated, not %s", d.File, bulwark.ByteSize(alloc), bulwark.ByteSize(d.Size))
	}
	return []bulwark.Evidence{ev}, nil
}

// Status implements fault.Statuser: the fill file is still there, whole.
func (Fill) Status(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeFill(r)
	if err != nil {
		return nil, err
	}
	ev, err := fillPresent(d)
	if err != nil {
		return ev, fmt.Errorf("status %s: %w", FillID, err)
	}
	return ev, nil
}

// Recover implements fault.Kind: it deletes the fill file if it is the
// recorded inode (device, inode and size). A file that is already gone is not an error; another file
// in its place is left alone and reported. A receipt without an inode (Apply
// was interrupted before it journaled one) deletes the file by its name,
// which only bulwark uses.
func (Fill) Recover(_ context.Context, _ *fault.Host, r *fault.Receipt) error {
	d, err := decodeFill(r)
	if err != nil {
		return err
	}
	dev, ino, _, size, err := fileIdentity(d.File)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("recover %s: %w", FillID, err)
	case d.Ino != 0 && (dev != d.Dev || ino != d.Ino || size != d.Size):
		// An inode number can be reused by a file made after the fill
		// file was deleted: the size tells them apart.
		return fmt.Errorf("recover %s: %s is inode %d:%d of %s, not the fill's %d:%d of %s; left alone",
			FillID, d.File, dev, ino, bulwark.ByteSize(size), d.Dev, d.Ino, bulwark.ByteSize(d.Size))
	}
	if err := os.Remove(d.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("recover %s: %w", FillID, err)
	}
	return nil
}

// VerifyRecovered implements fault.Kind: the fill file is gone.
func (Fill) VerifyRecovered(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeFill(r)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(d.File); !errors.Is(err, os.ErrNotExist) {
		ev := fault.Evidence("fill file gone", false, "%s still exists (%v)", d.File, err)
		return []bulwark.Evidence{ev}, fmt.Errorf("verify %s recovered: %s still exists", FillID, d.File)
	}
	return []bulwark.Evidence{fault.Evidence("fill file gone", true, "%s is gone", d.File)}, nil
}

var (
	_ fault.Kind      = Fill{}
	_ fault.Statuser  = Fill{}
	_ fault.Validator = (*FillParams)(nil)
)
