package file

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Mutate{}) }

// Mutate is file.mutate: field-level edits of one record of a delimited
// (CSV) or fixed-width file, for reconciliation drills. Only the field's
// bytes change; every other byte (quoting, line endings) stays. The receipt
// holds the compensating undo of each edit and the file's SHA-256 before
// and after; the original is also backed up (0600). Recovery is
// compare-and-swap on the whole file's hash.
type Mutate struct{ rootsOnly }

// mutateReceiptV1 is file.mutate's undo record, receipt version 1.
type mutateReceiptV1 struct {
	FaultID     string    `json:"faultId"`
	Path        string    `json:"path"`
	FileID      string    `json:"fileId,omitempty"`
	Size        int64     `json:"size"`
	FaultedSize int64     `json:"faultedSize"`
	ModTime     time.Time `json:"modTime"`
	Original    string    `json:"originalSha256"`
	Faulted     string    `json:"faultedSha256"`
	Layout      layout    `json:"layout"`
	Edits       []edit    `json:"edits"`
}

// Info implements fault.Kind.
func (Mutate) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.mutate",
		Summary:        "Change one field of a CSV, delimited or fixed-width record, and restore the exact bytes",
		SummaryZH:      "修改CSV、分隔符或定长记录中的一个字段,恢复时还原原始字节",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(MutateParams) },
	}
}

// Prepare reads and parses the file and plans the edits; it changes
// nothing.
func (k Mutate) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*MutateParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.mutate: params are %T", req.Params)
	}
	path, f, fi, err := openParam(h, p.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := refuseLinks(p.Path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > int64(p.MaxSize) {
		return nil, &fault.ParamError{Param: "path", Message: fmt.Sprintf("%s is %d bytes, more than --max-size %s", p.Path, fi.Size(), p.MaxSize)}
	}
	raw, err := io.ReadAll(io.LimitReader(f, fi.Size()+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	l, edits, err := planMutate(p, raw)
	if err != nil {
		return nil, err
	}
	faulted := forward(raw, edits)
	return fault.NewReceipt(k.Info(), "file:"+path, mutateReceiptV1{
		FaultID: req.ID, Path: path, FileID: fileID(fi), Size: int64(len(raw)), FaultedSize: int64(len(faulted)),
		ModTime: fi.ModTime(), Original: sumBytes(raw), Faulted: sumBytes(faulted), Layout: l, Edits: edits,
	})
}

// planMutate finds the record and fields and works out the edits.
func planMutate(p *MutateParams, raw []byte) (layout, []edit, error) {
	widths, _ := p.widths()
	l := layout{Delimiter: p.Delimiter}
	if widths != nil {
		l = layout{Widths: widths}
	}
	recs, err := l.parse(raw)
	if err != nil {
		return l, nil, &fault.ParamError{Param: "path", Message: "not a valid delimited file: " + err.Error()}
	}
	ri, err := pickRecord(p, recs)
	if err != nil {
		return l, nil, err
	}
	rec := recs[ri]
	field := func(param, s string) (int, error) {
		i, err := fieldIndex(recs, s)
		if err == nil && i >= len(rec.values) {
			err = fmt.Errorf("record %d has %d fields, no field %s", ri+1, len(rec.values), s)
		}
		if err != nil {
			return 0, &fault.ParamError{Param: param, Message: err.Error()}
		}
		return i, nil
	}
	type change struct {
		idx  int
		name string
		val  string
	}
	var changes []change
	o, _ := parseOp(p.Op)
	if o.name == "swap" {
		a, err := field("op", o.a)
		if err != nil {
			return l, nil, err
		}
		b, err := field("op", o.b)
		if err != nil {
			return l, nil, err
		}
		changes = []change{{a, o.a, rec.values[b]}, {b, o.b, rec.values[a]}}
	} else {
		i, err := field("field", p.Field)
		if err != nil {
			return l, nil, err
		}
		c := change{idx: i, name: p.Field, val: p.Value.S}
		switch o.name {
		case "add":
			c.val, err = addDecimal(rec.values[i], o.arg)
		case "negate":
			c.val, err = negate(rec.values[i])
		}
		if err != nil {
			return l, nil, &fault.ParamError{Param: "op", Message: fmt.Sprintf("record %d field %s: %v", ri+1, p.Field, err)}
		}
		changes = []change{c}
	}
	var edits []edit
	for _, c := range changes {
		if c.val == rec.values[c.idx] {
			continue
		}
		sp := rec.spans[c.idx]
		oldRaw := string(raw[sp[0]:sp[1]])
		newRaw, err := l.encode(c.val, oldRaw)
		if err != nil {
			return l, nil, &fault.ParamError{Param: map[bool]string{true: "value", false: "op"}[p.Op == ""], Message: fmt.Sprintf("record %d field %s: %v", ri+1, c.name, err)}
		}
		e := edit{Record: ri + 1, Field: c.idx + 1, Old: rec.values[c.idx], New: c.val, Start: sp[0], OldRaw: oldRaw, NewRaw: newRaw}
		if _, err := strconv.Atoi(c.name); err != nil {
			e.Name = c.name
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 {
		return l, nil, &fault.ParamError{Param: map[bool]string{true: "value", false: "op"}[p.Op == ""], Message: fmt.Sprintf("record %d already holds that: the change would change nothing", ri+1)}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.Start - b.Start })
	return l, edits, nil
}

// pickRecord returns the 0-based index of the record --record or --match
// names.
func pickRecord(p *MutateParams, recs []record) (int, error) {
	if p.Match == "" {
		if p.Record > len(recs) {
			return 0, &fault.ParamError{Param: "record", Message: fmt.Sprintf("the file has %d records", len(recs))}
		}
		return p.Record - 1, nil
	}
	name, val, _ := strings.Cut(p.Match, "=")
	fi, err := fieldIndex(recs, name)
	if err != nil {
		return 0, &fault.ParamError{Param: "match", Message: err.Error()}
	}
	_, numeric := strconv.Atoi(name)
	var hits []int
	for i, r := range recs {
		if (i > 0 || numeric == nil) && fi < len(r.values) && r.values[fi] == val {
			hits = append(hits, i)
		}
	}
	if len(hits) != 1 {
		return 0, &fault.ParamError{Param: "match", Message: fmt.Sprintf("%d records match %s, want exactly one", len(hits), name+"=…")}
	}
	return hits[0], nil
}

// Apply backs up the original (0600), then writes the faulted bytes in
// place (same inode) and fsyncs them, bracketed by the store's marker.
func (Mutate) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeMutate(r)
	if err != nil {
		return err
	}
	f, fi, err := openTarget(rec.Path, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("open %s: %w", rec.Path, err)
	}
	defer f.Close()
	if fileID(fi) != rec.FileID {
		return fmt.Errorf("open %s: it is another file than at prepare; nothing was changed", rec.Path)
	}
	s := storeFor(h, rec.FaultID)
	if err := s.saveBackup(f, rec.Size, rec.Original); err != nil {
		return err
	}
	raw, err := os.ReadFile(s.backup())
	if err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	if err := s.mark(); err != nil {
		return err
	}
	if err := writeAll(f, forward(raw, rec.Edits), time.Time{}); err != nil {
		return fmt.Errorf("mutate %s: %w", rec.Path, err)
	}
	return s.unmark()
}

// writeAll replaces f's bytes with b in place and fsyncs; a non-zero mtime
// is set too.
func writeAll(f *os.File, b []byte, mtime time.Time) error {
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return err
	}
	if !mtime.IsZero() {
		if err := setModTime(f, mtime); err != nil {
			return fmt.Errorf("restore modification time: %w", err)
		}
	}
	return f.Sync()
}

func sumBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readMutated reads the target whole when its size is one the fault knows.
func readMutated(rec mutateReceiptV1, flag int) (*os.File, []byte, bool, error) {
	f, fi, err := openTarget(rec.Path, flag)
	if err != nil {
		return nil, nil, false, err
	}
	if fi.Size() != rec.Size && fi.Size() != rec.FaultedSize {
		return f, nil, fileID(fi) == rec.FileID, nil
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, fi.Size()+1))
	if err != nil {
		f.Close()
		return nil, nil, false, err
	}
	return f, b, fileID(fi) == rec.FileID, nil
}

// Verify reads the file back: it hashes to the faulted bytes, and parsed
// again the edited fields hold their new values.
func (Mutate) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := mutateStatus(r)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return ev, nil
}

// Status reports drift: the file no longer holds the faulted bytes.
func (Mutate) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return mutateStatus(r)
}

func mutateStatus(r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMutate(r)
	if err != nil {
		return nil, err
	}
	f, b, same, err := readMutated(rec, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rec.Path, err)
	}
	f.Close()
	if b == nil || !same || sumBytes(b) != rec.Faulted {
		return nil, fmt.Errorf("%s no longer holds the faulted bytes (sha256 %s)", rec.Path, rec.Faulted)
	}
	recs, err := rec.Layout.parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: parse the faulted file: %w", rec.Path, err)
	}
	ev := []bulwark.Evidence{fault.Evidence("file-bytes", true, "%s has sha256 %s (the faulted bytes; original %s)", rec.Path, rec.Faulted, rec.Original)}
	for _, e := range rec.Edits {
		if e.Record > len(recs) || e.Field > len(recs[e.Record-1].values) || recs[e.Record-1].values[e.Field-1] != strings.TrimSpace(e.New) && recs[e.Record-1].values[e.Field-1] != e.New {
			return nil, fmt.Errorf("%s: record %d field %d does not read back as the new value", rec.Path, e.Record, e.Field)
		}
		ev = append(ev, fault.Evidence("field-changed", true, "record %d field %d%s reads back as the new value (sha256 %s; was sha256 %s)",
			e.Record, e.Field, named(e.Name), sumBytes([]byte(e.New)), sumBytes([]byte(e.Old))))
	}
	return ev, nil
}

func named(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

// Recover writes the original bytes back, compare-and-swap: only into the
// same file and only while it holds the faulted bytes (or bulwark's own
// interrupted write), by the compensating undo (checked against the
// original hash; the backup otherwise). Anything else is a *ConflictError.
func (Mutate) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeMutate(r)
	if err != nil {
		return err
	}
	s := storeFor(h, rec.FaultID)
	writing, err := exists(s.marker())
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	haveBackup, err := exists(s.backup())
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	f, b, same, err := readMutated(rec, os.O_RDWR)
	if err != nil {
		if haveBackup {
			return &ConflictError{Path: rec.Path, Current: describePath(rec.Path), Faulted: rec.Faulted, Original: rec.Original, Backup: s.backup()}
		}
		return s.removeAll()
	}
	defer f.Close()
	sum := ""
	if b != nil {
		sum = sumBytes(b)
	}
	switch {
	case same && (writing || sum == rec.Faulted):
		if !haveBackup {
			return fmt.Errorf("recover %s: it holds the faulted bytes but the backup %s is gone; restore the file by hand", rec.Path, s.backup())
		}
		if err := restoreMutated(f, b, sum, rec, s.backup()); err != nil {
			return fmt.Errorf("recover %s: %w", rec.Path, err)
		}
	case sum == rec.Original:
	case haveBackup:
		cur := "sha256 " + sum
		if b == nil {
			cur = "of another size"
		}
		return &ConflictError{Path: rec.Path, Current: cur, Faulted: rec.Faulted, Original: rec.Original, Backup: s.backup()}
	}
	return s.removeAll()
}

// restoreMutated computes the original bytes (the undo of the faulted
// ones, or the backup after an interrupted write) and writes them back.
func restoreMutated(f *os.File, cur []byte, sum string, rec mutateReceiptV1, backup string) error {
	var orig []byte
	if sum == rec.Faulted {
		if u, err := undo(cur, rec.Edits); err == nil && sumBytes(u) == rec.Original {
			orig = u
		}
	}
	if orig == nil {
		b, err := os.ReadFile(backup)
		if err != nil || sumBytes(b) != rec.Original {
			return fmt.Errorf("backup %s is damaged or unreadable (%v); the file was left as it is", backup, err)
		}
		orig = b
	}
	if err := writeAll(f, orig, rec.ModTime); err != nil {
		return err
	}
	back, err := io.ReadAll(io.NewSectionReader(f, 0, rec.Size+1))
	if err != nil || !bytes.Equal(back, orig) {
		return fmt.Errorf("read back restored file: %v", err)
	}
	return nil
}

// VerifyRecovered checks the backup is gone and says whether the file holds
// the original bytes.
func (Mutate) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMutate(r)
	if err != nil {
		return nil, err
	}
	if err := storeFor(h, rec.FaultID).leftovers(); err != nil {
		return nil, fmt.Errorf("verify recovered %s: %w", rec.Path, err)
	}
	if f, b, _, err := readMutated(rec, os.O_RDONLY); err == nil {
		f.Close()
		if b != nil && sumBytes(b) == rec.Original {
			return []bulwark.Evidence{fault.Evidence("file-restored", true, "%s has sha256 %s, the original bytes (%d bytes); backup removed", rec.Path, rec.Original, rec.Size)}, nil
		}
	}
	return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is %s, not the original: changed by someone else and its backup removed by hand to keep it, or changed after the fault ended; nothing of the fault is left", rec.Path, describePath(rec.Path))}, nil
}

// decodeMutate decodes every receipt version this binary knows.
func decodeMutate(r *fault.Receipt) (mutateReceiptV1, error) {
	var rec mutateReceiptV1
	if err := decodeData(r, &rec); err != nil {
		return rec, err
	}
	return rec, checkFaultID(r.Kind, rec.FaultID)
}

var (
	_ fault.Kind         = Mutate{}
	_ fault.Availability = Mutate{}
	_ fault.Statuser     = Mutate{}
	_ fault.Validator    = (*MutateParams)(nil)
)
