package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Corrupt{}) }

// errNotRegular reports a path that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// Corrupt is file.corrupt: flip, zero or truncate bytes of a file in place,
// with a backup of the original and a compare-and-swap restore.
type Corrupt struct{}

// corruptReceiptV1 is file.corrupt's undo record, receipt version 1. It
// holds hashes, never contents.
type corruptReceiptV1 struct {
	// FaultID names the backup directory, StateDir/data/<FaultID>.
	FaultID string `json:"faultId"`
	// Path is the file with every symlink resolved.
	Path string `json:"path"`
	// FileID is "device:inode" where the platform has it: recovery writes
	// only into the same file.
	FileID   string    `json:"fileId,omitempty"`
	Plan     plan      `json:"plan"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Original string    `json:"originalSha256"`
	Faulted  string    `json:"faultedSha256"`
}

// Info implements fault.Kind.
func (Corrupt) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.corrupt",
		Summary:        "Flip, zero or truncate bytes of a file, and restore the exact original",
		SummaryZH:      "篡改文件字节(翻转、清零或截断),恢复时还原原始内容",
		Platforms:      []string{"linux", "windows"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(CorruptParams) },
	}
}

// Available implements fault.Availability: file faults need file roots.
func (Corrupt) Available(ctx context.Context, h *fault.Host) error {
	return needRoots(h)
}

// Prepare confines the path, checks the file, plans the change and hashes
// the original and the faulted bytes. It changes nothing.
func (k Corrupt) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*CorruptParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.corrupt: params are %T", req.Params)
	}
	path, err := confine(h, p.Path)
	if err != nil {
		return nil, err
	}
	f, fi, err := openTarget(path, os.O_RDONLY)
	if err != nil {
		return nil, &fault.ParamError{Param: "path", Message: err.Error()}
	}
	defer f.Close()
	if n := linkCount(fi); n > 1 {
		return nil, &fault.ParamError{Param: "path", Message: fmt.Sprintf("%s has %d hard links: a name outside the file roots may share its bytes", p.Path, n)}
	}
	if fi.Size() > int64(p.MaxSize) {
		return nil, &fault.ParamError{Param: "path", Message: fmt.Sprintf("%s is %d bytes, more than --max-size %s (its original is copied before the change)", p.Path, fi.Size(), p.MaxSize)}
	}
	pl, err := planFor(p, fi.Size())
	if err != nil {
		return nil, err
	}
	orig, faulted, err := hashes(f, fi.Size(), pl)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if orig == faulted {
		return nil, &fault.ParamError{Param: "offset", Message: fmt.Sprintf("the %d bytes at offset %d are already zero: --mode zero would change nothing", pl.Length, pl.Offset)}
	}
	return fault.NewReceipt(k.Info(), "file:"+path, corruptReceiptV1{
		FaultID: req.ID, Path: path, FileID: fileID(fi), Plan: pl,
		Size: fi.Size(), ModTime: fi.ModTime(), Original: orig, Faulted: faulted,
	})
}

// confine resolves p inside the file roots and refuses the host manager's
// own state directory.
func confine(h *fault.Host, p string) (string, error) {
	path, err := h.ConfinePath("path", p)
	if err != nil {
		return "", err
	}
	state := filepath.Clean(h.StateDir)
	if s, err := filepath.EvalSymlinks(state); err == nil {
		state = s
	}
	if rel, err := filepath.Rel(state, path); h.StateDir != "" && err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", &fault.ParamError{Param: "path", Message: p + " is inside bulwark's state directory " + h.StateDir}
	}
	return path, nil
}

// Apply backs up the original, then makes the change in place and fsyncs
// it, with the write bracketed by the store's marker.
func (Corrupt) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeCorrupt(r)
	if err != nil {
		return err
	}
	f, fi, err := openTarget(rec.Path, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("open %s: %w", rec.Path, err)
	}
	defer f.Close()
	if id := fileID(fi); id != rec.FileID {
		return fmt.Errorf("open %s: it is another file than at prepare (%s, was %s); nothing was changed", rec.Path, id, rec.FileID)
	}
	s := storeFor(h, rec.FaultID)
	if err := s.saveBackup(f, rec.Size, rec.Original); err != nil {
		return err
	}
	if err := s.mark(); err != nil {
		return err
	}
	if err := change(f, rec.Plan); err != nil {
		return fmt.Errorf("corrupt %s: %w", rec.Path, err)
	}
	return s.unmark()
}

// change makes the planned change to f in place and fsyncs it.
func change(f *os.File, pl plan) error {
	if pl.Mode == modeTruncate {
		if err := f.Truncate(pl.Length); err != nil {
			return err
		}
		return f.Sync()
	}
	buf := make([]byte, min(pl.Length, chunk))
	for pos := pl.Offset; pos < pl.Offset+pl.Length; {
		b := buf[:min(int64(len(buf)), pl.Offset+pl.Length-pos)]
		if _, err := f.ReadAt(b, pos); err != nil {
			return err
		}
		pl.transform(b, pos)
		if _, err := f.WriteAt(b, pos); err != nil {
			return err
		}
		pos += int64(len(b))
	}
	return f.Sync()
}

// Verify reads the file back: it must hash to the faulted bytes (which
// differ from the original), and the backup must be in place.
func (Corrupt) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeCorrupt(r)
	if err != nil {
		return nil, err
	}
	cur, err := readCurrent(rec)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", rec.Path, err)
	}
	if cur.sum != rec.Faulted {
		return nil, fmt.Errorf("verify %s: reads back as %s, not the faulted bytes", rec.Path, cur.describe())
	}
	ev := []bulwark.Evidence{fault.Evidence("file-bytes", true, "%s reads back with sha256 %s (the faulted bytes; original %s): %s",
		rec.Path, rec.Faulted, rec.Original, rec.Plan.describe(rec.Size))}
	b := storeFor(h, rec.FaultID).backup()
	bi, err := os.Stat(b)
	if err != nil || bi.Size() != rec.Size {
		return ev, fmt.Errorf("verify backup %s: %v (size %d, want %d)", b, err, sizeOf(bi), rec.Size)
	}
	return append(ev, fault.Evidence("file-backup", true, "original kept at %s (%d bytes, mode %s)", b, bi.Size(), bi.Mode().Perm())), nil
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

// describe says in words what the plan changes.
func (pl plan) describe(size int64) string {
	switch pl.Mode {
	case modeTruncate:
		return fmt.Sprintf("truncated from %d to %d bytes", size, pl.Length)
	case modeZero:
		return fmt.Sprintf("zeroed %d bytes at offset %d", pl.Length, pl.Offset)
	case modeFlip:
		if pl.Seed != 0 {
			return fmt.Sprintf("flipped one bit in each of %d bytes at offset %d (seed %d)", pl.Length, pl.Offset, pl.Seed)
		}
	}
	return fmt.Sprintf("inverted %d bytes at offset %d", pl.Length, pl.Offset)
}

// decodeCorrupt decodes every receipt version this binary knows.
func decodeCorrupt(r *fault.Receipt) (corruptReceiptV1, error) {
	var rec corruptReceiptV1
	if err := decodeData(r, &rec); err != nil {
		return rec, err
	}
	return rec, checkFaultID("file.corrupt", rec.FaultID)
}

var (
	_ fault.Kind         = Corrupt{}
	_ fault.Availability = Corrupt{}
	_ fault.Statuser     = Corrupt{}
	_ fault.Validator    = (*CorruptParams)(nil)
)
