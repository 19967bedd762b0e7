package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// ConflictError is returned by Recover when the file holds neither the
// faulted nor the original bytes: someone changed it while the fault was
// active. The file is left as they wrote it and the original stays in
// Backup; the fault is stuck until a person resolves it.
type ConflictError struct {
	Path     string
	Current  string // "sha256 …", or what is at the path instead
	Faulted  string
	Original string
	Backup   string
	// Resolve, when set, says how a person ends the conflict, for kinds
	// whose undo is not a backup copy; Current, Faulted and Original are
	// then descriptions ("mode 0600") rather than bare hashes.
	Resolve string
}

// Error implements error.
func (e *ConflictError) Error() string {
	if e.Resolve != "" {
		return fmt.Sprintf("conflict: %s was changed by someone else while the fault was active (it is %s; the fault left %s; the original is %s), so it was not overwritten; %s",
			e.Path, e.Current, e.Faulted, e.Original, e.Resolve)
	}
	return fmt.Sprintf("conflict: %s was changed by someone else while the fault was active (it is %s; the fault left sha256 %s; the original is sha256 %s), so it was not overwritten; "+
		"the original is kept at %s: copy it back to restore the file, or delete it to keep the current contents, and the next retry ends the fault",
		e.Path, e.Current, e.Faulted, e.Original, e.Backup)
}

// current is what the target path holds now.
type current struct {
	f    *os.File // open when the path is a regular file
	same bool     // the same file (device and inode) the fault changed
	sum  string   // SHA-256 of its bytes; empty when not worth hashing
	what string   // what the path holds when sum is empty
}

func (c current) describe() string {
	if c.sum != "" {
		return "sha256 " + c.sum
	}
	return c.what
}

// openCurrent opens the target with flag and hashes it when its size is one
// the fault knows (the original's or the faulted one's). The caller closes
// c.f.
func openCurrent(rec corruptReceiptV1, flag int) (current, error) {
	f, fi, err := openTarget(rec.Path, flag)
	if err != nil {
		li, lerr := os.Lstat(rec.Path)
		switch {
		case errors.Is(lerr, fs.ErrNotExist):
			return current{what: "missing"}, nil
		case lerr == nil && !li.Mode().IsRegular():
			return current{what: fmt.Sprintf("no longer a regular file (%s)", li.Mode().Type())}, nil
		}
		return current{}, err
	}
	c := current{f: f, same: fileID(fi) == rec.FileID}
	if fi.Size() != rec.Size && fi.Size() != rec.Plan.faultedSize(rec.Size) {
		c.what = fmt.Sprintf("%d bytes long", fi.Size())
		return c, nil
	}
	if c.sum, err = hashOf(io.NewSectionReader(f, 0, fi.Size()+1)); err != nil {
		f.Close()
		return current{}, err
	}
	return c, nil
}

// readCurrent is openCurrent for reading only, closing the file.
func readCurrent(rec corruptReceiptV1) (current, error) {
	c, err := openCurrent(rec, os.O_RDONLY)
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
	return c, err
}

// Recover is compare-and-swap: it writes the original bytes back only into
// the same file, and only while it holds the faulted bytes (or bulwark's own
// interrupted write); then it deletes the backup. A file already holding the
// original needs only the backup deleted. Anything else is a *ConflictError
// and nothing is overwritten.
func (Corrupt) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeCorrupt(r)
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
	cur, err := openCurrent(rec, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	if cur.f != nil {
		defer cur.f.Close()
	}
	switch {
	case cur.f != nil && cur.same && (writing || cur.sum == rec.Faulted):
		if !haveBackup {
			return fmt.Errorf("recover %s: it holds the faulted bytes but the backup %s is gone; restore the file by hand", rec.Path, s.backup())
		}
		if err := restore(cur.f, s.backup(), rec); err != nil {
			return fmt.Errorf("recover %s: %w", rec.Path, err)
		}
	case cur.sum == rec.Original:
		// Never changed, restored before a crash, or restored by hand.
	case haveBackup:
		return &ConflictError{Path: rec.Path, Current: cur.describe(), Faulted: rec.Faulted, Original: rec.Original, Backup: s.backup()}
	}
	// Without a backup and with other contents, the fault was recovered
	// earlier or a person removed the backup to keep what is there now.
	return s.remove()
}

// restore copies the changed span back from the backup (after checking the
// backup is intact), restores the size and the modification time, fsyncs,
// and checks the file hashes to the original.
func restore(f *os.File, backup string, rec corruptReceiptV1) error {
	b, err := os.Open(backup)
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer b.Close()
	if sum, err := hashOf(b); err != nil || sum != rec.Original {
		return fmt.Errorf("backup %s is damaged or unreadable (sha256 %s, want %s: %v); the file was left as it is", backup, sum, rec.Original, err)
	}
	start, end := rec.Plan.span(rec.Size)
	if _, err := io.CopyBuffer(io.NewOffsetWriter(f, start), io.NewSectionReader(b, start, end-start), make([]byte, chunk)); err != nil {
		return fmt.Errorf("write original bytes: %w", err)
	}
	if err := f.Truncate(rec.Size); err != nil {
		return fmt.Errorf("restore size: %w", err)
	}
	if err := setModTime(f, rec.ModTime); err != nil {
		return fmt.Errorf("restore modification time: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if sum, err := hashOf(io.NewSectionReader(f, 0, rec.Size+1)); err != nil || sum != rec.Original {
		return fmt.Errorf("read back restored file: sha256 %s, want the original %s: %v", sum, rec.Original, err)
	}
	return nil
}

// VerifyRecovered checks that the backup is gone and the file holds the
// original bytes (or, once the backup was removed by hand, whatever a person
// chose to keep).
func (Corrupt) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeCorrupt(r)
	if err != nil {
		return nil, err
	}
	s := storeFor(h, rec.FaultID)
	for _, p := range []string{s.backup(), s.marker(), s.dir} {
		if ok, err := exists(p); ok || err != nil {
			return nil, fmt.Errorf("verify recovered %s: %s is still there (%v)", rec.Path, p, err)
		}
	}
	cur, err := readCurrent(rec)
	if err != nil {
		return nil, fmt.Errorf("verify recovered %s: %w", rec.Path, err)
	}
	if cur.sum == rec.Original {
		return []bulwark.Evidence{fault.Evidence("file-restored", true, "%s has sha256 %s, the original bytes (%d bytes); backup removed", rec.Path, rec.Original, rec.Size)}, nil
	}
	return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is %s, not the original %s: it was changed by someone else and its backup removed by hand to keep it, or changed after the fault ended; nothing of the fault is left", rec.Path, cur.describe(), rec.Original)}, nil
}

// Status reports drift: the file no longer holds the faulted bytes.
func (Corrupt) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeCorrupt(r)
	if err != nil {
		return nil, err
	}
	cur, err := readCurrent(rec)
	if err != nil {
		return nil, fmt.Errorf("status %s: %w", rec.Path, err)
	}
	switch {
	case cur.sum == rec.Faulted && cur.same:
		return []bulwark.Evidence{fault.Evidence("file-bytes", true, "%s still holds the faulted bytes (sha256 %s)", rec.Path, rec.Faulted)}, nil
	case cur.sum == rec.Original:
		return nil, fmt.Errorf("%s holds the original bytes again: someone restored it", rec.Path)
	case cur.sum == rec.Faulted:
		return nil, fmt.Errorf("%s was replaced by another file (with the faulted bytes)", rec.Path)
	}
	return nil, fmt.Errorf("%s no longer holds the faulted bytes: it is %s (faulted %s, original %s)", rec.Path, cur.describe(), rec.Faulted, rec.Original)
}
