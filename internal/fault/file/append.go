package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Append{}) }

// maxAppend bounds --size.
const maxAppend = 1 << 30

// AppendParams are the parameters of file.append.
type AppendParams struct {
	Path    string           `param:"path,required,target" help:"the regular file to append to; it must lie inside the file roots"`
	Data    string           `param:"data" help:"the text to append, as given (a trailing newline only if it holds one); or use --size"`
	Size    bulwark.ByteSize `param:"size" unit:"bytes" help:"how many bytes of --pattern to append (at most 1GiB); or use --data"`
	Pattern string           `param:"pattern" default:"text" enum:"text,zero,random" help:"with --size: text repeats a filler line, zero appends zero bytes, random appends bytes reproducible from --seed"`
	Seed    int64            `param:"seed" help:"with --pattern random: the seed"`
}

// Validate checks that exactly one of --data and --size is given.
func (p *AppendParams) Validate() error {
	switch {
	case p.Data == "" && p.Size == 0:
		return &fault.ParamError{Param: "data", Message: "give the text to append, or --size"}
	case p.Data != "" && p.Size != 0:
		return &fault.ParamError{Param: "size", Message: "does not go with --data"}
	case p.Size > maxAppend:
		return &fault.ParamError{Param: "size", Message: fmt.Sprintf("%s is more than the 1GiB file.append allows", p.Size)}
	case p.Seed != 0 && (p.Data != "" || p.Pattern != "random"):
		return &fault.ParamError{Param: "seed", Message: "only goes with --pattern random"}
	}
	return nil
}

// tail says how to make the appended bytes again, so that recovery can
// check the file ends with exactly them without keeping a copy.
type tail struct {
	Data    string `json:"data,omitempty"`
	Pattern string `json:"pattern,omitempty"`
	Length  int64  `json:"length"`
	Seed    int64  `json:"seed,omitempty"`
}

// fillerLine is what --pattern text repeats.
const fillerLine = "bulwark file.append filler line\n"

// reader returns the appended bytes.
func (t tail) reader() io.Reader {
	switch t.Pattern {
	case "":
		return bytes.NewReader([]byte(t.Data))
	case "zero":
		return io.LimitReader(zeroReader{}, t.Length)
	case "random":
		return io.LimitReader(&splitmix{state: uint64(t.Seed)}, t.Length)
	}
	return io.LimitReader(&repeatReader{b: []byte(fillerLine)}, t.Length)
}

// appendReceiptV1 is file.append's undo record, receipt version 1.
type appendReceiptV1 struct {
	FaultID  string    `json:"faultId"`
	Path     string    `json:"path"`
	FileID   string    `json:"fileId,omitempty"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Original string    `json:"originalSha256"`
	Tail     tail      `json:"tail"`
	TailSum  string    `json:"tailSha256"`
}

// Append is file.append: bytes are appended to a file; recovery truncates
// it back to its original length only while the original bytes are intact
// and the tail is exactly what was appended.
type Append struct{ rootsOnly }

// Info implements fault.Kind.
func (Append) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.append",
		Summary:        "Append text or filler bytes to a file, and cut them off again",
		SummaryZH:      "向文件追加文本或填充字节,恢复时精确截掉",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(AppendParams) },
	}
}

// Prepare confines the path and hashes the file and the tail; it changes
// nothing.
func (k Append) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*AppendParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.append: params are %T", req.Params)
	}
	path, f, fi, err := openParam(h, p.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := refuseLinks(p.Path, fi); err != nil {
		return nil, err
	}
	orig, err := hashOf(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	t := tail{Data: p.Data, Length: int64(len(p.Data))}
	if p.Data == "" {
		t = tail{Pattern: p.Pattern, Length: int64(p.Size), Seed: p.Seed}
	}
	ts, err := hashOf(t.reader())
	if err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), "file:"+path, appendReceiptV1{
		FaultID: req.ID, Path: path, FileID: fileID(fi), Size: fi.Size(), ModTime: fi.ModTime(),
		Original: orig, Tail: t, TailSum: ts,
	})
}

// Apply claims the file in the state directory, then appends the tail and
// fsyncs it, the write bracketed by the store's marker.
func (Append) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeAppend(r)
	if err != nil {
		return err
	}
	f, fi, err := openTarget(rec.Path, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("open %s: %w", rec.Path, err)
	}
	defer f.Close()
	if sum, err := hashOf(io.NewSectionReader(f, 0, fi.Size()+1)); err != nil || fileID(fi) != rec.FileID || sum != rec.Original {
		return fmt.Errorf("append to %s: the file changed after prepare (%v); nothing was changed", rec.Path, err)
	}
	s := storeFor(h, rec.FaultID)
	if err := s.makeClaim(); err != nil {
		return err
	}
	if err := s.mark(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, rec.Size), chunk)
	if _, err := io.Copy(w, rec.Tail.reader()); err != nil {
		return fmt.Errorf("append to %s: %w", rec.Path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("append to %s: %w", rec.Path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("append to %s: %w", rec.Path, err)
	}
	return s.unmark()
}

// appended is what the file holds relative to the fault.
type appended int

const (
	appendOther    appended = iota // neither
	appendOriginal                 // the original bytes, nothing appended
	appendFull                     // the original bytes and the whole tail
	appendPartial                  // the original bytes and the start of the tail
)

// examine compares f with the original and the tail.
func examine(f *os.File, size int64, rec appendReceiptV1) (appended, error) {
	if size < rec.Size || size > rec.Size+rec.Tail.Length {
		return appendOther, nil
	}
	sum, err := hashOf(io.NewSectionReader(f, 0, rec.Size))
	if err != nil || sum != rec.Original {
		return appendOther, err
	}
	switch n := size - rec.Size; {
	case n == 0:
		return appendOriginal, nil
	case !sameBytes(io.NewSectionReader(f, rec.Size, n), io.LimitReader(rec.Tail.reader(), n)):
		return appendOther, nil
	case n == rec.Tail.Length:
		return appendFull, nil
	}
	return appendPartial, nil
}

// sameBytes reports whether a and b hold the same bytes.
func sameBytes(a, b io.Reader) bool {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil || eb != nil {
			return (ea == io.EOF || errors.Is(ea, io.ErrUnexpectedEOF)) && (eb == io.EOF || errors.Is(eb, io.ErrUnexpectedEOF))
		}
	}
}

// Verify reads the file back: the original bytes then exactly the tail.
func (Append) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := appendStatus(h, r)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return ev, nil
}

// Status reports drift: the file no longer ends with the appended bytes
// after its original ones.
func (Append) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return appendStatus(h, r)
}

func appendStatus(h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeAppend(r)
	if err != nil {
		return nil, err
	}
	f, fi, err := openTarget(rec.Path, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rec.Path, err)
	}
	defer f.Close()
	st, err := examine(f, fi.Size(), rec)
	if err != nil || st != appendFull || fileID(fi) != rec.FileID {
		return nil, fmt.Errorf("%s no longer holds its original %d bytes followed by the %d appended (%d bytes now, %v)", rec.Path, rec.Size, rec.Tail.Length, fi.Size(), err)
	}
	return []bulwark.Evidence{fault.Evidence("file-appended", true, "%s holds its original %d bytes (sha256 %s) followed by the %d appended bytes (sha256 %s)",
		rec.Path, rec.Size, rec.Original, rec.Tail.Length, rec.TailSum)}, nil
}

// Recover truncates the file back to its original length, compare-and-
// swap: only the same file, only while its first bytes are the original
// ones and the rest is the tail (or, after a crash mid-append, the start of
// it). Anything else is a *ConflictError while the claim is there.
func (Append) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeAppend(r)
	if err != nil {
		return err
	}
	s := storeFor(h, rec.FaultID)
	writing, err := exists(s.marker())
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	claimed, err := exists(s.claim())
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	f, fi, err := openTarget(rec.Path, os.O_RDWR)
	if err != nil {
		if !claimed {
			return s.removeAll()
		}
		return &ConflictError{Path: rec.Path, Current: describePath(rec.Path), Faulted: "the appended file", Original: "sha256 " + rec.Original,
			Resolve: fmt.Sprintf("nothing was appended to what is there now; delete %s to end the fault", s.claim())}
	}
	defer f.Close()
	st, err := examine(f, fi.Size(), rec)
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	switch {
	case fileID(fi) == rec.FileID && (st == appendFull || st == appendPartial && writing):
		if err := cutBack(f, rec); err != nil {
			return fmt.Errorf("recover %s: %w", rec.Path, err)
		}
	case st == appendOriginal || !claimed:
	default:
		return &ConflictError{Path: rec.Path, Current: fmt.Sprintf("%d bytes long", fi.Size()),
			Faulted: fmt.Sprintf("%d bytes (the original and %d appended)", rec.Size+rec.Tail.Length, rec.Tail.Length), Original: fmt.Sprintf("%d bytes, sha256 %s", rec.Size, rec.Original),
			Resolve: fmt.Sprintf("truncate it to its original %d bytes yourself, or delete %s to keep it as it is, and the next retry ends the fault", rec.Size, s.claim())}
	}
	return s.removeAll()
}

// cutBack truncates the file to its original length, restores its
// modification time, fsyncs and checks it hashes to the original.
func cutBack(f *os.File, rec appendReceiptV1) error {
	if err := f.Truncate(rec.Size); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	if err := setModTime(f, rec.ModTime); err != nil {
		return fmt.Errorf("restore modification time: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if sum, err := hashOf(io.NewSectionReader(f, 0, rec.Size+1)); err != nil || sum != rec.Original {
		return fmt.Errorf("read back: sha256 %s, want the original %s: %v", sum, rec.Original, err)
	}
	return nil
}

// VerifyRecovered checks the state directory is empty and says whether the
// file holds its original bytes.
func (Append) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeAppend(r)
	if err != nil {
		return nil, err
	}
	if err := storeFor(h, rec.FaultID).leftovers(); err != nil {
		return nil, fmt.Errorf("verify recovered %s: %w", rec.Path, err)
	}
	if f, fi, err := openTarget(rec.Path, os.O_RDONLY); err == nil {
		defer f.Close()
		if st, err := examine(f, fi.Size(), rec); err == nil && st == appendOriginal {
			return []bulwark.Evidence{fault.Evidence("file-restored", true, "%s is back to its original %d bytes (sha256 %s)", rec.Path, rec.Size, rec.Original)}, nil
		}
	}
	return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is %s, not the original: a person chose to keep it, or it changed after the fault ended; nothing of the fault is left", rec.Path, describePath(rec.Path))}, nil
}

// decodeAppend decodes every receipt version this binary knows.
func decodeAppend(r *fault.Receipt) (appendReceiptV1, error) {
	var rec appendReceiptV1
	if err := decodeData(r, &rec); err != nil {
		return rec, err
	}
	return rec, checkFaultID(r.Kind, rec.FaultID)
}

var (
	_ fault.Kind         = Append{}
	_ fault.Availability = Append{}
	_ fault.Statuser     = Append{}
	_ fault.Validator    = (*AppendParams)(nil)
)
